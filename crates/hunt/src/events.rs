//! `hunt_events`: every record of the window, denied or not, with the few fields the rules read,
//! read from the trail once and held in memory for all of them.

use std::collections::HashSet;

use ctq_denial::parse_message;
use ctq_denial::triage::Suppressions;
use ctq_ingest::IdentityFields;
use ctq_sql::arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray};
use ctq_sql::arrow::compute::kernels::boolean::and;
use ctq_sql::arrow::compute::{cast, filter_record_batch};
use ctq_sql::arrow::datatypes::DataType;
use ctq_sql::canned::DenialFilter;
use ctq_sql::{ColumnNeeds, PartialRead, SqlError, TABLE_NAMES, TrailSession};
use futures::StreamExt;

/// The name the rules read the window's events under.
pub const TABLE: &str = "hunt_events";

/// The name the trail is read under for `hunt_events` ([`TrailSession::register_partial_read`]).
const READ_TABLE: &str = "ctq_hunt_read";

/// Request parameters are read for failed calls and for the calls named in
/// [`WHOLE_EVENT_NAME_PREFIXES`] only: `hunt_events` reads nothing else of them, and the requests of
/// every successful S3 data event are most of a trail's bytes.
const FAILED_ONLY: &[&str] = &["requestparameters"];

/// The successful calls whose request `hunt_events` reads: the role an `AssumeRole*` asked for.
const WHOLE_EVENT_NAME_PREFIXES: &[&str] = &["AssumeRole"];

/// The leaves of `useridentity` `hunt_events` reads (the principal, its type, key and session
/// issuer): the scan fills only these, and does not build the other 12 for every record.
const IDENTITY_LEAVES: [&str; 7] = [
    "type",
    "arn",
    "invokedby",
    "accesskeyid",
    "onbehalfof.userid",
    "onbehalfof.identitystorearn",
    "sessioncontext.sessionissuer.arn",
];

fn partial_read() -> PartialRead<'static> {
    PartialRead {
        failed_only: FAILED_ONLY,
        whole_event_name_prefixes: WHOLE_EVENT_NAME_PREFIXES,
        identity: IdentityFields::from_paths(IDENTITY_LEAVES)
            .expect("IDENTITY_LEAVES are leaves of useridentity"),
    }
}

/// Adds to `needs` the columns of the trail `hunt_events` reads, for a report that reads its
/// window once for the hunt and its queries ([`TrailSession::cache_window`]): request parameters
/// only of failed calls and of the calls named in [`WHOLE_EVENT_NAME_PREFIXES`], as the hunt's own
/// read. Call it before adding the needs of other queries, which may read those of every record.
pub async fn add_window_needs(
    session: &TrailSession,
    scope: &DenialFilter,
    needs: &mut ColumnNeeds,
) -> Result<(), SqlError> {
    let (conditions, params) = scope.scope_conditions();
    let mut own = ColumnNeeds::default();
    session
        .trail_columns(&events_sql(&conditions, TABLE_NAMES[0]), &params, &mut own)
        .await?;
    for column in FAILED_ONLY {
        if own.every.remove(*column) {
            own.errors.insert((*column).to_string());
        }
    }
    own.whole_event_name_prefixes = WHOLE_EVENT_NAME_PREFIXES;
    needs.extend(own);
    Ok(())
}

/// The columns of `hunt_events`, as `docs/hunt.md` lists them for rule writers, read from `table`.
fn events_sql(conditions: &[String], table: &str) -> String {
    let principal = DenialFilter::PRINCIPAL_EXPR;
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join("\n  AND "))
    };
    // `action` is built for failed calls only, the ones rules count by action; a finding's
    // evidence builds it for the others. Request parameters are read only where a rule needs them
    // (the bucket or target of a failed call, the role an AssumeRole asked for), and the scan
    // reads them only there ([`FAILED_ONLY`]): every S3 data event's JSON would cost more than
    // the rest of the hunt. The documents are chosen before the JSON functions run: a `CASE`
    // that picks a column costs a null mask, one around a function sets the rows it chose apart
    // and back (the four `CASE`s were 7% of the hunt's CPU in a profile when all were so).
    let failed_request = "CASE WHEN errorcode IS NOT NULL THEN requestparameters END";
    format!(
        "SELECT eventtime AS event_time,
       CAST(to_unixtime(from_iso8601_timestamp(eventtime)) AS BIGINT) AS event_s,
       eventid AS event_id,
       eventsource AS event_source,
       eventname AS event_name,
       CASE WHEN errorcode IS NOT NULL
            THEN concat(split_part(eventsource, '.', 1), ':', eventname) END AS action,
       errorcode AS error_code,
       errormessage AS error_message,
       errorcode IS NOT NULL
           AND coalesce(error_class(errorcode, errormessage, eventname) = 'denial', false) AS denied,
       coalesce({principal}, useridentity.invokedby) AS principal,
       useridentity.type AS principal_type,
       useridentity.sessioncontext.sessionissuer.arn AS issuer,
       useridentity.accesskeyid AS access_key,
       recipientaccountid AS account,
       awsregion AS region,
       sourceipaddress AS source_ip,
       useragent AS user_agent,
       json_extract_scalar(
           CASE WHEN errorcode IS NOT NULL AND eventsource = 's3.amazonaws.com'
                THEN requestparameters END,
           '$.bucketName') AS bucket,
       json_extract_scalar(
           CASE WHEN eventsource = 'sts.amazonaws.com' AND eventname LIKE 'AssumeRole%'
                THEN requestparameters END,
           '$.roleArn') AS role_arn,
       coalesce(json_extract_scalar({failed_request}, '$.instanceId'),
                json_extract_scalar({failed_request}, '$.secretId'),
                json_extract_scalar({failed_request}, '$.name'),
                json_extract_scalar({failed_request}, '$.functionName'),
                json_extract_scalar({failed_request}, '$.taskDefinition')) AS target
FROM {table}
{filter}"
    )
}

