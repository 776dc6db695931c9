//! The path columns: what the delivery path says, as each DDL AWS publishes names it, and
//! pruning by them during a folder walk.

use std::collections::BTreeMap;
use std::ops::Bound;

use arrow_array::{Array, StringArray};
use ctq_ingest::{ColumnSet, PATH_COLUMNS, Pruning, ScanOptions, discover};

use crate::support::*;

const ORG_FILE: &str = "AWSLogs/o-a1b2c3d4e5/210987654321/CloudTrail/eu-west-1/2023/03/28/210987654321_CloudTrail_eu-west-1_20230328T0005Z_abcdefghijklmnop.json.gz";
/// In the layout down to the month only: the day, and so the date text, is unknown.
const NO_DAY_FILE: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2023/03/x.json";

/// A trail of three files: one in the S3 layout, one in it without a day folder, one outside.
fn trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ORG_FILE,
        &gzip(&records_file(&[
            record("org-1", None),
            record("org-2", None),
        ])),
    );
    write(
        dir.path(),
        NO_DAY_FILE,
        &records_file(&[record("no-day", None)]),
    );
    write(
        dir.path(),
        "downloads/events.json",
        &records_file(&[record("outside", None)]),
    );
    dir
}

/// `eventid` → the values of `columns`, from every batch.
fn rows(scanned: &Scanned, columns: &[&str]) -> BTreeMap<String, Vec<Option<String>>> {
    let mut out = BTreeMap::new();
    for batch in &scanned.batches {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone()
        };
        let ids = text("eventid");
        let values: Vec<StringArray> = columns.iter().map(|c| text(c)).collect();
        for row in 0..batch.num_rows() {
            let cells = values
                .iter()
                .map(|a| a.is_valid(row).then(|| a.value(row).to_string()))
                .collect();
            out.insert(ids.value(row).to_string(), cells);
        }
    }
    out
}

fn some(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

#[test]
fn every_ddls_path_columns_come_from_the_delivery_path() {
    let dir = trail();
    let scanned = scan(&[dir.path().to_path_buf()]);
    let got = rows(&scanned, &PATH_COLUMNS);
    let org = some(&[
        "210987654321",
        "eu-west-1",
        "2023",
        "03",
        "28",
        "2023/03/28",
        "2023/03/28",
        "eu-west-1",
        "210987654321",
    ]);
    assert_eq!(got["org-1"], org);
    assert_eq!(got["org-2"], org);
    // The events are from 2019 (the record's eventTime): the path, not the event, decides.
    assert_eq!(
        got["no-day"],
        [
            Some("123456789012".to_string()),
            Some("us-east-1".into()),
            Some("2023".into()),
            Some("03".into()),
            None,
            None,
            None,
            Some("us-east-1".into()),
            Some("123456789012".into()),
        ]
    );
    assert_eq!(got["outside"], vec![None; PATH_COLUMNS.len()]);
}

#[test]
fn a_scan_of_some_path_columns_builds_only_those() {
    let dir = trail();
    let columns = ColumnSet::NONE
        .with_name("eventid")
        .with_name("date_partition")
        .with_name("account_partition");
    let options = ScanOptions {
        columns,
        ..ScanOptions::default()
    };
    let scanned = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
    for batch in &scanned.batches {
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, ["eventid", "date_partition", "account_partition"]);
    }
    let got = rows(&scanned, &["date_partition", "account_partition"]);
    assert_eq!(got["org-1"], some(&["2023/03/28", "210987654321"]));
    assert_eq!(got["no-day"], [None, Some("123456789012".to_string())]);
    assert_eq!(got["outside"], [None, None]);
}

/// Names of the files a walk keeps, relative to the trail.
fn kept(dir: &tempfile::TempDir, pruning: &Pruning) -> Vec<String> {
    let discovery = discover(&[dir.path().to_path_buf()], pruning).unwrap();
    let mut names: Vec<String> = discovery
        .files
        .iter()
        .map(|f| {
            f.path
                .strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_walk_skips_the_days_a_date_text_rules_out() {
    let dir = tempfile::tempdir().unwrap();
    for day in ["2023/02/28", "2023/03/01", "2023/03/28", "2024/01/01"] {
        let compact = day.replace('/', "");
        write(
            dir.path(),
            &format!(
                "AWSLogs/123456789012/CloudTrail/us-east-1/{day}/123456789012_CloudTrail_us-east-1_{compact}T0005Z_a.json.gz"
            ),
            &gzip(&records_file(&[record(day, None)])),
        );
    }
    write(
        dir.path(),
        "outside.json",
        &records_file(&[record("o", None)]),
    );
    let days = |pruning: &Pruning| -> Vec<String> {
        kept(&dir, pruning)
            .into_iter()
            .map(|p| match p.split('/').collect::<Vec<_>>().as_slice() {
                [.., y, m, d, _] if p.starts_with("AWSLogs") => format!("{y}/{m}/{d}"),
                _ => p,
            })
            .collect()
    };
    let mut equal = Pruning::default();
    equal.restrict_dates(["2023/03/28".to_string()]);
    assert_eq!(days(&equal), ["2023/03/28", "outside.json"]);
    let mut from = Pruning::default();
    from.raise_date_from(Bound::Included("2023/03/01".into()));
    assert_eq!(
        days(&from),
        ["2023/03/01", "2023/03/28", "2024/01/01", "outside.json"]
    );
    let mut within = from.clone();
    within.lower_date_to(Bound::Excluded("2023/03/28".into()));
    assert_eq!(days(&within), ["2023/03/01", "outside.json"]);
    let mut before = Pruning::default();
    before.lower_date_to(Bound::Excluded("2023/03".into()));
    assert_eq!(days(&before), ["2023/02/28", "outside.json"]);
}
