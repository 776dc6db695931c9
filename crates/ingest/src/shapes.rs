//! Shapes a trail's records arrive in when they went through another AWS service first:
//! CloudWatch Logs (an export task's files, subscription data delivered by Firehose or handed to
//! a Lambda function), EventBridge, and CloudTrail Lake query results. Each is recognised by
//! content in [`crate::decode`]'s `shape_of`; here each is read into records.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::{FileDamage, TextRepairs, parse_embedded_as, repair_embedded};
use crate::record::Record;

/// Whether `line` starts as a line of a CloudWatch Logs export does: `<ISO-8601 time> {`.
pub(crate) fn is_cwl_export_line(line: &str) -> bool {
    cwl_export_message(line).is_some()
}

/// The message of a CloudWatch Logs export line (`2019-10-29T06:41:48.123Z {...}`), when the
/// line has that form.
fn cwl_export_message(line: &str) -> Option<&str> {
    let (time, message) = line.split_once(' ')?;
    let b = time.as_bytes();
    let looks_like_time = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':';
    (looks_like_time && message.trim_ascii_start().starts_with('{')).then_some(message)
}

/// The records of a CloudWatch Logs export: one `<time> <record>` per line.
pub(crate) fn cwl_export_records(text: &str) -> Result<Vec<Record<'_>>, FileDamage> {
    let mut records = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let message = cwl_export_message(line).ok_or_else(|| {
            FileDamage::NotCloudTrail(format!(
                "line {} of a CloudWatch Logs export is not `<time> <record>`",
                number + 1
            ))
        })?;
        let record: Record = serde_json::from_str(message).map_err(|e| {
            FileDamage::InvalidJson(format!(
                "line {} of a CloudWatch Logs export: {e}",
                number + 1
            ))
        })?;
        check_is_record(message, "a CloudWatch Logs export line")?;
        records.push(record);
    }
    Ok(records)
}

/// A message that holds none of the keys every CloudTrail record has is some other log's: said
/// so, rather than read as a row of nulls.
fn check_is_record(message: &str, what: &str) -> Result<(), FileDamage> {
    let is_record = ["\"eventVersion\"", "\"eventTime\"", "\"eventName\""]
        .iter()
        .any(|key| message.contains(key));
    if is_record {
        Ok(())
    } else {
        Err(FileDamage::NotCloudTrail(format!(
            "{what} is not a CloudTrail record: {}",
            message.chars().take(60).collect::<String>()
        )))
    }
}

/// One CloudWatch Logs subscription message (`DATA_MESSAGE` or `CONTROL_MESSAGE`).
#[derive(Deserialize)]
struct SubscriptionMessage {
    #[serde(rename = "messageType")]
    message_type: Option<String>,
    #[serde(rename = "logEvents")]
    log_events: Option<Vec<LogEvent>>,
}

#[derive(Deserialize)]
struct LogEvent {
    message: Option<String>,
}

/// The record texts of concatenated subscription messages (Firehose writes them with no
/// separator); control messages hold none.
fn subscription_messages(text: &str) -> Result<Vec<String>, FileDamage> {
    let mut messages = Vec::new();
    for message in serde_json::Deserializer::from_str(text).into_iter::<SubscriptionMessage>() {
        let message = message.map_err(FileDamage::from)?;
        match message.message_type.as_deref() {
            Some("CONTROL_MESSAGE") => {}
            Some("DATA_MESSAGE") => {
                let events = message.log_events.ok_or_else(|| {
                    FileDamage::NotCloudTrail("a DATA_MESSAGE has no \"logEvents\"".into())
                })?;
                for event in events {
                    let text = event.message.ok_or_else(|| {
                        FileDamage::NotCloudTrail("a log event has no \"message\"".into())
                    })?;
                    check_is_record(&text, "a log event's message")?;
                    messages.push(text);
                }
            }
            other => {
                return Err(FileDamage::NotCloudTrail(format!(
                    "a CloudWatch Logs message of type {other:?}, expected DATA_MESSAGE or CONTROL_MESSAGE"
                )));
            }
        }
    }
    Ok(messages)
}

