//! A partial read of the trail (`TrailSession::register_partial_read`): a column is read for the
//! failed calls and the calls named, and left null for the others; a store reads it whole. A
//! window held in memory the same way (`TrailSession::cache_window`) holds the same rows from
//! trail files and from a store.

use ctq_sql::{SessionOptions, TrailSession};

use crate::support::{csv_rows, sample_logs};

/// Every record's event ID and request parameters, as `table` gives them, in ID order.
async fn requests(session: &TrailSession, table: &str, condition: &str) -> Vec<String> {
    let sql = format!(
        "SELECT eventid, eventname, errorcode, requestparameters FROM {table} \
         WHERE {condition} ORDER BY eventid, eventname, requestparameters"
    );
    csv_rows(&session.query(&sql, &[]).await.unwrap())
}

/// Registers `partial`: request parameters of failed calls and `AssumeRole*` calls only.
async fn read_partially(session: &TrailSession) {
    session
        .register_partial_read("partial", &["requestparameters"], &["AssumeRole"])
        .await
        .unwrap();
}

/// The sample trail ingested into a store, in a folder removed with the first value.
fn sample_store() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ctq_store::ingest(
        &[sample_logs()],
        &store,
        &ctq_store::IngestOptions::default(),
    )
    .unwrap();
    (dir, store)
}

const NAMED: &str = "eventname LIKE 'AssumeRole%'";
const READ_WHOLE: &str = "(errorcode IS NOT NULL OR eventname LIKE 'AssumeRole%')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_failed_and_named_calls_have_the_column_read() {
    let session = TrailSession::open(&[sample_logs()], &SessionOptions::default())
        .await
        .unwrap();
    read_partially(&session).await;
    // The sample trail has calls of each kind, each with its request, or this proves nothing.
    for condition in ["errorcode IS NOT NULL", NAMED, &format!("NOT {READ_WHOLE}")] {
        let full = requests(&session, "cloudtrail", condition).await;
        assert!(
            full.iter().any(|row| !row.ends_with(',')),
            "no request to read where {condition}"
        );
    }
    assert_eq!(
        requests(&session, "partial", READ_WHOLE).await,
        requests(&session, "cloudtrail", READ_WHOLE).await,
    );
    let others = requests(&session, "partial", &format!("NOT {READ_WHOLE}")).await;
    assert_eq!(
        others.len(),
        requests(&session, "cloudtrail", &format!("NOT {READ_WHOLE}"))
            .await
            .len()
    );
    assert!(others.iter().all(|row| row.ends_with(',')), "{others:?}");
    session.deregister("partial").unwrap();
    assert!(session.query("SELECT 1 FROM partial", &[]).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_is_read_whole() {
    let (_dir, store) = sample_store();
    let session = TrailSession::open_store(&store, &SessionOptions::default())
        .await
        .unwrap();
    read_partially(&session).await;
    let every = "true";
    assert_eq!(
        requests(&session, "partial", every).await,
        requests(&session, "cloudtrail", every).await,
    );
}

/// A window held in memory with the request parameters of failed and `AssumeRole*` calls only,
/// from trail files (one pass) and from a store (two reads): both hold the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_held_with_named_calls_whole_is_the_same_from_files_and_a_store() {
    let (_dir, store) = sample_store();
    let window = ctq_sql::TimeWindow::new(
        ctq_sql::Instant::parse_iso8601("2019-10-28T00:00:00Z").unwrap(),
        ctq_sql::Instant::parse_iso8601("2019-11-01T00:00:00Z").unwrap(),
    )
    .unwrap();
    let needs = ctq_sql::ColumnNeeds {
        every: ["eventid", "eventname", "eventtime"]
            .map(String::from)
            .into(),
        errors: ["requestparameters".to_string()].into(),
        whole_event_name_prefixes: &["AssumeRole"],
    };
    let mut held = Vec::new();
    for session in [
        TrailSession::open(&[sample_logs()], &SessionOptions::default())
            .await
            .unwrap(),
        TrailSession::open_store(&store, &SessionOptions::default())
            .await
            .unwrap(),
    ] {
        let outcome = session
            .cache_window(&window, &needs, 1 << 30)
            .await
            .unwrap();
        assert!(
            matches!(outcome, ctq_sql::CacheOutcome::Cached { .. }),
            "{outcome:?}"
        );
        held.push(requests(&session, "cloudtrail", "true").await);
    }
    let named = held[0]
        .iter()
        .filter(|row| row.contains(",\"AssumeRole"))
        .count();
    assert!(named > 0, "no AssumeRole call in the window");
    assert!(
        held[0]
            .iter()
            .filter(|row| row.contains(",\"AssumeRole"))
            .all(|row| !row.ends_with(',')),
        "an AssumeRole call lost its request"
    );
    // The sample trail delivers one event twice; a store keeps it once.
    held[0].dedup();
    assert_eq!(held[0], held[1]);
}