/// What reading the window came to.
#[derive(Debug)]
pub enum Loading {
    /// The window's events, in `hunt_events` and as batches for the evidence of findings.
    Loaded(Vec<RecordBatch>, Loaded),
    /// The events would take more memory than allowed; nothing is held. `events` were read
    /// before the limit was reached.
    TooLarge { events: usize },
}

/// What reading the window left in memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loaded {
    /// Events in `hunt_events`.
    pub events: usize,
    /// Denials left out by the suppressions.
    pub suppressed: usize,
    /// Records left out as second deliveries of an earlier one (same event ID, time and name):
    /// CloudTrail delivers some events twice, and a rule should count an event once.
    pub duplicates: usize,
}

/// The query that reads the events `scope` selects, and its parameters.
fn events_query(scope: &DenialFilter) -> (String, Vec<(String, String)>) {
    let (conditions, params) = scope.scope_conditions();
    (events_sql(&conditions, READ_TABLE), params)
}

/// Reads every record `scope` selects into the session's `hunt_events` table, without the
/// denials `suppressions` match, and returns its batches for the evidence of findings.
pub async fn load(
    session: &TrailSession,
    scope: &DenialFilter,
    suppressions: &Suppressions,
    max_bytes: usize,
) -> Result<Loading, SqlError> {
    session
        .register_partial_read(READ_TABLE, &partial_read())
        .await?;
    let loading = read(session, scope, suppressions, max_bytes).await;
    session.deregister(READ_TABLE)?;
    loading
}

async fn read(
    session: &TrailSession,
    scope: &DenialFilter,
    suppressions: &Suppressions,
    max_bytes: usize,
) -> Result<Loading, SqlError> {
    let (sql, params) = events_query(scope);
    let (_, mut stream) = session.query_stream(&sql, &params).await?;
    // The stream knows the columns even when no record is in scope.
    let schema = stream.schema();
    let mut loaded = Loaded::default();
    let mut batches = Vec::new();
    let mut held = 0;
    let mut seen_ids = SeenEvents::default();
    let seeds = Default::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let first = first_deliveries(&batch, &seeds, &mut seen_ids)?;
        loaded.duplicates += first.false_count();
        let keep = if suppressions.is_empty() {
            first
        } else {
            let allowed = unsuppressed(&batch, suppressions)?;
            loaded.suppressed += first
                .iter()
                .zip(allowed.iter())
                .filter(|(f, a)| *f == Some(true) && *a == Some(false))
                .count();
            and(&first, &allowed)?
        };
        let kept = filter_record_batch(&batch, &keep)?;
        loaded.events += kept.num_rows();
        held += kept.get_array_memory_size();
        if held > max_bytes {
            return Ok(Loading::TooLarge {
                events: loaded.events,
            });
        }
        // The scan hands on buffers of their own size (`TrailBatchBuilder::finish`), so a batch
        // held for the whole hunt takes what its rows take.
        batches.push(kept);
    }
    session.register_batches(TABLE, schema, batches.clone())?;
    Ok(Loading::Loaded(batches, loaded))
}

/// The rows of `batch` that are not a second delivery of an earlier row: the same event ID, time
/// and name (rows without an ID are kept). The time and name are compared too because test
/// fixtures written by hand reuse IDs for different events; a real second delivery is a copy.
fn first_deliveries(
    batch: &RecordBatch,
    seeds: &[foldhash::quality::RandomState; 2],
    seen: &mut SeenEvents,
) -> Result<BooleanArray, SqlError> {
    let text = |name: &str| text_column(batch, name);
    let (ids, times, names) = (text("event_id")?, text("event_time")?, text("event_name")?);
    Ok((0..batch.num_rows())
        .map(|row| {
            Some(
                ids.is_null(row)
                    || seen.insert(delivery_key(
                        seeds,
                        ids.value(row),
                        cell(&times, row),
                        cell(&names, row),
                    )),
            )
        })
        .collect())
}