/// Reads CloudWatch Logs subscription messages and hands their records to `sink`, all parsed
/// before the first is handed on.
pub(crate) fn subscription_records(
    text: &str,
    repairs: &mut TextRepairs,
    sink: &mut dyn FnMut(&Record<'_>),
) -> Result<usize, FileDamage> {
    let messages = repair_embedded(subscription_messages(text)?, repairs);
    let records = parse_embedded_as(&messages, "a log event's message")?;
    records.iter().for_each(sink);
    Ok(records.len())
}

/// A Lambda function's CloudWatch Logs event: `{"awslogs":{"data":"<base64 of gzip>"}}`.
#[derive(Deserialize)]
struct LambdaEvent {
    awslogs: Option<LambdaLogs>,
}

#[derive(Deserialize)]
struct LambdaLogs {
    data: Option<String>,
}

/// Reads Lambda CloudWatch Logs events (one, or several one after the other): each `data`
/// unpacked to subscription messages.
pub(crate) fn lambda_records(
    text: &str,
    max_inflated_bytes: usize,
    repairs: &mut TextRepairs,
    sink: &mut dyn FnMut(&Record<'_>),
) -> Result<usize, FileDamage> {
    let mut unpacked = Vec::new();
    for event in serde_json::Deserializer::from_str(text).into_iter::<LambdaEvent>() {
        let data = event
            .map_err(FileDamage::from)?
            .awslogs
            .and_then(|logs| logs.data)
            .ok_or_else(|| {
                FileDamage::NotCloudTrail("an object has no \"awslogs\".\"data\"".into())
            })?;
        let gzipped = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| {
                FileDamage::NotCloudTrail(format!("\"awslogs\".\"data\" is not base64: {e}"))
            })?;
        if !gzipped.starts_with(&crate::decode::GZIP_MAGIC) {
            return Err(FileDamage::NotCloudTrail(
                "\"awslogs\".\"data\" is not gzip".into(),
            ));
        }
        // The unpacked text is repaired as a file's is (`decode_file`).
        let mut bytes = crate::decode::read_bytes(gzipped, max_inflated_bytes)?;
        repairs.lone_surrogates += crate::decode::replace_lone_surrogate_escapes(&mut bytes);
        let (inner, invalid_utf8) = crate::decode::replace_invalid_utf8(bytes);
        repairs.invalid_utf8 += invalid_utf8;
        unpacked.push(inner);
    }
    let mut messages = Vec::new();
    for inner in &unpacked {
        messages.extend(subscription_messages(inner)?);
    }
    let messages = repair_embedded(messages, repairs);
    let records = parse_embedded_as(&messages, "a log event's message")?;
    records.iter().for_each(sink);
    Ok(records.len())
}

/// One EventBridge event; a CloudTrail event's record is its `detail`.
#[derive(Deserialize)]
struct EventBridgeEvent<'a> {
    #[serde(rename = "detail-type")]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
}

impl<'a> EventBridgeEvent<'a> {
    fn record(&self) -> Result<Record<'a>, FileDamage> {
        let detail_type = self.detail_type.as_deref().unwrap_or_default();
        if !detail_type.ends_with("via CloudTrail") {
            return Err(FileDamage::NotCloudTrail(format!(
                "an EventBridge event of detail-type {detail_type:?}, not one \"... via CloudTrail\""
            )));
        }
        let detail = self.detail.ok_or_else(|| {
            FileDamage::NotCloudTrail("an EventBridge event has no \"detail\"".into())
        })?;
        check_is_record(detail.get(), "an EventBridge event's detail")?;
        serde_json::from_str(detail.get()).map_err(FileDamage::from)
    }
}

/// The records of EventBridge events, one after the other (one per line, or one per file).
pub(crate) fn eventbridge_stream_records(text: &str) -> Result<Vec<Record<'_>>, FileDamage> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<EventBridgeEvent>()
        .map(|event| event.map_err(FileDamage::from)?.record())
        .collect()
}

/// The records of a JSON array of EventBridge events.
pub(crate) fn eventbridge_array_records(text: &str) -> Result<Vec<Record<'_>>, FileDamage> {
    let events: Vec<EventBridgeEvent> = serde_json::from_str(text).map_err(FileDamage::from)?;
    events.iter().map(EventBridgeEvent::record).collect()
}

