//! Turns one file's bytes into records: gzip detection, the shapes a trail comes in, and the
//! reasons a file is rejected.
//!
//! A file is decoded completely before any of its records is handed on, so a damaged file
//! contributes nothing rather than a prefix of itself.

use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::path::NonEventKind;
use crate::record::{Record, Text, with_wanted_columns};
use crate::schema::{ColumnSet, column};

/// Why a file could not be read. Each names what was wrong in words a user can act on; the
/// words are [`Display`](std::fmt::Display)'s, and are what reports and messages show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileDamage {
    #[error("empty file (0 bytes)")]
    Empty,
    /// What the inflater said.
    #[error("gzip stream is truncated or corrupt: {0}")]
    TruncatedGzip(String),
    /// What the system said.
    #[error("cannot read file: {0}")]
    Unreadable(String),
    /// What S3 answered, after retries.
    #[error("could not be fetched: {0}")]
    FetchFailed(String),
    /// What the JSON parser said.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// Valid JSON of another shape: what it is instead.
    #[error("not a CloudTrail log: {0}")]
    NotCloudTrail(String),
    /// A gzip file that inflates past the cap (a gzip bomb, or not a log file).
    #[error("inflates to more than {limit_mib} MiB, far more than any CloudTrail log file")]
    TooLarge { limit_mib: usize },
}

impl From<serde_json::Error> for FileDamage {
    fn from(e: serde_json::Error) -> Self {
        FileDamage::InvalidJson(e.to_string())
    }
}

/// What a readable file turned out to hold.
pub(crate) enum Decoded {
    /// Records in file order, to be appended by the caller while `text` is alive.
    Records(usize),
    /// A file of another CloudTrail product, recognised by content.
    NonEvent(NonEventKind),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a file and inflates it when it is gzip (by content, whatever its name). Every gzip
/// member is read: concatenated members are one valid gzip stream.
pub(crate) fn read_bytes(raw: Vec<u8>) -> Result<Vec<u8>, FileDamage> {
    if raw.is_empty() {
        return Err(FileDamage::Empty);
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let out = crate::inflate::inflate_gzip(&raw).map_err(|e| match e {
        crate::inflate::InflateError::Corrupt(e) => FileDamage::TruncatedGzip(e.to_string()),
        crate::inflate::InflateError::TooLarge => FileDamage::TooLarge {
            limit_mib: crate::inflate::MAX_INFLATED_BYTES >> 20,
        },
    })?;
    if out.is_empty() {
        return Err(FileDamage::Empty);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct TrailEnvelope<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<Record<'a>>>,
    #[serde(rename = "Events")]
    events: Option<Vec<LookupEvent>>,
}

/// One entry of `aws cloudtrail lookup-events` output; the record is a JSON document in a string.
#[derive(Deserialize)]
struct LookupEvent {
    #[serde(rename = "CloudTrailEvent")]
    cloudtrail_event: Option<String>,
}

/// Keys of a top-level object, to tell a record from a digest or an unknown document.
#[derive(Default)]
struct TopLevelKeys {
    keys: Vec<String>,
}

impl<'de> Deserialize<'de> for TopLevelKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> serde::de::Visitor<'de> for KeysVisitor {
            type Value = TopLevelKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.extend(key.as_deref().map(str::to_owned));
                }
                Ok(TopLevelKeys { keys })
            }
        }
        d.deserialize_map(KeysVisitor)
    }
}

/// The first key of the first top-level object, read without parsing the document: a
/// `{"Records": [...]}` file is recognised at no cost. `None` when the key is escaped or absent.
fn first_key(text: &[u8]) -> Option<&[u8]> {
    let rest = text
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest[end] == b'"').then(|| &rest[..end])
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where the records of a file's text are, decided once per file.
enum Shape {
    Envelope,
    /// One lookup-events entry per line (`{"EventId":...,"CloudTrailEvent":"..."}`).
    LookupStream,
    RecordStream,
    RecordArray,
    NonEvent(NonEventKind),
}

