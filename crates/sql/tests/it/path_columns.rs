//! The partition columns of every DDL AWS publishes (`timestamp`, `date_partition`,
//! `region_partition`, `account_partition`) hold what the delivery path says, and a filter on
//! them reads only the files it can need, from disk and from S3.

use std::path::Path;

use ctq_sql::{SessionOptions, TrailSession};
use ctq_testkit::write_trail_file;
use serde_json::json;

const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
const DAYS: [&str; 2] = ["2023/03/28", "2023/03/29"];

/// Eight files, one per account, region and delivery day, each with one record whose eventID
/// names them (`111111111111-eu-west-1-0328`). Every event happened the day before its
/// delivery day, at 23:59, so the path's date and the event's date differ.
fn trail(dir: &Path) {
    for account in ACCOUNTS {
        for region in REGIONS {
            for day in DAYS {
                let compact = day.replace('/', "");
                let (y, m, d) = (&compact[..4], &compact[4..6], &compact[6..]);
                let previous = format!("{y}-{m}-{:02}", d.parse::<u32>().unwrap() - 1);
                let record = json!({
                    "eventVersion": "1.08",
                    "eventTime": format!("{previous}T23:59:00Z"),
                    "eventSource": "s3.amazonaws.com",
                    "eventName": "ListBuckets",
                    "awsRegion": region,
                    "eventID": format!("{account}-{region}-{}", &compact[4..]),
                    "eventType": "AwsApiCall",
                    "recipientAccountId": account,
                });
                write_trail_file(
                    dir,
                    account,
                    region,
                    &format!("{compact}T0005Z"),
                    "abcdefghijklmnop",
                    &[record],
                );
            }
        }
    }
}

fn local_trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    trail(dir.path());
    dir
}

/// The query's rows as CSV, and how many files it read (a new session each time, so the count
/// is this query's).
async fn run_on(source: &Path, options: &SessionOptions, sql: &str) -> (Vec<String>, usize) {
    // `source` is a folder or `s3://…`, as on the command line.
    let source = ctq_s3::TrailLocation::from_arg(source).unwrap();
    let session = TrailSession::open(&[source], options).await.unwrap();
    let result = session
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    (rows_of(&result), session.file_outcomes().files_read())
}

/// `eventid`s of the rows of `WHERE <filter>`, and the files read.
async fn ids_where(source: &Path, options: &SessionOptions, filter: &str) -> (Vec<String>, usize) {
    run_on(
        source,
        options,
        &format!("SELECT eventid FROM cloudtrail WHERE {filter} ORDER BY eventid"),
    )
    .await
}

