//! Each file of `queries/` run over `sample-logs/`, its whole output kept as a snapshot.

use crate::support::*;

const WINDOW: [&str; 4] = [
    "--param",
    "from=2019-10-29T06:40:00Z",
    "--param",
    "to=2019-10-29T06:55:00Z",
];
const TRAIL: [&str; 4] = [
    "--param",
    "from=2019-10-28T00:00:00Z",
    "--param",
    "to=2019-10-31T00:00:00Z",
];

fn snapshot_run(file: &str, params: &[&str]) -> String {
    let path = format!("queries/{file}");
    let mut args = vec!["query", "-f", path.as_str(), "--source", "sample-logs"];
    args.extend_from_slice(params);
    let output = ctq(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    format!(
        "$ ctq {}\n{}--- stderr\n{}",
        args.join(" "),
        stdout(&output),
        stderr(&output)
    )
}

#[test]
fn every_saved_query_has_a_snapshot() {
    let files: Vec<String> = ctq_sql::saved::load_folder(&repo().join("queries"))
        .unwrap()
        .into_iter()
        .map(|q| format!("{}.sql", q.name))
        .collect();
    assert_eq!(
        files,
        [
            "access-denied-all-principals.sql",
            "access-denied.sql",
            "denials-by-principal.sql",
            "errors-in-window.sql",
            "top-denied-actions.sql"
        ],
        "a new saved query needs its snapshot test below"
    );
}

#[test]
fn access_denied() {
    let mut params = vec!["--param", "arn=arn:aws:iam::123456789012:user/username"];
    params.extend(WINDOW);
    insta::assert_snapshot!(snapshot_run("access-denied.sql", &params));
}

#[test]
fn access_denied_all_principals() {
    insta::assert_snapshot!(snapshot_run("access-denied-all-principals.sql", &WINDOW));
}

#[test]
fn errors_in_window() {
    insta::assert_snapshot!(snapshot_run("errors-in-window.sql", &WINDOW));
}

#[test]
fn denials_by_principal() {
    insta::assert_snapshot!(snapshot_run("denials-by-principal.sql", &TRAIL));
}

#[test]
fn top_denied_actions() {
    insta::assert_snapshot!(snapshot_run("top-denied-actions.sql", &TRAIL));
}
