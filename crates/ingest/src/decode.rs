//! Turns one file's bytes into records: gzip detection, the shapes a trail comes in, and the
//! reasons a file is rejected.
//!
//! A file is decoded completely before any of its records is handed on, so a damaged file
//! contributes nothing rather than a prefix of itself.
//!
//! A file's text is made valid Unicode once, before any parsing ([`decode_file`]): serde_json
//! checks only the strings it deserializes, so a fault in a field a query does not read would
//! otherwise damage the file for one query and not for another.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::path::NonEventKind;
use crate::record::{
    FromJsonText, Record, Shared, SharedIdentity, Text, TlsDetails, record_key_column,
    set_record_field, with_wanted_columns,
};
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
    #[error(
        "inflates to more than {limit_mib} MiB, far more than any CloudTrail log file (a gzip bomb?); if it is a log, raise the limit with --max-inflated-mib"
    )]
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

/// Characters of a file's text that were not valid Unicode, each replaced with U+FFFD so that the
/// file reads the same whichever of its fields a query parses. The records were read: a file
/// needing repairs is worth a warning, not a skip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextRepairs {
    /// Invalid UTF-8 sequences, each replaced as `String::from_utf8_lossy` does.
    pub invalid_utf8: u64,
    /// `\uD800`-`\uDFFF` escapes that are not half of a surrogate pair, each replaced with
    /// `\uFFFD`.
    pub lone_surrogates: u64,
}

impl TextRepairs {
    pub const NONE: TextRepairs = TextRepairs {
        invalid_utf8: 0,
        lone_surrogates: 0,
    };

    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

impl fmt::Display for TextRepairs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.invalid_utf8 > 0 {
            parts.push(counted(self.invalid_utf8, "invalid UTF-8 sequence"));
        }
        if self.lone_surrogates > 0 {
            parts.push(counted(self.lone_surrogates, "unpaired surrogate escape"));
        }
        write!(f, "{} replaced with U+FFFD", parts.join(" and "))
    }
}

