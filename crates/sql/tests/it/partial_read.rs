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

/// Holds `window` in memory as `needs` asks, and checks that it was held.
async fn hold_window(
    session: &TrailSession,
    window: &ctq_sql::TimeWindow,
    needs: &ctq_sql::ColumnNeeds,
) {
    let outcome = session.cache_window(window, needs, 1 << 30).await.unwrap();
    assert!(
        matches!(outcome, ctq_sql::CacheOutcome::Cached { .. }),
        "{outcome:?}"
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
        ..ctq_sql::ColumnNeeds::default()
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
        hold_window(&session, &window, &needs).await;
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

/// Queries reading `useridentity` in different ways: some leaves, a nested struct, the struct
/// itself, through an alias, in a filter or a grouping, through a function of the struct, passed
/// on by a projection DataFusion adds, grouped or made distinct on whole.
const IDENTITY_QUERIES: [&str; 11] = [
    "SELECT eventid, useridentity.arn FROM cloudtrail",
    "SELECT eventid, useridentity.sessioncontext.sessionissuer.arn AS issuer, \
     coalesce(useridentity.arn, useridentity.invokedby) AS principal \
     FROM cloudtrail WHERE useridentity.type IS NOT NULL",
    "SELECT eventid, useridentity.sessioncontext FROM cloudtrail",
    "SELECT eventid, useridentity FROM cloudtrail",
    "SELECT id, u.arn, u.accountid FROM (SELECT eventid AS id, useridentity AS u FROM cloudtrail)",
    "SELECT useridentity.type, count(*) FROM cloudtrail GROUP BY 1",
    "SELECT eventid FROM cloudtrail WHERE useridentity.username IS NOT NULL",
    "SELECT eventid, make_array(useridentity)[1]['arn'] AS arn FROM cloudtrail",
    "SELECT CAST(to_unixtime(from_iso8601_timestamp(eventtime)) AS BIGINT) AS s, \
     useridentity.arn AS arn FROM cloudtrail \
     WHERE from_iso8601_timestamp(eventtime) >= TIMESTAMP '2000-01-01 00:00:00' \
     AND from_iso8601_timestamp(eventtime) < TIMESTAMP '2100-01-01 00:00:00'",
    "SELECT count(*) FROM (SELECT DISTINCT eventname, useridentity FROM cloudtrail)",
    "SELECT u.arn, count(*) FROM (SELECT useridentity AS u FROM cloudtrail) GROUP BY u",
];

/// A window held in memory fills only the leaves of `useridentity` its queries read
/// (`ColumnNeeds::identity`, from their plans), and answers each query as the window held with
/// every leaf does: on the sample trail and on every folder of `../shared/realdata` present.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_held_with_the_identity_leaves_read_answers_as_the_trail() {
    let window = ctq_sql::TimeWindow::new(
        ctq_sql::Instant::parse_iso8601("1970-01-01T00:00:00Z").unwrap(),
        ctq_sql::Instant::parse_iso8601("2100-01-01T00:00:00Z").unwrap(),
    )
    .unwrap();
    let mut trails = vec![sample_logs()];
    match ctq_testkit::realdata() {
        Some(dir) => {
            let mut folders: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.is_dir())
                .collect();
            folders.sort();
            trails.extend(folders);
        }
        None => ctq_testkit::skip("../shared/realdata is not present: the sample trail only"),
    }
    let open = |trail: std::path::PathBuf| async move {
        TrailSession::open(&[trail], &SessionOptions::default())
            .await
            .unwrap()
    };
    // The leaves each query is found to read.
    let session = open(sample_logs()).await;
    let mut leaves = Vec::new();
    for sql in IDENTITY_QUERIES {
        let mut needs = ctq_sql::ColumnNeeds::default();
        session.trail_columns(sql, &[], &mut needs).await.unwrap();
        leaves.push(needs.identity);
    }
    let paths = |paths: &[&str]| IdentityFields::from_paths(paths.iter().copied()).unwrap();
    assert_eq!(leaves[0], paths(&["arn"]));
    assert_eq!(
        leaves[1],
        paths(&[
            "type",
            "arn",
            "invokedby",
            "sessioncontext.sessionissuer.arn"
        ])
    );
    assert_eq!(
        leaves[2],
        paths(&IdentityFields::LEAVES[9..]),
        "a struct reads its leaves"
    );
    assert_eq!(leaves[3], IdentityFields::ALL, "the struct itself");
    assert_eq!(leaves[5], paths(&["type"]));
    assert_eq!(leaves[6], paths(&["username"]));
    assert_eq!(
        leaves[7],
        IdentityFields::ALL,
        "the struct passed to a function"
    );
    assert_eq!(leaves[8], paths(&["arn"]), "passed on to a field access");
    assert_eq!(
        leaves[9],
        IdentityFields::ALL,
        "distinct on the whole struct"
    );
    assert_eq!(
        leaves[10],
        IdentityFields::ALL,
        "grouped on the whole struct"
    );

    // Each query over the window held with the leaves found, and with every leaf.
    for trail in trails {
        for sql in IDENTITY_QUERIES {
            let mut answers = Vec::new();
            for every_leaf in [false, true] {
                let session = open(trail.clone()).await;
                let mut needs = ctq_sql::ColumnNeeds::default();
                session.trail_columns(sql, &[], &mut needs).await.unwrap();
                if every_leaf {
                    needs.identity = IdentityFields::ALL;
                }
                hold_window(&session, &window, &needs).await;
                let mut rows = csv_rows(&session.query(sql, &[]).await.unwrap());
                rows.sort();
                answers.push(rows);
            }
            assert_eq!(answers[0], answers[1], "{} {sql}", trail.display());
        }
    }
}
