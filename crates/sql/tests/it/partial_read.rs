//! A partial read of the trail (`TrailSession::register_partial_read`): a column is read for the
//! failed calls and the calls named, and left null for the others; a store reads it whole. A
//! window held in memory the same way (`TrailSession::cache_window`) holds the same rows from
//! trail files and from a store.

use ctq_ingest::IdentityFields;
use ctq_sql::{PartialRead, SessionOptions, TrailSession};

use crate::support::{csv_rows, sample_logs};

/// Every record's event ID and request parameters, as `table` gives them, in ID order.
async fn requests(session: &TrailSession, table: &str, condition: &str) -> Vec<String> {
    let sql = format!(
        "SELECT eventid, eventname, errorcode, requestparameters FROM {table} \
         WHERE {condition} ORDER BY eventid, eventname, requestparameters"
    );
    csv_rows(&session.query(&sql, &[]).await.unwrap())
}

/// The leaves of `useridentity` `partial` fills.
const IDENTITY: [&str; 2] = ["arn", "sessioncontext.sessionissuer.arn"];

/// Registers `partial`: request parameters of failed calls and `AssumeRole*` calls only, and of
/// `useridentity` only the [`IDENTITY`] leaves.
async fn read_partially(session: &TrailSession) {
    let read = PartialRead {
        failed_only: &["requestparameters"],
        whole_event_name_prefixes: &["AssumeRole"],
        identity: IdentityFields::from_paths(IDENTITY).unwrap(),
    };
    session
        .register_partial_read("partial", &read)
        .await
        .unwrap();
}

/// Each event's ID with the values of `paths` under `useridentity`, as `table` gives them.
async fn identities(session: &TrailSession, table: &str, paths: &[&str]) -> Vec<String> {
    let columns: Vec<String> = paths.iter().map(|p| format!("useridentity.{p}")).collect();
    let sql = format!(
        "SELECT eventid, {} FROM {table} ORDER BY 1, 2",
        columns.join(", ")
    );
    csv_rows(&session.query(&sql, &[]).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_identity_leaves_named_are_filled() {
    let session = TrailSession::open(&[sample_logs()], &SessionOptions::default())
        .await
        .unwrap();
    read_partially(&session).await;
    let named = identities(&session, "cloudtrail", &IDENTITY).await;
    assert!(
        named.iter().any(|row| !row.ends_with(',')),
        "no session issuer in the sample trail: this proves nothing"
    );
    assert_eq!(identities(&session, "partial", &IDENTITY).await, named);
    let others = [
        "type",
        "accountid",
        "onbehalfof.userid",
        "sessioncontext.attributes.creationdate",
        "sessioncontext.sessionissuer.type",
        "sessioncontext.webidfederationdata.attributes",
    ];
    let full = identities(&session, "cloudtrail", &others[..2]).await;
    assert!(full.iter().all(|row| !row.ends_with(",,")), "{full:?}");
    let left_null = identities(&session, "partial", &others).await;
    assert_eq!(left_null.len(), named.len());
    for row in &left_null {
        assert!(
            row.ends_with(",,,,,,"),
            "a leaf not named was filled: {row}"
        );
    }
    // The struct itself is there for every record that has one: only its leaves are left out.
    let sql = |table: &str| format!("SELECT count(*) FROM {table} WHERE useridentity IS NOT NULL");
    assert_eq!(
        csv_rows(&session.query(&sql("partial"), &[]).await.unwrap()),
        csv_rows(&session.query(&sql("cloudtrail"), &[]).await.unwrap())
    );
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
