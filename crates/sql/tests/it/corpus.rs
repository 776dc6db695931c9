//! The published Athena and CloudTrail Lake queries of `../shared/athena-queries` (AWS's guides and
//! playbooks, Security Analytics Bootstrap, and others), run as analysts paste them, over a
//! generated trail: table names mapped with `--table`/`--lake-table` as the queries write them,
//! placeholders filled as the corpus's SOURCES.md says, with values present in the trail.
//! Skipped, saying so, when the corpus is not there.

use std::path::{Path, PathBuf};

use ctq_sql::{SessionOptions, TrailSession};

use crate::support::{column, skip};

/// Queries that are broken as published, why, and whether ctq runs them anyway.
const BROKEN_ATHENA: &[(&str, &str, Outcome)] = &[
    (
        "014-s3-docs-acl-required.sql",
        "the table placeholder cloudtrail_DOC-EXAMPLE-BUCKET1_table has hyphens: not an identifier",
        Outcome::Fails,
    ),
    (
        "034-irp-data-top-accessors-bytes.sql",
        "dot access into the JSON text column additionalEventData (Athena rejects it)",
        Outcome::Runs,
    ),
    (
        "039-irp-ransom-bulk-delete-having-alias.sql",
        "HAVING refers to a select-list alias (Trino rejects it; DataFusion resolves it)",
        Outcome::Runs,
    ),
    (
        "041-irp-pdb-macie-correlation-alias.sql",
        "dot access into the JSON text columns requestParameters and additionalEventData",
        Outcome::Runs,
    ),
    (
        "042-irp-pdb-volume-count-distinct.sql",
        "dot access into the JSON text column requestParameters",
        Outcome::Runs,
    ),
    (
        "043-irp-pdb-non-aws-ip-not-like.sql",
        "dot access into the JSON text columns requestParameters and additionalEventData",
        Outcome::Runs,
    ),
    (
        "053-et-api-errors.sql",
        "`from <table> and year = ...`: no WHERE",
        Outcome::Fails,
    ),
    (
        "062-et-create-iam-principals.sql",
        "typo `evenname` (no such column) and count(*) beside columns without GROUP BY",
        Outcome::Fails,
    ),
    (
        "063-et-add-update-credentials.sql",
        "a missing comma joins two string literals across a newline",
        Outcome::Fails,
    ),
];

const BROKEN_LAKE: &[(&str, &str, Outcome)] = &[
    (
        "007-lake-docs-multi-eds-left-join.sql",
        "reads the column `map`, which no CloudTrail Lake schema has (the documentation's illustration)",
        Outcome::Fails,
    ),
    (
        "013-lake-samples-top-errors.sql",
        "`errorMessageORDER BY eventCount DESCLIMIT 10`: whitespace lost",
        Outcome::Fails,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Runs,
    Fails,
}

/// The event data store id the Lake queries are given, as Lake shows ids: with hyphens.
const EDS_ID: &str = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/athena-queries");
    dir.join("SOURCES.md").exists().then_some(dir)
}

/// Two days of July 2021 (the days the Security Analytics Bootstrap and IR workshop queries
/// name), two accounts, two regions.
fn generate_trail(dir: &Path) {
    ctq_trailgen::generate(&ctq_trailgen::Settings {
        out: dir.to_path_buf(),
        start: "2021-07-22".to_string(),
        days: 2,
        accounts: 2,
        regions: 2,
        files_per_hour: 1,
        mean_records: 24.0,
        ..ctq_trailgen::Settings::default()
    })
    .unwrap();
}

fn sql_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The first value of a one-column query, a value present in the trail.
async fn present(session: &TrailSession, sql: &str) -> String {
    let result = session.query(sql, &[]).await.unwrap();
    column(&result, &result.columns[0].clone())
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the trail has no value for {sql}"))
}

