//! Each file of `queries/` run over `sample-logs/`, its whole output kept as a snapshot
//! (`saved_query@<file>.snap`). The files are found by `insta::glob!` and their parameters read
//! from the SQL, so a new saved query is tested, and needs a snapshot, without editing this file.

use crate::support::*;

#[test]
fn saved_query() {
    let parameters = saved_query_parameters();
    insta::glob!("../../../../queries", "*.sql", |path| {
        let file = path.file_name().unwrap().to_str().unwrap();
        let name = file.trim_end_matches(".sql");
        let (_, names) = parameters
            .iter()
            .find(|(query, _)| query == name)
            .unwrap_or_else(|| panic!("{file} is not a saved query of queries/"));
        let file = format!("queries/{file}");
        let mut args = vec!["query", "-f", file.as_str(), "--source", "sample-logs"];
        let params: Vec<String> = names
            .iter()
            .map(|name| format!("{name}={}", sample_value(name)))
            .collect();
        for param in &params {
            args.extend(["--param", param.as_str()]);
        }
        let output = ctq(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        insta::assert_snapshot!(format!(
            "$ ctq {}\n{}--- stderr\n{}",
            args.join(" "),
            stdout(&output),
            stderr(&output)
        ));
    });
}