fn counted(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A file's records, decoded from its bytes as fetched: gzip inflated, the text made valid
/// Unicode, its shape recognised, records filtered and handed to `sink` (see [`decode_records`]).
/// Every reader of files goes through here.
///
/// Valid text, nearly every file, costs a search for `\u` and one validation (simdutf8: 3.5 times
/// std's speed on the buffer the inflater just wrote), and no copy.
pub(crate) fn decode_file(
    raw: Vec<u8>,
    max_inflated_bytes: usize,
    filter: RecordFilter,
    wanted: ColumnSet,
    sink: impl FnMut(&Record<'_>),
) -> Result<(Decoded, TextRepairs), FileDamage> {
    if crate::ocsf::is_parquet(&raw) {
        // Security Lake's OCSF rows, read back into a trail file's text: valid Unicode by
        // construction.
        let text = crate::ocsf::records_text(raw)?;
        let mut repairs = TextRepairs::NONE;
        let decoded = decode_records(
            &text,
            filter,
            wanted,
            max_inflated_bytes,
            &mut repairs,
            sink,
        )?;
        return Ok((decoded, repairs));
    }
    let mut bytes = read_bytes(raw, max_inflated_bytes)?;
    let mut repairs = TextRepairs {
        invalid_utf8: 0,
        lone_surrogates: replace_lone_surrogate_escapes(&mut bytes),
    };
    let repaired;
    let text = if let Ok(text) = simdutf8::basic::from_utf8(&bytes) {
        text
    } else {
        let invalid_utf8;
        (repaired, invalid_utf8) = replace_invalid_utf8(bytes);
        repairs.invalid_utf8 = invalid_utf8;
        repaired.as_str()
    };
    let decoded = decode_records(text, filter, wanted, max_inflated_bytes, &mut repairs, sink)?;
    Ok((decoded, repairs))
}

/// `text` with each invalid UTF-8 sequence replaced with U+FFFD, as `String::from_utf8_lossy`
/// does, and how many there were.
pub(crate) fn replace_invalid_utf8(text: Vec<u8>) -> (String, u64) {
    let error = match String::from_utf8(text) {
        Ok(text) => return (text, 0),
        Err(error) => error,
    };
    let valid = error.utf8_error().valid_up_to();
    let mut text = error.into_bytes();
    let tail = text.split_off(valid);
    // The valid prefix keeps its buffer (valid by construction: the default is never taken);
    // the rest is copied with each invalid sequence replaced.
    let mut repaired = String::from_utf8(text).unwrap_or_default();
    repaired.reserve(tail.len() + 2);
    let mut replaced = 0;
    for chunk in tail.utf8_chunks() {
        repaired.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            repaired.push(char::REPLACEMENT_CHARACTER);
            replaced += 1;
        }
    }
    (repaired, replaced)
}

const REPLACEMENT_ESCAPE: &str = r"\uFFFD";

/// Replaces each `\uXXXX` escape of a UTF-16 surrogate that is not half of a high-low pair with
/// `\uFFFD` (the same length, so in place), and returns how many. serde_json refuses such escapes
/// in the strings it deserializes and passes them in the ones it skips.
pub(crate) fn replace_lone_surrogate_escapes(text: &mut [u8]) -> u64 {
    let mut replaced = 0;
    for at in lone_surrogate_escapes(text) {
        text[at..at + REPLACEMENT_ESCAPE.len()].copy_from_slice(REPLACEMENT_ESCAPE.as_bytes());
        replaced += 1;
    }
    replaced
}

/// Where the unpaired surrogate escapes of `text` start. A backslash only ever starts an escape
/// (JSON has none outside strings, and it is never part of a multi-byte UTF-8 sequence), so
/// escapes are found by stepping from backslash to backslash over each escape's length.
fn lone_surrogate_escapes(text: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    // Most files have no `\u` escape at all: one pass says so.
    let Some(first) = memchr::memmem::find(text, br"\u") else {
        return found;
    };
    let surrogate_at = |at: usize| -> Option<u16> {
        let hex = text.get(at..at + 6)?.strip_prefix(br"\u")?;
        let unit = hex.iter().try_fold(0u16, |unit, &digit| {
            Some(unit << 4 | (digit as char).to_digit(16)? as u16)
        })?;
        (0xD800..=0xDFFF).contains(&unit).then_some(unit)
    };
    // That `\u` may be the end of an escaped backslash (`\\u`): start at the first backslash of
    // its run, which starts an escape.
    let mut next = text[..first]
        .iter()
        .rposition(|&b| b != b'\\')
        .map_or(0, |i| i + 1);
    // `next` passes the end when the text ends inside an escape.
    while let Some(offset) = text
        .get(next..)
        .and_then(|rest| memchr::memchr(b'\\', rest))
    {
        let at = next + offset;
        next = match text.get(at + 1) {
            Some(b'u') => match surrogate_at(at) {
                Some(0xD800..=0xDBFF) if surrogate_at(at + 6).is_some_and(|low| low >= 0xDC00) => {
                    at + 12
                }
                Some(_) => {
                    found.push(at);
                    at + 6
                }
                None => at + 6,
            },
            Some(_) => at + 2,
            None => break,
        };
    }
    found
}

pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a file and inflates it when it is gzip (by content, whatever its name). Every gzip
/// member is read: concatenated members are one valid gzip stream.
pub(crate) fn read_bytes(raw: Vec<u8>, max_inflated_bytes: usize) -> Result<Vec<u8>, FileDamage> {
    if raw.is_empty() {
        return Err(FileDamage::Empty);
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let out = crate::inflate::inflate_gzip(&raw, max_inflated_bytes).map_err(|e| match e {
        crate::inflate::InflateError::Corrupt(e) => FileDamage::TruncatedGzip(e.to_string()),
        crate::inflate::InflateError::TooLarge => FileDamage::TooLarge {
            limit_mib: max_inflated_bytes >> 20,
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
pub(crate) struct TopLevelKeys {
    pub keys: Vec<String>,
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

const BYTE_ORDER_MARK: char = '\u{FEFF}';

/// Where the records of a file's text are, decided once per file.
enum Shape {
    Envelope,
    /// One lookup-events entry per line (`{"EventId":...,"CloudTrailEvent":"..."}`).
    LookupStream,
    RecordStream,
    RecordArray,
    /// A CloudWatch Logs export task's file: `<ISO-8601 time> <record>` per line.
    CwlExport,
    /// CloudWatch Logs subscription messages, concatenated as Firehose delivers them.
    CwlSubscription,
    /// Lambda's CloudWatch Logs events: `{"awslogs":{"data":"<base64 of gzip>"}}`.
    LambdaSubscription,
    /// EventBridge events one after the other (per line or one per file), the record in `detail`.
    EventBridgeStream,
    /// A JSON array of EventBridge events.
    EventBridgeArray,
    /// CloudTrail Lake query results (`aws cloudtrail get-query-results`).
    LakeResults,
    NonEvent(NonEventKind),
}

/// The keys of the first element of a JSON array, `None` when it has no object first.
fn first_element_keys(array: &str) -> Option<Vec<String>> {
    let inner = array.trim_ascii_start().strip_prefix('[')?;
    let mut stream = serde_json::Deserializer::from_str(inner).into_iter::<TopLevelKeys>();
    stream.next()?.ok().map(|keys| keys.keys)
}

fn shape_of(text: &str) -> Result<Shape, FileDamage> {
    let trimmed = text.trim_ascii_start();
    match trimmed.as_bytes().first() {
        Some(b'[') => {
            let keys = first_element_keys(trimmed).unwrap_or_default();
            return Ok(if keys.iter().any(|key| key == "detail-type") {
                Shape::EventBridgeArray
            } else {
                Shape::RecordArray
            });
        }
        Some(b'{') => {}
        Some(b'0'..=b'9') if crate::shapes::is_cwl_export_line(trimmed) => {
            return Ok(Shape::CwlExport);
        }
        Some(_) => {
            return Err(FileDamage::NotCloudTrail(
                "expected a JSON object such as {\"Records\": [...]}".into(),
            ));
        }
        None => return Err(FileDamage::Empty),
    }
    if let Some(b"Records" | b"Events") = first_key(trimmed.as_bytes()) {
        return Ok(Shape::Envelope);
    }
    // Uncommon layouts (pretty-printed output with other keys first, single records, NDJSON):
    // look at the first object's keys.
    let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<TopLevelKeys>();
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
    } else if has("messageType") && has("logEvents") || has("messageType") && has("owner") {
        Ok(Shape::CwlSubscription)
    } else if has("awslogs") {
        Ok(Shape::LambdaSubscription)
    } else if has("detail-type") {
        Ok(Shape::EventBridgeStream)
    } else if has("QueryResultRows") {
        Ok(Shape::LakeResults)
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
    /// When set, a record without an error code fills only these of the wanted columns (the
    /// others null), and a record with one every wanted column: one read serves queries that
    /// need a few columns of every record and every column of the failed calls.
    pub columns_without_error_code: Option<ColumnSet>,
    /// With `columns_without_error_code`, records whose event name starts with one of these are
    /// read whole too, with or without an error code: a hunt reads the role a successful
    /// `AssumeRole` asked for from its request, and no other request of a successful call.
    pub whole_event_name_prefixes: &'static [&'static str],
}

impl RecordFilter {
    /// The columns a scan of the `wanted` ones parses: the filter's choices read the error code,
    /// and the event name when names choose records too.
    fn columns_parsed(&self, wanted: ColumnSet) -> ColumnSet {
        let light = self.columns_without_error_code.is_some();
        let mut parsed = wanted;
        if self.needs_error_code || light {
            parsed = parsed.with(column::ERRORCODE);
        }
        if light && !self.whole_event_name_prefixes.is_empty() {
            parsed = parsed.with(column::EVENTNAME);
        }
        parsed
    }

    /// Whether `record`, which has no error code, is still read whole for its event name.
    fn named_whole(&self, record: &Record<'_>) -> bool {
        record.event_name.as_deref().is_some_and(|name| {
            self.whole_event_name_prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
    }
}

const ERROR_CODE_KEY: &[u8] = b"\"errorCode\"";

#[derive(Deserialize)]
struct RawTrailEnvelope<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// Decodes every record of a file's text that `filter` lets through and passes each to `sink`, in
/// file order, only once the whole file has parsed. Only the fields of the `wanted` columns (and
/// those the filter reads) are parsed into the records. The text has no unpaired surrogate escape
/// ([`decode_file`]); documents embedded in its strings are repaired here, counted in `repairs`.
fn decode_records(
    text: &str,
    filter: RecordFilter,
    wanted: ColumnSet,
    max_inflated_bytes: usize,
    repairs: &mut TextRepairs,
    sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let wanted = filter.columns_parsed(wanted);
    let filter = RecordFilter {
        columns_without_error_code: filter
            .columns_without_error_code
            .map(|light| light.intersection(wanted).with(column::ERRORCODE)),
        ..filter
    };
    with_wanted_columns(wanted, || {
        decode_filtered(text, filter, wanted, max_inflated_bytes, repairs, sink)
    })
}

fn decode_filtered(
    text: &str,
    filter: RecordFilter,
    wanted: ColumnSet,
    max_inflated_bytes: usize,
    repairs: &mut TextRepairs,
    mut sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let text = text.strip_prefix(BYTE_ORDER_MARK).unwrap_or(text);
    if first_key(text.as_bytes()) == Some(b"Records") {
        if filter.needs_error_code {
            return decode_records_with_error_code(text, sink);
        }
        if let Some(decoded) = decode_indexed(text, wanted, &filter, &mut sink) {
            return Ok(decoded);
        }
    }
    let mut hand_on = |record: &Record<'_>| {
        if record.error_code.0.is_some() {
            sink(record);
        } else if !filter.needs_error_code {
            match filter.columns_without_error_code {
                Some(light) if !filter.named_whole(record) => sink(&record.only(light)),
                _ => sink(record),
            }
        }
    };
    match decode_shape(text, max_inflated_bytes, repairs, &mut hand_on) {
        Err(FileDamage::InvalidJson(error))
            if contains(text.as_bytes(), b"\"CloudTrailEvent\"") =>
        {
            let embedded =
                repair_cli_v1_lookup_events(text).ok_or(FileDamage::InvalidJson(error))?;
            let embedded = repair_embedded(embedded, repairs);
            let records = parse_embedded(&embedded)?;
            records.iter().for_each(&mut hand_on);
            Ok(Decoded::Records(records.len()))
        }
        other => other,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The common case of a scan of every record, a file as CloudTrail delivers it: records are
/// delimited and their keys found without parsing ([`crate::structural`]), then only the values of
/// the wanted columns are parsed, each from its own bytes; the values of the others (the request
/// and response documents of data events, mostly) are never walked again. `None` when the file
/// cannot be indexed so, or a value does not parse as its column's type: the caller parses the
/// file whole, which names the fault.
fn decode_indexed(
    text: &str,
    wanted: ColumnSet,
    filter: &RecordFilter,
    sink: &mut impl FnMut(&Record<'_>),
) -> Option<Decoded> {
    let index = crate::structural::record_index(text.as_bytes())?;
    let mut records = Vec::with_capacity(index.spans.len());
    let mut identities: ParsedOnce<'_, Option<SharedIdentity<'_>>> = ParsedOnce::default();
    let mut connections: ParsedOnce<'_, Option<Shared<TlsDetails<'_>>>> = ParsedOnce::default();
    // Each key of a record, read once: its column, its text and where its value starts.
    let mut fields: Vec<(Option<usize>, Cow<'_, str>, usize)> = Vec::new();
    for i in 0..index.spans.len() {
        let (span, keys) = index.record(i);
        // The JSON text of the value of key `k`: between a value and the next key only
        // whitespace and the comma; the last value ends before the record's `}`.
        let value = |k: usize, after_key: usize| {
            let value_end = match keys.get(k + 1) {
                Some(&next) => {
                    after_key + memchr::memrchr(b',', &text.as_bytes()[after_key..next])?
                }
                None => span.end - 1,
            };
            text.get(after_key..value_end)?
                .trim_ascii_start()
                .strip_prefix(':')
        };
        fields.clear();
        for &key_at in keys {
            let (key, after_key) = record_key(text, key_at)?;
            fields.push((record_key_column(&key), key, after_key));
        }
        let mut record = Record::default();
        // Columns the choice below has already filled.
        let mut filled = ColumnSet::NONE;
        let parsed = match filter.columns_without_error_code {
            None => wanted,
            Some(light) => {
                // Which columns the record fills depends on its error code and its name: those
                // first.
                let by_name = !filter.whole_event_name_prefixes.is_empty();
                for (k, (column, key, after_key)) in fields.iter().enumerate() {
                    if *column == Some(column::ERRORCODE)
                        || by_name && *column == Some(column::EVENTNAME)
                    {
                        set_record_field(&mut record, key, value(k, *after_key)?).ok()?;
                        filled = filled.with(column.expect("matched above"));
                    }
                }
                let parsed = if record.error_code.0.is_some() || filter.named_whole(&record) {
                    wanted
                } else {
                    light
                };
                if !parsed.contains(column::EVENTNAME) {
                    // Read for the choice, and not a column these records fill.
                    record.event_name = Text(None);
                }
                parsed
            }
        };
        for (k, (column, key, after_key)) in fields.iter().enumerate() {
            let Some(column) = *column else { continue };
            if !parsed.contains(column) || filled.contains(column) {
                continue;
            }
            let value = value(k, *after_key)?;
            if column == column::USERIDENTITY {
                record.user_identity = identities.parse(value).ok()?;
            } else if column == column::TLSDETAILS {
                record.tls_details = connections.parse(value).ok()?;
            } else {
                set_record_field(&mut record, key, value).ok()?;
            }
        }
        records.push(record);
    }
    records.iter().for_each(sink);
    Some(Decoded::Records(index.spans.len()))
}

/// The values of one field (`userIdentity`, `tlsDetails`) in one file, parsed once each. A file
/// holds a few principals' calls over a few connections, each repeating its identity's and its
/// connection's text byte for byte, so most records find theirs here for the cost of hashing the
/// text instead of parsing it.
struct ParsedOnce<'a, T> {
    // Seeded per run: a file cannot be written so that its values collide and the map slows to
    // a crawl.
    parsed: HashMap<&'a str, T, foldhash::fast::RandomState>,
}

impl<T> Default for ParsedOnce<'_, T> {
    fn default() -> Self {
        Self {
            parsed: HashMap::default(),
        }
    }
}

impl<'a, T: FromJsonText<'a> + Clone> ParsedOnce<'a, T> {
    /// The value whose JSON text is `text`; an error when it does not parse as one.
    fn parse(&mut self, text: &'a str) -> Result<T, serde_json::Error> {
        if let Some(value) = self.parsed.get(text) {
            return Ok(value.clone());
        }
        let value = T::from_json_text(text)?;
        self.parsed.insert(text, value.clone());
        Ok(value)
    }
}

/// The common case of a denial query over delivered files: most records have no `errorCode`.
/// Records are delimited without parsing ([`crate::structural`]), and only those whose text holds
/// the key, or an escape that could spell it (`"err\u006frCode"` is the same key), are parsed. A
/// file that cannot be delimited so goes through serde_json, which checks every record's syntax
/// and names the fault.
fn decode_records_with_error_code(
    text: &str,
    sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let Some(spans) = crate::structural::record_spans(text.as_bytes()) else {
        return decode_records_with_error_code_checked(text, sink);
    };
    // The records holding a match of `finder`, by index, in order.
    let holding = |finder: &memchr::memmem::Finder<'_>| {
        let mut hit: Vec<usize> = Vec::new();
        for at in finder.find_iter(text.as_bytes()) {
            let i = spans.partition_point(|span| span.end <= at);
            if spans.get(i).is_some_and(|span| span.start < at) && hit.last() != Some(&i) {
                hit.push(i);
            }
        }
        hit
    };
    let mut hit = holding(&ERROR_CODE_FINDER);
    let escaped = holding(&ESCAPE_FINDER);
    if !escaped.is_empty() {
        hit.extend(escaped);
        hit.sort_unstable();
        hit.dedup();
    }
    let mut candidates = Vec::with_capacity(hit.len());
    for i in hit {
        // A record starts at a `{` and ends after a `}`, on character boundaries; a span that
        // does not is a delimiting fault, left to the full parser like the others.
        let Some(record) = text.get(spans[i].clone()) else {
            return decode_records_with_error_code_checked(text, sink);
        };
        candidates.push(record);
    }
    parse_with_error_code(&candidates, spans.len(), sink)
}

static ESCAPE_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));

static ERROR_CODE_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(ERROR_CODE_KEY));

/// The key whose opening quote is at `at`, unescaped, and the offset just past its closing quote.
fn record_key(text: &str, at: usize) -> Option<(Cow<'_, str>, usize)> {
    let start = at + 1;
    let end = start + memchr::memchr2(b'"', b'\\', &text.as_bytes()[start..])?;
    if text.as_bytes()[end] == b'"' {
        return Some((Cow::Borrowed(text.get(start..end)?), end + 1));
    }
    // An escape in a key (none in what CloudTrail writes): serde_json reads the string.
    let mut keys = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Cow<str>>();
    let key = keys.next()?.ok()?;
    Some((key, at + keys.byte_offset()))
}

/// Parses the `candidates`, hands on those with an error code, and counts all `records` of the
/// file as read: the others were skipped, not missed.
fn parse_with_error_code(
    candidates: &[&str],
    records: usize,
    mut sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let mut decoded = Vec::new();
    for json in candidates {
        let record: Record = serde_json::from_str(json).map_err(FileDamage::from)?;
        if record.error_code.0.is_some() {
            decoded.push(record);
        }
    }
    decoded.iter().for_each(&mut sink);
    Ok(Decoded::Records(records))
}

/// The same with every record's syntax checked by serde_json: for files [`crate::structural`]
/// does not delimit.
fn decode_records_with_error_code_checked(
    text: &str,
    sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    let mut raw_records = Vec::new();
    for envelope in serde_json::Deserializer::from_str(text).into_iter::<RawTrailEnvelope>() {
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
        if contains(json.as_bytes(), ERROR_CODE_KEY) || contains(json.as_bytes(), b"\\u") {
            candidates.push(json);
        }
    }
    parse_with_error_code(&candidates, raw_records.len(), sink)
}

/// The documents embedded in strings, with their unpaired surrogate escapes replaced: the file's
/// `\\uD800` unescapes to an embedded `\uD800`, which the file's repair did not see.
pub(crate) fn repair_embedded<'a, S: Into<Cow<'a, str>>>(
    documents: Vec<S>,
    repairs: &mut TextRepairs,
) -> Vec<Cow<'a, str>> {
    documents
        .into_iter()
        .map(|document| {
            let document = document.into();
            let lone = lone_surrogate_escapes(document.as_bytes());
            if lone.is_empty() {
                return document;
            }
            repairs.lone_surrogates += lone.len() as u64;
            let mut document = document.into_owned();
            for at in lone {
                document.replace_range(at..at + REPLACEMENT_ESCAPE.len(), REPLACEMENT_ESCAPE);
            }
            Cow::Owned(document)
        })
        .collect()
}

fn parse_embedded<S: AsRef<str>>(strings: &[S]) -> Result<Vec<Record<'_>>, FileDamage> {
    parse_embedded_as(strings, "a CloudTrailEvent string")
}

/// Records parsed from JSON documents held in strings; `what` names such a string in the damage.
pub(crate) fn parse_embedded_as<'a, S: AsRef<str>>(
    strings: &'a [S],
    what: &str,
) -> Result<Vec<Record<'a>>, FileDamage> {
    strings
        .iter()
        .map(|s| serde_json::from_str::<Record>(s.as_ref()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FileDamage::NotCloudTrail(format!("{what} is not a record: {e}")))
}

/// The AWS documentation shows lookup-events output with each `CloudTrailEvent` string laid out
/// over several lines, which is not valid JSON (raw newlines and unbalanced quotes inside a
/// string). Such pasted output is common enough to read: take each embedded document by brace
/// depth, with `\"` read as `"`. Returns `None` when that does not yield balanced documents.
fn repair_cli_v1_lookup_events(text: &str) -> Option<Vec<String>> {
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

fn decode_shape(
    text: &str,
    max_inflated_bytes: usize,
    repairs: &mut TextRepairs,
    mut sink: impl FnMut(&Record<'_>),
) -> Result<Decoded, FileDamage> {
    fn hand_on(records: &[Record<'_>], sink: &mut impl FnMut(&Record<'_>)) -> Decoded {
        records.iter().for_each(sink);
        Decoded::Records(records.len())
    }
    match shape_of(text)? {
        Shape::CwlExport => Ok(hand_on(
            &crate::shapes::cwl_export_records(text)?,
            &mut sink,
        )),
        Shape::EventBridgeStream => Ok(hand_on(
            &crate::shapes::eventbridge_stream_records(text)?,
            &mut sink,
        )),
        Shape::EventBridgeArray => Ok(hand_on(
            &crate::shapes::eventbridge_array_records(text)?,
            &mut sink,
        )),
        Shape::CwlSubscription => {
            crate::shapes::subscription_records(text, repairs, &mut sink).map(Decoded::Records)
        }
        Shape::LakeResults => {
            crate::shapes::lake_records(text, repairs, &mut sink).map(Decoded::Records)
        }
        Shape::LambdaSubscription => {
            crate::shapes::lambda_records(text, max_inflated_bytes, repairs, &mut sink)
                .map(Decoded::Records)
        }
        Shape::LookupStream => {
            let events = serde_json::Deserializer::from_str(text)
                .into_iter::<LookupEvent>()
                .collect::<Result<Vec<_>, _>>()
                .map_err(FileDamage::from)?;
            let strings: Vec<&str> = events
                .iter()
                .filter_map(|e| e.cloudtrail_event.as_deref())
                .collect();
            let strings = repair_embedded(strings, repairs);
            let records = parse_embedded(&strings)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        Shape::NonEvent(kind) => Ok(Decoded::NonEvent(kind)),
        Shape::RecordArray => {
            let records: Vec<Record> = serde_json::from_str(text).map_err(FileDamage::from)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        Shape::RecordStream => {
            let records = serde_json::Deserializer::from_str(text)
                .into_iter::<Record>()
                .collect::<Result<Vec<_>, _>>()
                .map_err(FileDamage::from)?;
            records.iter().for_each(&mut sink);
            Ok(Decoded::Records(records.len()))
        }
        Shape::Envelope => {
            let mut records = Vec::new();
            let mut lookup_events = Vec::new();
            for envelope in serde_json::Deserializer::from_str(text).into_iter::<TrailEnvelope>() {
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
            let strings = repair_embedded(strings, repairs);
            let embedded = parse_embedded(&strings)?;
            records.iter().chain(embedded.iter()).for_each(&mut sink);
            Ok(Decoded::Records(records.len() + embedded.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records decoded as a scan decodes them (through the record index), and by serde_json over
    /// the whole file, as text.
    fn both_ways(text: &str, filter: RecordFilter, wanted: ColumnSet) -> (String, String) {
        assert!(
            crate::structural::record_index(text.as_bytes()).is_some(),
            "not an indexed file"
        );
        let mut indexed = Vec::new();
        let mut repairs = TextRepairs::NONE;
        decode_records(text, filter, wanted, usize::MAX, &mut repairs, |r| {
            indexed.push(format!("{r:?}"));
        })
        .expect("a valid file");
        let wanted = filter.columns_parsed(wanted);
        let light = filter
            .columns_without_error_code
            .map(|light| light.intersection(wanted).with(column::ERRORCODE));
        let mut whole = Vec::new();
        with_wanted_columns(wanted, || {
            decode_shape(text, usize::MAX, &mut repairs, |r: &Record<'_>| {
                if r.error_code.0.is_some()
                    || light.is_some() && filter.named_whole(r)
                    || light.is_none() && !filter.needs_error_code
                {
                    whole.push(format!("{r:?}"));
                } else if let Some(light) = light {
                    whole.push(format!("{:?}", r.only(light)));
                }
            })
        })
        .expect("a valid file");
        (indexed.join("\n"), whole.join("\n"))
    }

    fn filters() -> [RecordFilter; 4] {
        let light = ColumnSet::NONE
            .with_name("eventtime")
            .with_name("useridentity");
        [
            RecordFilter::default(),
            RecordFilter {
                needs_error_code: true,
                ..RecordFilter::default()
            },
            RecordFilter {
                columns_without_error_code: Some(light),
                ..RecordFilter::default()
            },
            RecordFilter {
                columns_without_error_code: Some(light),
                whole_event_name_prefixes: &["AssumeRole", "Put"],
                ..RecordFilter::default()
            },
        ]
    }

    fn column_sets() -> [ColumnSet; 4] {
        let names = |names: &[&str]| {
            names
                .iter()
                .fold(ColumnSet::NONE, |set, n| set.with_name(n))
        };
        [
            ColumnSet::ALL,
            ColumnSet::NONE,
            names(&["eventsource"]),
            names(&[
                "useridentity",
                "requestparameters",
                "resources",
                "eventtime",
            ]),
        ]
    }

    #[test]
    fn the_record_index_decodes_what_serde_json_decodes() {
        let text = concat!(
            "{\"Records\" : [ {\"eventSource\" : \"s3.amazonaws.com\" ,\"errorCode\":null,",
            "\"requestParameters\":{\"a\":[1,{\"b\":\"},\\\"\"}]},\"resources\":[{\"ARN\":\"x\"},\"s\"]",
            ",\"even\\u0074Source\":\"escaped.key\",\"eventTime\":\"2020-01-01T00:00:00Z\"} ,",
            "{},{\"errorCode\":\"AccessDenied\",\"eventSource\":1.5e3,\"eventSource\":true,",
            "\"userIdentity\":{\"type\":\"IAMUser\",\"sessionContext\":{\"attributes\":{}}}}",
            ",{\"unknownKey\":{\"errorCode\":\"nested\"}}",
            ",{\"eventName\":\"AssumeRoleWithSAML\",\"requestParameters\":{\"roleArn\":\"r\"}}",
            ",{\"requestParameters\":{\"bucketName\":\"b\"},\"eventName\":\"GetObject\"}",
            // The key written with an escape is still the key: a denial query must see it.
            ",{\"err\\u006frCode\":\"AccessDenied\",\"eventName\":\"GetObject\"}]}"
        );
        for filter in filters() {
            for wanted in column_sets() {
                let (indexed, whole) = both_ways(text, filter, wanted);
                assert_eq!(indexed, whole, "{filter:?} {wanted:?}");
            }
        }
        let (denials, _) = both_ways(text, filters()[1], ColumnSet::ALL);
        assert_eq!(denials.lines().count(), 2, "{denials}");
    }

    #[test]
    fn a_file_read_whole_leaves_the_columns_of_records_without_an_error_code_out_as_asked() {
        // One record per line: a shape the record index does not read.
        let text = concat!(
            "{\"eventTime\":\"t1\",\"eventName\":\"GetObject\",\"sourceIPAddress\":\"1.1.1.1\"}\n",
            "{\"eventTime\":\"t2\",\"eventName\":\"PutObject\",\"errorCode\":\"AccessDenied\"}\n"
        );
        assert!(first_key(text.as_bytes()) != Some(b"Records"));
        let light = ColumnSet::NONE.with_name("eventtime");
        let filter = RecordFilter {
            columns_without_error_code: Some(light),
            ..RecordFilter::default()
        };
        let mut records = Vec::new();
        let mut repairs = TextRepairs::NONE;
        decode_records(
            text,
            filter,
            ColumnSet::ALL,
            usize::MAX,
            &mut repairs,
            |r| {
                records.push((
                    r.event_time.as_deref().map(str::to_owned),
                    r.event_name.as_deref().map(str::to_owned),
                    r.source_ip_address.as_deref().map(str::to_owned),
                ));
            },
        )
        .unwrap();
        assert_eq!(
            records,
            [
                (Some("t1".into()), None, None),
                (Some("t2".into()), Some("PutObject".into()), None),
            ]
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_left_to_serde_json_which_names_it() {
        let text = r#"{"Records":[{"eventID":"a"},{"userIdentity":"not an object"}]}"#;
        let all = ColumnSet::ALL;
        assert!(
            decode_indexed(text, all, &RecordFilter::default(), &mut |_: &Record<
                '_,
            >| {})
            .is_none()
        );
        let mut repairs = TextRepairs::NONE;
        let Err(error) = decode_records(text, filters()[0], all, usize::MAX, &mut repairs, |_| {})
        else {
            panic!("a string for userIdentity decoded");
        };
        assert!(error.to_string().contains("line 1 column"), "{error}");
        // A query that does not read the column has nothing to parse in it.
        let ids = ColumnSet::NONE.with_name("eventid");
        assert!(
            decode_indexed(text, ids, &RecordFilter::default(), &mut |_: &Record<
                '_,
            >| {})
            .is_some()
        );
    }

    #[test]
    fn records_repeating_an_identity_or_a_connection_share_one_parse_and_others_keep_theirs() {
        let alice = r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice"}"#;
        let bob = r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/bob"}"#;
        let tls12 = r#"{"tlsVersion":"TLSv1.2","cipherSuite":"A","clientProvidedHostHeader":"h"}"#;
        let tls13 = r#"{"tlsVersion":"TLSv1.3","cipherSuite":"A","clientProvidedHostHeader":"h"}"#;
        let text = format!(
            r#"{{"Records":[{{"userIdentity":{alice},"tlsDetails":{tls12}}},{{"userIdentity":{bob},"tlsDetails":{tls13}}},{{"userIdentity":{alice},"tlsDetails":{tls12}}},{{"userIdentity":null}}]}}"#
        );
        let (mut arns, mut versions, mut shared) = (Vec::new(), Vec::new(), Vec::new());
        decode_indexed(
            &text,
            ColumnSet::ALL,
            &RecordFilter::default(),
            &mut |r: &Record<'_>| {
                let identity = r.user_identity.as_ref();
                let tls = r.tls_details.as_ref();
                arns.push(identity.and_then(|i| i.arn.as_deref().map(str::to_owned)));
                versions.push(tls.and_then(|t| t.tls_version.as_deref().map(str::to_owned)));
                shared.push((
                    identity.map(|i| std::rc::Rc::as_ptr(&i.0) as usize),
                    tls.map(|t| std::rc::Rc::as_ptr(&t.0) as usize),
                ));
            },
        )
        .expect("an indexed file");
        let arn = |name: &str| Some(format!("arn:aws:iam::1:user/{name}"));
        assert_eq!(arns, [arn("alice"), arn("bob"), arn("alice"), None]);
        let version = |v: &str| Some(format!("TLSv{v}"));
        assert_eq!(
            versions,
            [version("1.2"), version("1.3"), version("1.2"), None]
        );
        assert_eq!(shared[0], shared[2], "a repeated value parsed twice");
        assert_ne!(shared[0].0, shared[1].0);
        assert_ne!(shared[0].1, shared[1].1);
    }

    #[test]
    fn the_record_index_decodes_real_trails_as_serde_json_does() {
        let mut dirs = vec![ctq_testkit::sample_logs()];
        let realdata = ctq_testkit::repo().join("../shared/realdata");
        if realdata.exists() {
            dirs.push(realdata);
        } else {
            ctq_testkit::skip("../shared/realdata is not present: sample-logs only");
        }
        let mut indexed_files = 0;
        for path in dirs.iter().flat_map(|dir| ctq_testkit::walk(dir)) {
            let Ok(bytes) = read_bytes(std::fs::read(&path).unwrap(), usize::MAX) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if first_key(text.as_bytes()) != Some(b"Records")
                || crate::structural::record_index(text.as_bytes()).is_none()
            {
                continue;
            }
            for filter in filters() {
                for wanted in column_sets() {
                    let (indexed, whole) = both_ways(text, filter, wanted);
                    assert_eq!(indexed, whole, "{}: {filter:?} {wanted:?}", path.display());
                }
            }
            indexed_files += 1;
        }
        assert!(indexed_files >= 10, "files indexed: {indexed_files}");
    }

    #[test]
    fn invalid_utf8_is_replaced_as_from_utf8_lossy_does_and_counted() {
        let cases: [&[u8]; 6] = [
            b"plain ascii",
            "caf\u{e9} \u{1F600}".as_bytes(),
            b"\xff",
            b"a\x80b\xe2\x82c\xf0\x9f\x98",
            b"\xed\xa0\x80 (an encoded surrogate) \xc0\xaf (overlong)",
            b"ok \xe2\x82\xac then \xfe\xff",
        ];
        for case in cases {
            let (text, replaced) = replace_invalid_utf8(case.to_vec());
            assert_eq!(text, String::from_utf8_lossy(case), "{case:?}");
            assert_eq!(
                replaced as usize,
                text.matches(char::REPLACEMENT_CHARACTER).count(),
                "{case:?}"
            );
        }
    }

    #[test]
    fn only_unpaired_surrogate_escapes_are_replaced() {
        let cases = [
            (r#""\ud83d\ude00""#, r#""\ud83d\ude00""#),
            (r#""\uD83D\uDE00""#, r#""\uD83D\uDE00""#),
            (r#""\ud800""#, r#""\uFFFD""#),
            (r#""\udc00\ud800""#, r#""\uFFFD\uFFFD""#),
            (r#""\ud800\ud83d\ude00""#, r#""\uFFFD\ud83d\ude00""#),
            (r#""\ud800\n""#, r#""\uFFFD\n""#),
            (r#""\\ud800""#, r#""\\ud800""#),
            (r#""\\\ud800""#, r#""\\\uFFFD""#),
            (r#""\"\\\"\\ud800\u00e9""#, r#""\"\\\"\\ud800\u00e9""#),
            (r#""x\ud8"#, r#""x\ud8"#),
        ];
        for (text, expected) in cases {
            let mut repaired = text.as_bytes().to_vec();
            let replaced = replace_lone_surrogate_escapes(&mut repaired);
            let repaired = String::from_utf8(repaired).unwrap();
            assert_eq!(repaired, expected, "{text}");
            assert_eq!(
                replaced as usize,
                expected.matches(REPLACEMENT_ESCAPE).count(),
                "{text}"
            );
            if text.ends_with('"') {
                assert!(
                    serde_json::from_str::<String>(&repaired).is_ok(),
                    "{repaired}"
                );
            }
        }
    }

    #[test]
    fn repairs_say_what_was_replaced() {
        let both = TextRepairs {
            invalid_utf8: 1,
            lone_surrogates: 3,
        };
        assert_eq!(
            both.to_string(),
            "1 invalid UTF-8 sequence and 3 unpaired surrogate escapes replaced with U+FFFD"
        );
        assert!(TextRepairs::NONE.is_none() && !both.is_none());
    }
}