fn shape_of(text: &[u8]) -> Result<Shape, FileDamage> {
    let trimmed = text.trim_ascii_start();
    match trimmed.first() {
        Some(b'[') => return Ok(Shape::RecordArray),
        Some(b'{') => {}
        Some(_) => {
            return Err(FileDamage::NotCloudTrail(
                "expected a JSON object such as {\"Records\": [...]}".into(),
            ));
        }
        None => return Err(FileDamage::Empty),
    }
    if let Some(b"Records" | b"Events") = first_key(trimmed) {
        return Ok(Shape::Envelope);
    }
    // Uncommon layouts (pretty-printed output with other keys first, single records, NDJSON):
    // look at the first object's keys.
    let mut stream = serde_json::Deserializer::from_slice(trimmed).into_iter::<TopLevelKeys>();
    let keys = match stream.next() {
        Some(Ok(keys)) => keys.keys,
        Some(Err(e)) => return Err(e.into()),
        None => return Err(FileDamage::Empty),
    };
    let has = |k: &str| keys.iter().any(|key| key == k);
    if has("Records") || has("Events") {
        Ok(Shape::Envelope)
    } else if has("CloudTrailEvent") {
        Ok(Shape::LookupStream)
    } else if has("digestStartTime") || has("digestPublicKeyFingerprint") {
        Ok(Shape::NonEvent(NonEventKind::Digest))
    } else if has("eventTime") || has("eventName") || has("eventVersion") {
        Ok(Shape::RecordStream)
    } else {
        Err(FileDamage::NotCloudTrail(format!(
            "the top-level object has no \"Records\" or \"Events\" array and is not an event (keys: {})",
            keys.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        )))
    }
}

/// Which records a scan can skip without decoding them, because no row of the query can come from
/// them. Skipped records are still checked for valid JSON, so a damaged file is reported whatever
/// the query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only records with an `errorCode` can matter (the query needs `errorcode` to be non-null).
    pub needs_error_code: bool,
}

const ERROR_CODE_KEY: &[u8] = b"\"errorCode\"";

#[derive(Deserialize)]
struct RawTrailEnvelope<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// Decodes every record of a file's text that `filter` lets through and passes each to `sink`, in
/// file order, only once the whole file has parsed. Only the fields of the `wanted` columns (and
/// those the filter reads) are parsed into the records.
pub(crate) fn decode_records(
    text: &[u8],
    filter: RecordFilter,
    wanted: ColumnSet,
    sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let wanted = if filter.needs_error_code {
        wanted.with(column::ERRORCODE)
    } else {
        wanted
    };
    with_wanted_columns(wanted, || decode_filtered(text, filter, sink))
}

fn decode_filtered(
    text: &[u8],
    filter: RecordFilter,
    mut sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    if filter.needs_error_code && first_key(text) == Some(b"Records") {
        return decode_records_with_error_code(text, sink);
    }
    match decode_shape(text, &mut |record: &Record<'_>| {
        if !filter.needs_error_code || record.error_code.0.is_some() {
            sink(record);
        }
    }) {
        Err(FileDamage::InvalidJson(error)) if contains(text, b"\"CloudTrailEvent\"") => {
            let embedded =
                repair_cli_v1_lookup_events(text).ok_or(FileDamage::InvalidJson(error))?;
            let records = parse_embedded(&embedded)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        other => other,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The common case of a denial query over delivered files: most records have no `errorCode`.
/// Records are delimited without parsing ([`crate::structural`]), and only those whose text holds
/// the key are parsed. A file that cannot be delimited so goes through serde_json, which checks
/// every record's syntax and names the fault.
fn decode_records_with_error_code(
    text: &[u8],
    sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let Some(spans) = crate::structural::record_spans(text) else {
        return decode_records_with_error_code_checked(text, sink);
    };
    let mut candidates = Vec::new();
    let mut spans = spans.into_iter().peekable();
    for at in ERROR_CODE_FINDER.find_iter(text) {
        while spans.next_if(|span| span.end <= at).is_some() {}
        if let Some(span) = spans.next_if(|span| span.start < at) {
            candidates.push(&text[span]);
        }
    }
    parse_with_error_code(&candidates, sink)
}

static ERROR_CODE_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(ERROR_CODE_KEY));

fn parse_with_error_code(
    candidates: &[&[u8]],
    mut sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let mut decoded = Vec::new();
    for json in candidates {
        let record: Record = serde_json::from_slice(json).map_err(FileDamage::from)?;
        if record.error_code.0.is_some() {
            decoded.push(record);
        }
    }
    decoded.iter().for_each(&mut sink);
    Ok(Decoded::Records(decoded.len()))
}

/// The same with every record's syntax checked by serde_json: for files [`crate::structural`]
/// does not delimit.
fn decode_records_with_error_code_checked(
    text: &[u8],
    sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let mut raw_records = Vec::new();
    for envelope in serde_json::Deserializer::from_slice(text).into_iter::<RawTrailEnvelope>() {
        match envelope.map_err(FileDamage::from)?.records {
            Some(records) => raw_records.extend(records),
            None => {
                return Err(FileDamage::NotCloudTrail(
                    "an object in the file has no \"Records\" array".into(),
                ));
            }
        }
    }
    let mut candidates = Vec::new();
    for raw in &raw_records {
        let json = raw.get();
        if !json.starts_with('{') {
            return Err(FileDamage::NotCloudTrail(format!(
                "a record is not a JSON object: {}",
                json.chars().take(40).collect::<String>()
            )));
        }
        if contains(json.as_bytes(), ERROR_CODE_KEY) {
            candidates.push(json.as_bytes());
        }
    }
    parse_with_error_code(&candidates, sink)
}

fn parse_embedded<S: AsRef<str>>(strings: &[S]) -> Result<Vec<Record<'_>>, FileDamage> {
    strings
        .iter()
        .map(|s| serde_json::from_str::<Record>(s.as_ref()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            FileDamage::NotCloudTrail(format!("a CloudTrailEvent string is not a record: {e}"))
        })
}