/// SOURCES.md's substitution guide, with values from the trail.
async fn substitutions(session: &TrailSession) -> Vec<(String, String)> {
    let access_key = present(
        session,
        "SELECT useridentity.accesskeyid FROM cloudtrail WHERE useridentity.accesskeyid LIKE 'AKIA%' \
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .await;
    let role_id = present(
        session,
        "SELECT useridentity.principalid FROM cloudtrail WHERE useridentity.principalid LIKE 'AROA%' \
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .await;
    let principal = present(
        session,
        "SELECT useridentity.arn FROM cloudtrail WHERE eventsource = 's3.amazonaws.com' \
         AND useridentity.arn IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .await;
    let bucket = present(
        session,
        "SELECT json_extract_scalar(requestparameters, '$.bucketName') FROM cloudtrail \
         WHERE eventname = 'GetObject' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .await;
    let escaped_arn = principal
        .rsplit_once('/')
        .map_or(principal.clone(), |(role, _)| role.replace('/', "\\/"));
    let pairs = [
        ("'START_TIME'", "'2021-07-22T00:00:00Z'".to_string()),
        ("'END_TIME'", "'2021-07-24T00:00:00Z'".to_string()),
        ("year = '####'", "year = '2021'".to_string()),
        ("month = '##'", "month = '07'".to_string()),
        ("day = '##'", "day = '22'".to_string()),
        ("year = 'xxxx'", "year = '2021'".to_string()),
        ("month = 'xx'", "month = '07'".to_string()),
        ("day = 'xx'", "day = '22'".to_string()),
        ("AKIAIOSFODNN7EXAMPLE", access_key.clone()),
        ("AKIAxxxxxxxxxxxxxxxx", access_key),
        ("AROA…", role_id),
        ("SUSPECTED_PRINCIPAL", principal.clone()),
        ("SUSPECT_PRINCIPAL", principal),
        ("BUCKET_NAME", bucket),
        ("'111122223333'", "'111111111111'".to_string()),
        ("{num_days}", "-7".to_string()),
        ("{escaped_arn}", escaped_arn),
        // CloudTrail Lake: the event data store id, quoted as an identifier with hyphens is.
        ("event_data_store_ID", format!("\"{EDS_ID}\"")),
        ("<event_data_store_id>", format!("\"{EDS_ID}\"")),
        ("<event-data-store-ID>", format!("\"{EDS_ID}\"")),
        ("<EDS ID>", format!("\"{EDS_ID}\"")),
        ("$EDS_ID", format!("\"{EDS_ID}\"")),
        ("${date_filter}", "2021-07-22 00:00:00".to_string()),
    ];
    pairs
        .into_iter()
        .map(|(from, to)| (from.to_string(), to))
        .collect()
}

fn fill(sql: &str, substitutions: &[(String, String)]) -> String {
    substitutions
        .iter()
        .fold(sql.to_string(), |sql, (from, to)| sql.replace(from, to))
}

struct Tally {
    valid: usize,
    ran: usize,
    failures: Vec<String>,
    with_rows: usize,
}

async fn run_folder(
    session: &TrailSession,
    dir: &Path,
    broken: &[(&str, &str, Outcome)],
    substitutions: &[(String, String)],
) -> Tally {
    let mut tally = Tally {
        valid: 0,
        ran: 0,
        failures: Vec::new(),
        with_rows: 0,
    };
    let files = sql_files(dir);
    for (name, _, _) in broken {
        assert!(
            files.iter().any(|(file, _)| file == name),
            "{name} is listed as broken but is not in {}",
            dir.display()
        );
    }
    for (name, text) in &files {
        let sql = fill(text, substitutions);
        let result = session.query(&sql, &[]).await;
        let known_broken = broken.iter().find(|(file, _, _)| file == name);
        match (known_broken, &result) {
            (Some((_, reason, expected)), _) => {
                let outcome = if result.is_ok() {
                    Outcome::Runs
                } else {
                    Outcome::Fails
                };
                assert_eq!(
                    outcome,
                    *expected,
                    "{name} (broken as published: {reason}) {}",
                    match &result {
                        Ok(_) => "now runs: update the list".to_string(),
                        Err(e) => format!("fails: {e}"),
                    }
                );
                eprintln!("  {name}: broken as published ({reason}); here it {outcome:?}");
            }
            (None, Ok(rows)) => {
                tally.valid += 1;
                tally.ran += 1;
                if rows.row_count() > 0 {
                    tally.with_rows += 1;
                }
                eprintln!("  {name}: {} rows", rows.row_count());
            }
            (None, Err(e)) => {
                tally.valid += 1;
                tally.failures.push(format!("{name}: {e}"));
                eprintln!("  {name}: FAILED: {e}");
            }
        }
    }
    tally
}

#[tokio::test]
async fn published_queries_run_as_pasted() {
    let Some(corpus) = corpus() else {
        skip("../shared/athena-queries is not present");
        return;
    };
    let trail = tempfile::tempdir().unwrap();
    generate_trail(trail.path());
    let options = SessionOptions {
        // The table names the queries use, as they write them.
        extra_table_names: [
            "s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table",
            "s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table_partitioned",
            "s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket_table",
            "\"irworkshopgluedatabase\".\"irworkshopgluetablecloudtrail\"",
            "cloudtrail_000000000000",
            "aws_logs.cloudtrail",
        ]
        .map(String::from)
        .to_vec(),
        lake_table_names: [EDS_ID, "EDS1", "EDS2", "EDS3"].map(String::from).to_vec(),
        ..SessionOptions::default()
    };
    let session = TrailSession::open(&[trail.path().to_path_buf()], &options)
        .await
        .unwrap();
    let substitutions = substitutions(&session).await;

    eprintln!("athena/:");
    let athena = run_folder(
        &session,
        &corpus.join("athena"),
        BROKEN_ATHENA,
        &substitutions,
    )
    .await;
    eprintln!("lake/:");
    let lake = run_folder(&session, &corpus.join("lake"), BROKEN_LAKE, &substitutions).await;
    for (folder, tally) in [("athena", &athena), ("lake", &lake)] {
        eprintln!(
            "{folder}: {} of {} valid queries ran ({} returned rows)",
            tally.ran, tally.valid, tally.with_rows
        );
    }
    assert_eq!(athena.valid, 61, "the corpus has 61 valid Athena queries");
    assert!(
        athena.failures.is_empty(),
        "valid Athena queries that fail:\n{}",
        athena.failures.join("\n")
    );
    assert!(
        lake.failures.is_empty(),
        "valid Lake queries that fail:\n{}",
        lake.failures.join("\n")
    );
    // Not vacuous: the substitutions find the trail's principals, keys, buckets and days, so a
    // good share of the queries return rows (the rest look for events the trail lacks).
    assert!(
        athena.with_rows * 3 > athena.valid,
        "only {} of {} Athena queries returned rows",
        athena.with_rows,
        athena.valid
    );
}
