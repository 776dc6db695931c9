//! Denial records as the triage of `ctq-denial` reads them: [`DenialFilter::explain_query`] run
//! over a session, its rows read by column name into [`Event`]s; and the count of a window's
//! events.

use ctq_denial::triage::Event;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};

use crate::canned::DenialFilter;
use crate::window::TimeWindow;
use crate::{SqlError, TrailSession};

/// The denials `filter` selects, as triage events, in the order the query gives them.
pub async fn denial_events(
    session: &TrailSession,
    filter: &DenialFilter,
) -> Result<Vec<Event>, SqlError> {
    let (sql, params) = filter.explain_query();
    let result = session.query(&sql, &params).await?;
    let mut events = Vec::new();
    for batch in &result.batches {
        events.extend(events_of(batch)?);
    }
    Ok(events)
}

/// The denials `filter` selects, as triage events, handed to `each` a batch at a time as the scan
/// yields them (in no fixed order), so that whatever folds them can run beside the scan. Returns
/// how many were handed on.
pub async fn each_denial_event_batch(
    session: &TrailSession,
    filter: &DenialFilter,
    mut each: impl FnMut(Vec<Event>),
) -> Result<usize, SqlError> {
    use futures::StreamExt;
    let (sql, params) = filter.explain_query();
    let (_, mut batches) = session.query_stream(&sql, &params).await?;
    let mut count = 0;
    while let Some(batch) = batches.next().await {
        let events = events_of(&batch?)?;
        count += events.len();
        each(events);
    }
    Ok(count)
}

/// The query [`events_in_window`] runs.
pub const EVENTS_IN_WINDOW: &str = "SELECT count(*) AS events FROM cloudtrail \
     WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from) \
     AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)";

/// How many events of any kind fall in `window`.
pub async fn events_in_window(
    session: &TrailSession,
    window: &TimeWindow,
) -> Result<u64, SqlError> {
    let result = session.query(EVENTS_IN_WINDOW, &window.params()).await?;
    result
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_primitive_opt::<Int64Type>()
                .map(|c| c.value(0))
        })
        .map(|count| count.max(0) as u64)
        .ok_or_else(|| SqlError::MissingColumn {
            name: "events".to_string(),
        })
}

/// The columns of `ctq explain`'s query, by name, as text.
struct Columns {
    eventtime: StringArray,
    eventid: StringArray,
    eventsource: StringArray,
    eventname: StringArray,
    errorcode: StringArray,
    errormessage: StringArray,
    identity_type: StringArray,
    principal_arn: StringArray,
    invoked_by: StringArray,
    session_issuer_arn: StringArray,
    sourceipaddress: StringArray,
    useragent: StringArray,
    requestparameters: StringArray,
    resource_arn: StringArray,
}

impl Columns {
    fn of(batch: &RecordBatch) -> Result<Self, SqlError> {
        let column = |name: &str| -> Result<StringArray, SqlError> {
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| SqlError::MissingColumn {
                    name: name.to_string(),
                })?;
            Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
        };
        Ok(Columns {
            eventtime: column("eventtime")?,
            eventid: column("eventid")?,
            eventsource: column("eventsource")?,
            eventname: column("eventname")?,
            errorcode: column("errorcode")?,
            errormessage: column("errormessage")?,
            identity_type: column("identity_type")?,
            principal_arn: column("principal_arn")?,
            invoked_by: column("invoked_by")?,
            session_issuer_arn: column("session_issuer_arn")?,
            sourceipaddress: column("sourceipaddress")?,
            useragent: column("useragent")?,
            requestparameters: column("requestparameters")?,
            resource_arn: column("resource_arn")?,
        })
    }

    fn event(&self, row: usize) -> Event {
        let cell = |array: &StringArray| array.is_valid(row).then(|| array.value(row).to_string());
        Event {
            event_time: cell(&self.eventtime),
            event_id: cell(&self.eventid),
            event_source: cell(&self.eventsource),
            event_name: cell(&self.eventname),
            error_code: cell(&self.errorcode),
            error_message: cell(&self.errormessage),
            identity_type: cell(&self.identity_type),
            principal_arn: cell(&self.principal_arn),
            invoked_by: cell(&self.invoked_by),
            session_issuer_arn: cell(&self.session_issuer_arn),
            source_ip: cell(&self.sourceipaddress),
            user_agent: cell(&self.useragent),
            request_parameters: cell(&self.requestparameters),
            resource_arn: cell(&self.resource_arn),
        }
    }
}

/// One batch of `ctq explain`'s query as triage events.
pub fn events_of(batch: &RecordBatch) -> Result<Vec<Event>, SqlError> {
    let columns = Columns::of(batch)?;
    Ok((0..batch.num_rows())
        .map(|row| columns.event(row))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::ArrayRef;

    use super::*;

    const NAMES: [&str; 14] = [
        "eventtime",
        "eventid",
        "eventsource",
        "eventname",
        "errorcode",
        "errormessage",
        "identity_type",
        "principal_arn",
        "invoked_by",
        "session_issuer_arn",
        "sourceipaddress",
        "useragent",
        "requestparameters",
        "resource_arn",
    ];

    /// A batch of one row holding each column's name as its value, the columns in `order`, with
    /// `requestparameters` NULL.
    fn batch(order: &[&str]) -> RecordBatch {
        RecordBatch::try_from_iter(order.iter().map(|name| {
            let value = (*name != "requestparameters").then_some(*name);
            (*name, Arc::new(StringArray::from(vec![value])) as ArrayRef)
        }))
        .unwrap()
    }

    #[test]
    fn columns_are_read_by_name_in_any_order() {
        let mut reversed = NAMES;
        reversed.reverse();
        for order in [NAMES, reversed] {
            let events = events_of(&batch(&order)).unwrap();
            assert_eq!(events.len(), 1);
            let event = &events[0];
            assert_eq!(event.event_time.as_deref(), Some("eventtime"));
            assert_eq!(event.event_id.as_deref(), Some("eventid"));
            assert_eq!(event.error_message.as_deref(), Some("errormessage"));
            assert_eq!(event.identity_type.as_deref(), Some("identity_type"));
            assert_eq!(event.source_ip.as_deref(), Some("sourceipaddress"));
            assert_eq!(event.user_agent.as_deref(), Some("useragent"));
            assert_eq!(event.request_parameters, None);
            assert_eq!(event.resource_arn.as_deref(), Some("resource_arn"));
        }
    }

    #[test]
    fn a_lost_column_is_named() {
        let error = events_of(&batch(&NAMES[..13])).unwrap_err();
        assert!(error.to_string().contains("resource_arn"), "{error}");
    }

    #[test]
    fn the_explain_query_gives_these_columns() {
        let (sql, _) = DenialFilter::default().explain_query();
        for name in NAMES {
            assert!(sql.contains(name), "{name}");
        }
    }
}
