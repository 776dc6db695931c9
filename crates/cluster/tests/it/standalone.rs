use std::path::Path;

use ctq_sql::output::{OutputFormat, write_results};
use ctq_sql::{QueryResult, SessionOptions, TrailSession};
use ctq_store::{IngestOptions, ingest};
use ctq_testkit::{queries, sample_logs};

fn csv(result: &QueryResult) -> String {
    let mut out = Vec::new();
    write_results(
        &mut out,
        OutputFormat::Csv,
        &result.columns,
        &result.batches,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn saved_queries(dir: &Path) -> Vec<(String, String)> {
    ctq_sql::saved::load_folder(dir)
        .unwrap()
        .into_iter()
        .map(|q| (format!("{}.sql", q.name), q.sql))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_saved_query_gives_the_local_rows_on_ballista() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    let options = SessionOptions::default();
    let local = TrailSession::open_store(&store, &options).await.unwrap();
    let cluster = ctq_cluster::standalone(&store, &options).await.unwrap();
    let mut compared = 0;
    for (from, to) in [
        ("2019-10-29T06:40:00Z", "2019-10-29T06:55:00Z"),
        ("2019-10-28T00:00:00Z", "2019-10-31T00:00:00Z"),
    ] {
        for (name, sql) in saved_queries(&queries()) {
            let mut params = vec![
                ("from".to_string(), from.to_string()),
                ("to".to_string(), to.to_string()),
            ];
            if sql.contains("$arn") {
                params.push((
                    "arn".to_string(),
                    "arn:aws:iam::123456789012:user/username".to_string(),
                ));
            }
            let expected = local.query(&sql, &params).await.unwrap();
            let actual = cluster
                .query(&sql, &params)
                .await
                .unwrap_or_else(|e| panic!("{name} on the cluster: {e}"));
            compared += expected.row_count();
            assert_eq!(csv(&actual), csv(&expected), "{name} over {from}..{to}");
        }
    }
    assert!(compared > 20, "only {compared} rows compared");
}