/// The eventIDs of the files with these accounts, regions and delivery days (`MMDD`).
fn ids(accounts: &[&str], regions: &[&str], days: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for a in accounts {
        for r in regions {
            for d in days {
                out.push(format!("{a}-{r}-{d}"));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_columns_hold_the_delivery_path() {
    let dir = local_trail();
    let (rows, read) = run_on(
        dir.path(),
        &SessionOptions::default(),
        "SELECT eventid, eventtime, timestamp, date_partition, region_partition, account_partition, \
         account, region FROM cloudtrail WHERE timestamp = '2023/03/28' AND account = '222222222222' \
         ORDER BY eventid",
    )
    .await;
    assert_eq!(
        rows,
        [
            "222222222222-eu-west-1-0328,2023-03-27T23:59:00Z,2023/03/28,2023/03/28,eu-west-1,222222222222,222222222222,eu-west-1",
            "222222222222-us-east-1-0328,2023-03-27T23:59:00Z,2023/03/28,2023/03/28,us-east-1,222222222222,222222222222,us-east-1",
        ]
    );
    assert_eq!(read, 2);
}

/// `timestamp` is a keyword of SQL; Athena's partition-projection DDL names a column so, and
/// its queries write it unquoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unquoted_timestamp_column_is_the_column() {
    let dir = local_trail();
    let options = SessionOptions::default();
    let (rows, read) = run_on(
        dir.path(),
        &options,
        "SELECT timestamp, count(*) FROM cloudtrail GROUP BY 1 ORDER BY 1",
    )
    .await;
    assert_eq!(rows, ["2023/03/28,4", "2023/03/29,4"]);
    assert_eq!(read, 8);
    let (rows, read) = ids_where(dir.path(), &options, "timestamp = '2023/03/28'").await;
    assert_eq!(rows, ids(&ACCOUNTS, &REGIONS, &["0328"]));
    assert_eq!(read, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_comparison_of_the_date_text_reads_only_its_days() {
    let dir = local_trail();
    let options = SessionOptions::default();
    let both = ids(&ACCOUNTS, &REGIONS, &["0328", "0329"]);
    let first = ids(&ACCOUNTS, &REGIONS, &["0328"]);
    let second = ids(&ACCOUNTS, &REGIONS, &["0329"]);
    let cases: [(&str, &Vec<String>, usize); 14] = [
        ("date_partition = '2023/03/29'", &second, 4),
        ("date_partition IN ('2023/03/29', '2023/04/01')", &second, 4),
        ("timestamp IN ('2023/03/28', '2023/03/29')", &both, 8),
        ("date_partition >= '2023/03/29'", &second, 4),
        ("date_partition > '2023/03/28'", &second, 4),
        ("date_partition < '2023/03/29'", &first, 4),
        ("date_partition <= '2023/03/28'", &first, 4),
        ("'2023/03/28' < date_partition", &second, 4),
        ("timestamp BETWEEN '2023/03/01' AND '2023/03/28'", &first, 4),
        (
            "date_partition >= '2021/07/01' AND date_partition <= '2023/03/28'",
            &first,
            4,
        ),
        // Text order: '2023/03/3' sorts after every day of March up to the 29th.
        ("date_partition >= '2023/03/3'", &Vec::new(), 0),
        ("date_partition > '2023'", &both, 8),
        // Understood by no pruning: every file is read, the rows are still right.
        ("date_partition LIKE '%/29'", &second, 8),
        ("date_partition <> '2023/03/28'", &second, 8),
    ];
    for (filter, expected, files) in cases {
        let (rows, read) = ids_where(dir.path(), &options, filter).await;
        assert_eq!(&rows, expected, "{filter}");
        assert_eq!(read, files, "files read for {filter}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_analytics_bootstrap_partitions_prune_together() {
    let dir = local_trail();
    let options = SessionOptions::default();
    let (rows, read) = ids_where(
        dir.path(),
        &options,
        "account_partition = '111111111111' AND region_partition IN ('us-east-1') \
         AND date_partition >= '2023/03/29' AND date_partition <= '2023/03/31'",
    )
    .await;
    assert_eq!(rows, ["111111111111-us-east-1-0329"]);
    assert_eq!(read, 1);
    let (rows, read) = ids_where(dir.path(), &options, "region_partition = 'eu-west-1'").await;
    assert_eq!(rows, ids(&ACCOUNTS, &["eu-west-1"], &["0328", "0329"]));
    assert_eq!(read, 4);
    let (rows, read) = ids_where(
        dir.path(),
        &options,
        "account_partition IN ('222222222222', '333333333333')",
    )
    .await;
    assert_eq!(rows, ids(&["222222222222"], &REGIONS, &["0328", "0329"]));
    assert_eq!(read, 4);
}

/// SAB's relative window (`019-sab-relative-date-add-partition.sql`) runs; its constant is
/// folded before the table sees it, so it prunes like a literal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_date_text_window_runs() {
    let dir = local_trail();
    let (rows, read) = ids_where(
        dir.path(),
        &SessionOptions::default(),
        "date_partition >= date_format(date_add('day', -30, current_timestamp), '%Y/%m/%d')",
    )
    .await;
    assert_eq!(rows, Vec::<String>::new(), "the trail is from 2023");
    assert_eq!(read, 0, "folded to a literal, the bound prunes every day");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_s3_the_listing_names_only_the_needed_days() {
    let dir = local_trail();
    let server = ctq_s3_testserver::TestS3::start().await;
    server.create_bucket("trail");
    server.put_tree("trail", "", dir.path());
    let options = crate::s3::s3_options(&server);
    let url = std::path::PathBuf::from("s3://trail/AWSLogs/");
    for (filter, expected, files) in [
        (
            "date_partition = '2023/03/29' AND region_partition = 'us-east-1'",
            ids(&ACCOUNTS, &["us-east-1"], &["0329"]),
            2,
        ),
        (
            "timestamp BETWEEN '2023/03/28' AND '2023/03/28'",
            ids(&ACCOUNTS, &REGIONS, &["0328"]),
            4,
        ),
        (
            "date_partition > '2023/03/28'",
            ids(&ACCOUNTS, &REGIONS, &["0329"]),
            4,
        ),
    ] {
        let (rows, read) = ids_where(&url, &options, filter).await;
        assert_eq!(rows, expected, "{filter}");
        assert_eq!(read, files, "files read for {filter}");
        let (local, _) = ids_where(dir.path(), &SessionOptions::default(), filter).await;
        assert_eq!(rows, local, "{filter}: S3 and disk agree");
    }
    // A one-day range lists that day's prefix in each region, not the regions' whole history.
    let session = TrailSession::open(&[ctq_s3::TrailLocation::from_arg(&url).unwrap()], &options)
        .await
        .unwrap();
    session
        .query(
            "SELECT eventid FROM cloudtrail WHERE timestamp BETWEEN '2023/03/29' AND '2023/03/29'",
            &[],
        )
        .await
        .unwrap();
    let trail = &session.s3_trails()[0];
    let lists = ctq_s3::S3Stats::get(&trail.stats.list_requests);
    // AWSLogs/, two accounts, their CloudTrail/ folders, then one day in each of four regions.
    assert_eq!(lists, 1 + 2 + 2 + 4, "list requests");
}

/// The store keeps the path columns as data columns: a query filtering them gives the raw
/// trail's rows (the store's own partitions are by event day, which differs here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_gives_the_raw_trails_rows_for_the_path_columns() {
    let dir = local_trail();
    let store_dir = tempfile::tempdir().unwrap();
    let store = store_dir.path().join("store");
    ctq_store::ingest(
        &[dir.path().to_path_buf()],
        &store,
        &ctq_store::IngestOptions::default(),
    )
    .unwrap();
    let raw = TrailSession::open(&[dir.path().to_path_buf()], &SessionOptions::default())
        .await
        .unwrap();
    let stored = TrailSession::open_store(&store, &SessionOptions::default())
        .await
        .unwrap();
    let columns = "eventid, timestamp, date_partition, region_partition, account_partition";
    for sql in [
        format!("SELECT {columns} FROM cloudtrail WHERE date_partition = '2023/03/29' ORDER BY 1"),
        format!(
            "SELECT {columns} FROM cloudtrail WHERE date_partition >= '2023/03/29' \
             AND region_partition = 'us-east-1' AND account_partition = '111111111111' ORDER BY 1"
        ),
        format!(
            "SELECT {columns} FROM cloudtrail WHERE timestamp BETWEEN '2023/03/01' AND '2023/03/28' ORDER BY 1"
        ),
        "SELECT timestamp, count(*) FROM cloudtrail GROUP BY 1 ORDER BY 1".to_string(),
    ] {
        let expected = rows_of(&raw.query(&sql, &[]).await.unwrap());
        let actual = rows_of(&stored.query(&sql, &[]).await.unwrap());
        assert!(!expected.is_empty(), "{sql}");
        assert_eq!(actual, expected, "{sql}");
    }
    let one = rows_of(
        &stored
            .query(
                &format!(
                    "SELECT {columns} FROM cloudtrail WHERE date_partition = '2023/03/28' \
                     AND account_partition = '222222222222' AND region_partition = 'eu-west-1'"
                ),
                &[],
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        one,
        ["222222222222-eu-west-1-0328,2023/03/28,2023/03/28,eu-west-1,222222222222"]
    );
}

/// A store written before these columns existed: its files lack them, and they read as NULL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_written_without_the_new_columns_reads_them_as_null() {
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    const NEW: [&str; 4] = [
        "timestamp",
        "date_partition",
        "region_partition",
        "account_partition",
    ];
    let dir = local_trail();
    let store_dir = tempfile::tempdir().unwrap();
    let store = store_dir.path().join("store");
    ctq_store::ingest(
        &[dir.path().to_path_buf()],
        &store,
        &ctq_store::IngestOptions::default(),
    )
    .unwrap();
    let mut rewritten = 0;
    for path in parquet_files(&store) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<_> = reader.map(Result::unwrap).collect();
        let schema = batches[0].schema();
        let keep: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| !NEW.contains(&schema.field(i).name().as_str()))
            .collect();
        assert_eq!(keep.len(), schema.fields().len() - NEW.len());
        let old_schema = std::sync::Arc::new(schema.project(&keep).unwrap());
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), old_schema, None).unwrap();
        for batch in &batches {
            writer.write(&batch.project(&keep).unwrap()).unwrap();
        }
        writer.close().unwrap();
        rewritten += 1;
    }
    assert!(rewritten > 0);
    // A store of that age recorded no data file sizes either.
    let manifest_path = ctq_store::Manifest::path(&store);
    let mut manifest: ctq_store::Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for file in manifest.files.values_mut() {
        file.bytes = None;
    }
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let stored = TrailSession::open_store(&store, &SessionOptions::default())
        .await
        .unwrap();
    let rows = rows_of(
        &stored
            .query(
                "SELECT eventid, account, timestamp, date_partition, region_partition, \
                 account_partition FROM cloudtrail WHERE region = 'us-east-1' \
                 AND account = '111111111111' ORDER BY 1",
                &[],
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        rows,
        [
            "111111111111-us-east-1-0328,111111111111,,,,",
            "111111111111-us-east-1-0329,111111111111,,,,",
        ]
    );
    let filtered = stored
        .query(
            "SELECT eventid FROM cloudtrail WHERE date_partition = '2023/03/28'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(filtered.row_count(), 0);
}

/// Rows as `,`-joined cells, NULL as nothing: independent of the output formats' quoting.
fn rows_of(result: &ctq_sql::QueryResult) -> Vec<String> {
    use ctq_sql::arrow::array::{Array, StringArray};
    use ctq_sql::arrow::compute::cast;
    use ctq_sql::arrow::datatypes::DataType;
    let mut rows = Vec::new();
    for batch in &result.batches {
        let columns: Vec<StringArray> = batch
            .columns()
            .iter()
            .map(|c| {
                cast(c, &DataType::Utf8)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone()
            })
            .collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<&str> = columns
                .iter()
                .map(|c| if c.is_valid(row) { c.value(row) } else { "" })
                .collect();
            rows.push(cells.join(","));
        }
    }
    rows
}

fn parquet_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out
}