/// The record fields, each as CloudTrail spells it: CloudTrail Lake's columns are matched to
/// them whatever their case.
const RECORD_FIELDS: [&str; 29] = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "resources",
    "eventType",
    "apiVersion",
    "readOnly",
    "recipientAccountId",
    "serviceEventDetails",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "eventCategory",
    "addendum",
    "sessionCredentialFromConsole",
    "edgeDeviceDetails",
    "tlsDetails",
];

/// `aws cloudtrail get-query-results` output: each row a list of single-key objects.
#[derive(Deserialize)]
struct LakeResults {
    #[serde(rename = "QueryResultRows")]
    rows: Option<Vec<Vec<serde_json::Map<String, serde_json::Value>>>>,
}

/// The records of CloudTrail Lake query results (one page, or several one after the other), each
/// row's columns put where a trail record has them: `eventID` as is, `userIdentity.arn` into
/// `userIdentity`, JSON text of an object (`userIdentity`, `requestParameters`...) as the object,
/// and Lake's `2019-10-29 06:41:48.000` times as a trail's `2019-10-29T06:41:48Z`.
pub(crate) fn lake_records(
    text: &str,
    repairs: &mut TextRepairs,
    sink: &mut dyn FnMut(&Record<'_>),
) -> Result<usize, FileDamage> {
    let mut documents = Vec::new();
    for page in serde_json::Deserializer::from_str(text).into_iter::<LakeResults>() {
        let rows = page.map_err(FileDamage::from)?.rows.ok_or_else(|| {
            FileDamage::NotCloudTrail("an object has no \"QueryResultRows\"".into())
        })?;
        for row in rows {
            documents.push(lake_row_record(row)?.to_string());
        }
    }
    let documents = repair_embedded(documents, repairs);
    let records = parse_embedded_as(&documents, "a CloudTrail Lake result row")?;
    records.iter().for_each(sink);
    Ok(records.len())
}

fn lake_row_record(
    row: Vec<serde_json::Map<String, serde_json::Value>>,
) -> Result<serde_json::Value, FileDamage> {
    use serde_json::Value;
    let mut record = serde_json::Map::new();
    for (column, value) in row.into_iter().flatten() {
        let value = match value {
            Value::String(text) if text.starts_with(['{', '[']) => {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            }
            Value::String(text) if column.eq_ignore_ascii_case("eventTime") => {
                Value::String(lake_time_as_trail_time(text))
            }
            other => other,
        };
        let path: Vec<String> = column
            .split('.')
            .map(|part| {
                RECORD_FIELDS
                    .iter()
                    .find(|field| field.eq_ignore_ascii_case(part))
                    .map_or_else(|| part.to_owned(), |field| (*field).to_owned())
            })
            .collect();
        insert_at(&mut record, &path, value);
    }
    let is_record = ["eventID", "eventTime", "eventName"]
        .iter()
        .any(|field| record.contains_key(*field));
    if !is_record {
        return Err(FileDamage::NotCloudTrail(format!(
            "a CloudTrail Lake result row has none of eventID, eventTime, eventName (columns: {})",
            record
                .keys()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Value::Object(record))
}

/// Puts `value` at `path` (`userIdentity`, `arn`) in `object`, making the objects on the way.
fn insert_at(
    object: &mut serde_json::Map<String, serde_json::Value>,
    path: &[String],
    value: serde_json::Value,
) {
    match path {
        [] => {}
        [last] => {
            object.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let slot = object
                .entry(first.clone())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if !slot.is_object() {
                *slot = serde_json::Value::Object(serde_json::Map::new());
            }
            if let serde_json::Value::Object(inner) = slot {
                insert_at(inner, rest, value);
            }
        }
    }
}

/// `2019-10-29 06:41:48.000` (Lake's times) as `2019-10-29T06:41:48Z`; other text unchanged.
fn lake_time_as_trail_time(text: String) -> String {
    let b = text.as_bytes();
    let lake_form = b.len() >= 19
        && b[10] == b' '
        && b[..10].iter().all(|c| c.is_ascii_digit() || *c == b'-')
        && b[11..19].iter().all(|c| c.is_ascii_digit() || *c == b':');
    if lake_form {
        format!("{}T{}Z", &text[..10], &text[11..19])
    } else {
        text
    }
}