/// The event IDs seen so far, as [`delivery_key`]s.
type SeenEvents = HashSet<u128, foldhash::fast::RandomState>;

/// A 128-bit key for an event's ID, time and name: a window holds millions of events, and holding
/// their IDs as strings would cost more than reading them. CloudTrail's event IDs are UUIDs, whose
/// 128 bits are the key ([`ctq_ingest::event_id`]), mixed with a hash of the time and name;
/// another ID is hashed with them twice. Two events collide with a chance below 2^-60 in any real
/// window. The hasher is seeded at random for each run, so a trail cannot be written to make two
/// events collide.
fn delivery_key(
    seeds: &[foldhash::quality::RandomState; 2],
    id: &str,
    time: &str,
    name: &str,
) -> u128 {
    use std::hash::BuildHasher;
    let [first, second] = seeds;
    if let Some(uuid) = ctq_ingest::event_id::uuid_bits(id) {
        return uuid ^ u128::from(first.hash_one((time, name)));
    }
    (u128::from(first.hash_one((id, time, name))) << 64)
        | u128::from(second.hash_one((id, time, name)))
}

fn cell(array: &StringArray, row: usize) -> &str {
    if array.is_valid(row) {
        array.value(row)
    } else {
        ""
    }
}

/// The rows of `batch` no suppression matches: a suppression (PRINCIPAL ACTION RESOURCE, as for
/// `ctq explain`) removes denials, never successful calls.
fn unsuppressed(
    batch: &RecordBatch,
    suppressions: &Suppressions,
) -> Result<BooleanArray, SqlError> {
    let text = |name: &str| text_column(batch, name);
    let denied = bool_column(batch, "denied")?;
    let (principal, action, message) =
        (text("principal")?, text("action")?, text("error_message")?);
    Ok((0..batch.num_rows())
        .map(|row| {
            if !(denied.is_valid(row) && denied.value(row)) {
                return Some(true);
            }
            let denial = parse_message(cell(&message, row));
            let action = denial.action.as_deref().unwrap_or(cell(&action, row));
            let resource = denial.resource.as_deref().unwrap_or("");
            Some(!suppressions.matches(cell(&principal, row), action, resource))
        })
        .collect())
}

/// A column of `batch` as text, whatever its string type.
pub(crate) fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray, SqlError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| SqlError::MissingColumn { name: name.into() })?;
    Ok(cast(column, &DataType::Utf8)?.as_string::<i32>().clone())
}

/// A boolean column of `batch`.
pub(crate) fn bool_column(batch: &RecordBatch, name: &str) -> Result<BooleanArray, SqlError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_boolean_opt().cloned())
        .ok_or_else(|| SqlError::MissingColumn { name: name.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_read_only_the_identity_leaves_the_scan_fills() {
        let sql = events_sql(&[], TABLE_NAMES[0]);
        let mut read = Vec::new();
        for (at, _) in sql.match_indices("useridentity.") {
            let path: String = sql[at + "useridentity.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '.' || c.is_ascii_digit())
                .collect();
            read.push(path);
        }
        assert!(read.len() >= IDENTITY_LEAVES.len(), "read: {read:?}");
        for path in &read {
            assert!(
                IDENTITY_LEAVES.contains(&path.as_str()),
                "events_sql reads useridentity.{path}, which the scan leaves null"
            );
        }
        for leaf in IDENTITY_LEAVES {
            assert!(
                read.iter().any(|p| p == leaf),
                "{leaf} is filled but never read"
            );
        }
        assert!(IdentityFields::from_paths(IDENTITY_LEAVES).is_ok());
    }

    #[test]
    fn a_second_delivery_has_the_key_of_the_first_and_nothing_else_does() {
        let seeds = Default::default();
        for id in ["0123abcd-4567-89ef-abcd-0123456789ab", "hand-written-id"] {
            let key = |id, time, name| delivery_key(&seeds, id, time, name);
            let first = key(id, "2019-10-28T00:00:00Z", "GetObject");
            assert_eq!(first, key(id, "2019-10-28T00:00:00Z", "GetObject"));
            assert_ne!(first, key(id, "2019-10-28T00:00:01Z", "GetObject"));
            assert_ne!(first, key(id, "2019-10-28T00:00:00Z", "PutObject"));
            assert_ne!(
                first,
                key("another-id", "2019-10-28T00:00:00Z", "GetObject")
            );
        }
    }
}
