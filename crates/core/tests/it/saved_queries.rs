//! Each file of `queries/` run over `sample-logs/`, its whole output kept as a snapshot
//! (`saved_query@<file>.snap`). The files are found by `insta::glob!` and their parameters read
//! from the SQL, so a new saved query is tested, and needs a snapshot, without editing this file.

use crate::support::*;

/// The article's window, where its own query finds its two rows.
#[test]
fn saved_query() {
    each_saved_query("saved_query", &[]);
}

/// The whole sample trail (28 to 31 October), where the summaries have the most to count.
#[test]
fn saved_query_over_the_whole_trail() {
    each_saved_query(
        "saved_query_over_the_whole_trail",
        &[
            ("from", "2019-10-28T00:00:00Z"),
            ("to", "2019-10-31T00:00:00Z"),
        ],
    );
}

/// Runs each file of `queries/` with the sample values, `overrides` first, and snapshots what
/// it prints as `<snapshot>@<file>`.
fn each_saved_query(snapshot: &str, overrides: &[(&str, &str)]) {
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
            .map(|name| {
                let value = overrides
                    .iter()
                    .find(|(known, _)| known == name)
                    .map_or_else(|| sample_value(name), |(_, value)| *value);
                format!("{name}={value}")
            })
            .collect();
        for param in &params {
            args.extend(["--param", param.as_str()]);
        }
        let output = ctq(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        insta::assert_snapshot!(
            snapshot,
            format!(
                "$ ctq {}\n{}--- stderr\n{}",
                args.join(" "),
                stdout(&output),
                stderr(&output)
            )
        );
    });
}