/// The AWS documentation shows lookup-events output with each `CloudTrailEvent` string laid out
/// over several lines, which is not valid JSON (raw newlines and unbalanced quotes inside a
/// string). Such pasted output is common enough to read: take each embedded document by brace
/// depth, with `\"` read as `"`. Returns `None` when that does not yield balanced documents.
fn repair_cli_v1_lookup_events(text: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut documents = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\"CloudTrailEvent\"") {
        rest = rest[at + "\"CloudTrailEvent\"".len()..]
            .trim_start()
            .strip_prefix(':')?
            .trim_start()
            .strip_prefix('"')?
            .trim_start();
        if !rest.starts_with('{') {
            return None;
        }
        let mut document = String::new();
        let (mut depth, mut in_string) = (0usize, false);
        let mut chars = rest.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            let c = if c == '\\' {
                match chars.next()? {
                    (_, '"') => '"',
                    (_, other) => {
                        document.push('\\');
                        other
                    }
                }
            } else {
                c
            };
            document.push(c);
            match c {
                '"' => in_string = !in_string,
                '{' if !in_string => depth += 1,
                '}' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        break i;
                    }
                }
                _ => {}
            }
        };
        documents.push(document);
        rest = &rest[end + 1..];
    }
    (!documents.is_empty()).then_some(documents)
}

fn decode_shape(text: &[u8], mut sink: impl FnMut(&Record<'_>)) -> Result<Decoded, FileDamage> {
    match shape_of(text)? {
        Shape::LookupStream => {
            let events = serde_json::Deserializer::from_slice(text)
                .into_iter::<LookupEvent>()
                .collect::<Result<Vec<_>, _>>()
                .map_err(FileDamage::from)?;
            let strings: Vec<&str> = events
                .iter()
                .filter_map(|e| e.cloudtrail_event.as_deref())
                .collect();
            let records = parse_embedded(&strings)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        Shape::NonEvent(kind) => Ok(Decoded::NonEvent(kind)),
        Shape::RecordArray => {
            let records: Vec<Record> = serde_json::from_slice(text).map_err(FileDamage::from)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        Shape::RecordStream => {
            let records = serde_json::Deserializer::from_slice(text)
                .into_iter::<Record>()
                .collect::<Result<Vec<_>, _>>()
                .map_err(FileDamage::from)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        Shape::Envelope => {
            let mut records = Vec::new();
            let mut lookup_events = Vec::new();
            for envelope in serde_json::Deserializer::from_slice(text).into_iter::<TrailEnvelope>()
            {
                let envelope = envelope.map_err(FileDamage::from)?;
                match (envelope.records, envelope.events) {
                    (Some(r), _) => records.extend(r),
                    (None, Some(events)) => lookup_events.extend(events),
                    (None, None) => {
                        return Err(FileDamage::NotCloudTrail(
                            "an object in the file has neither \"Records\" nor \"Events\"".into(),
                        ));
                    }
                }
            }
            // lookup-events carries each record as a string; parse those before appending anything.
            let strings: Vec<&str> = lookup_events
                .iter()
                .filter_map(|e| e.cloudtrail_event.as_deref())
                .collect();
            let embedded = parse_embedded(&strings)?;
            records.iter().chain(embedded.iter()).for_each(&mut sink);
            Ok(Decoded::Records(records.len() + embedded.len()))
        }
    }
}
