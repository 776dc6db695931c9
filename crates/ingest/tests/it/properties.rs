//! Properties over generated input: the errorCode filter changes which records are decoded, never
//! whether a file is damaged; ISO 8601 times round-trip and odd text never panics.
//!
//! Each property runs one or two thousand cases; `PROPTEST_CASES=100000 cargo test -p ctq-ingest
//! properties` runs more.

use std::path::PathBuf;
use std::sync::Mutex;

use arrow_array::{Array, RecordBatch, StringArray};
use chrono::{DateTime, NaiveDate};
use ctq_ingest::time::parse_iso8601_millis;
use ctq_ingest::{FileOutcome, Partition, RecordFilter, ScanOptions, TrailFile, scan_source};
use proptest::prelude::*;
use serde_json::{Value, json};

// --- The errorCode filter ---

/// Text for string values: what a record must be delimited past (quotes, backslashes, brackets,
/// the key the filter looks for), controls, and any character.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(vec![
            "\"", "\\", "{", "}", "[", "]", ",", ":", "\"errorCode\"", "errorCode", "\\u0022",
            "\n", "\t", "\u{0}", "é", "😀", "\u{2028}", "arn:aws:iam::123456789012:user/x",
        ])
        .prop_map(str::to_owned),
        2 => "[a-zA-Z0-9 ]{0,12}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

/// A free-form document, as `requestParameters` holds.
fn document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12..1e12f64).prop_map(Value::from),
        tricky_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A record: an event id, an error code or not (absent, null, a string), and fields that are
/// parsed when the filter does not skip the record.
fn record(id: usize) -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            "[A-Za-z.]{1,20}".prop_map(|code| Some(Value::from(code))),
        ],
        tricky_text(),
        document(),
        any::<bool>(),
    )
        .prop_map(move |(error_code, message, parameters, read_only)| {
            let mut record = json!({
                "eventVersion": "1.09",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/x"},
                "eventTime": "2019-10-29T06:40:00Z",
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "eventID": format!("id-{id}"),
                "requestParameters": parameters,
                "resources": [{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object"}],
                "readOnly": read_only,
            });
            if let Some(code) = error_code {
                record["errorCode"] = code;
                record["errorMessage"] = Value::from(message);
            } else {
                record["userAgent"] = Value::from(message);
            }
            record
        })
}

/// A `{"Records":[...]}` file, compact or pretty-printed.
fn trail_file() -> impl Strategy<Value = Vec<u8>> {
    (0..6usize, any::<bool>())
        .prop_flat_map(|(count, pretty)| {
            let records: Vec<_> = (0..count).map(record).collect();
            (records, Just(pretty))
        })
        .prop_map(|(records, pretty)| {
            let file = json!({ "Records": records });
            if pretty {
                serde_json::to_vec_pretty(&file).unwrap()
            } else {
                serde_json::to_vec(&file).unwrap()
            }
        })
}

/// What a scan makes of one file: `None` when it is damaged, else the event ids of its records
/// with an error code, in file order.
fn verdict(file: &[u8], filter: RecordFilter) -> Option<Vec<Option<String>>> {
    let pending = Mutex::new(Some(file.to_vec()));
    let source = || {
        let bytes = pending.lock().unwrap().take()?;
        Some((
            TrailFile {
                path: PathBuf::from("trail.json"),
                partition: Partition::default(),
            },
            Ok(bytes),
        ))
    };
    let batches = Mutex::new(Vec::<RecordBatch>::new());
    let options = ScanOptions {
        filter,
        ..ScanOptions::default()
    };
    let outcomes = scan_source(&source, &options, &|batch| {
        batches.lock().unwrap().push(batch);
        true
    })
    .expect("a scan stops only for a strict scan's damage");
    match outcomes.files.values().next() {
        Some(FileOutcome::Read { .. }) => {}
        _ => return None,
    }
    let mut ids = Vec::new();
    for batch in batches.into_inner().unwrap() {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone()
        };
        let (codes, events) = (column("errorcode"), column("eventid"));
        for row in 0..batch.num_rows() {
            if codes.is_valid(row) {
                ids.push(events.is_valid(row).then(|| events.value(row).to_owned()));
            }
        }
    }
    Some(ids)
}

fn the_filter_agrees(file: &[u8]) -> Result<(), TestCaseError> {
    let every_record = verdict(file, RecordFilter::default());
    let with_error_code = verdict(
        file,
        RecordFilter {
            needs_error_code: true,
            ..RecordFilter::default()
        },
    );
    prop_assert_eq!(
        &with_error_code,
        &every_record,
        "filtered and unfiltered scans disagree on {:?}",
        String::from_utf8_lossy(file)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ctq_testkit::proptest_config(1000))]

    /// A file decodes to the same records with an error code whether the scan skips the others
    /// or parses them all.
    #[test]
    fn the_error_code_filter_skips_only_records_without_one(file in trail_file()) {
        prop_assert!(verdict(&file, RecordFilter::default()).is_some());
        the_filter_agrees(&file)?;
    }

    /// Damaged, a file is damaged for both scans, or read alike by both: a record the filter
    /// skips still damages its file.
    #[test]
    fn a_damaged_file_is_damaged_whatever_the_filter(
        mut file in trail_file(),
        edits in prop::collection::vec(ctq_testkit::byte_edit(), 1..4),
    ) {
        for edit in &edits {
            ctq_testkit::apply_edit(&mut file, edit);
        }
        the_filter_agrees(&file)?;
    }
}

// --- ISO 8601 ---

/// An instant in years 1 to 9999, as its parts.
#[derive(Debug, Clone)]
struct Instant {
    date: NaiveDate,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

fn instant() -> impl Strategy<Value = Instant> {
    (
        1..=9999i32,
        1..=366u32,
        0..24u32,
        0..60u32,
        0..60u32,
        0..1_000_000_000u32,
    )
        .prop_map(|(year, ordinal, hour, minute, second, nanos)| Instant {
            date: NaiveDate::from_yo_opt(year, ordinal)
                .or_else(|| NaiveDate::from_yo_opt(year, 365))
                .unwrap(),
            hour,
            minute,
            second,
            nanos,
        })
}

/// How much of an instant the text states, and how.
#[derive(Debug, Clone)]
struct Form {
    /// 0: the year; 1: and the month; 2: and the day; 3..: and the time.
    date_parts: u8,
    separator: char,
    /// 1: the hour; 2: and the minute; 3: and the second; 4: and a fraction of that many digits.
    time_parts: u8,
    fraction_digits: usize,
    decimal: char,
    /// 0: none; 1: `Z`; 2: `z`; 3: `+HH:MM`; 4: `+HHMM`; 5: `+HH`.
    zone: u8,
    offset_minutes: i32,
    padding: (&'static str, &'static str),
}

fn form() -> impl Strategy<Value = Form> {
    (
        0..=3u8,
        prop::sample::select(vec!['T', 't', ' ']),
        1..=4u8,
        1..=9usize,
        prop::sample::select(vec!['.', ',']),
        0..=5u8,
        -(23 * 60 + 59)..=(23 * 60 + 59),
        prop::sample::select(vec![("", ""), (" ", "\n"), ("\t", " ")]),
    )
        .prop_map(
            |(
                date_parts,
                separator,
                time_parts,
                fraction_digits,
                decimal,
                zone,
                offset,
                padding,
            )| {
                Form {
                    date_parts,
                    separator,
                    time_parts,
                    fraction_digits,
                    decimal,
                    zone,
                    offset_minutes: offset,
                    padding,
                }
            },
        )
}

/// An instant as text, what it states, and where the text could end.
struct Written {
    text: String,
    /// Milliseconds since the epoch of what the text states: the parts it leaves out are the
    /// first month, day, hour..., a fraction is truncated.
    millis: i64,
    /// The lengths at which a prefix of the text (without padding) is a complete form itself.
    ends: Vec<usize>,
}

fn written(instant: &Instant, form: &Form) -> Written {
    use chrono::Datelike;
    let date = instant.date;
    let (month, day) = match form.date_parts {
        0 => (1, 1),
        1 => (date.month(), 1),
        _ => (date.month(), date.day()),
    };
    let mut text = format!("{:04}", date.year());
    let mut ends = vec![text.len()];
    let part = |text: &mut String, ends: &mut Vec<usize>, piece: String| {
        *text += &piece;
        ends.push(text.len());
    };
    if form.date_parts >= 1 {
        part(&mut text, &mut ends, format!("-{month:02}"));
    }
    if form.date_parts >= 2 {
        part(&mut text, &mut ends, format!("-{day:02}"));
    }
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if form.date_parts >= 3 {
        text.push(form.separator);
        if form.separator == ' ' {
            // Trailing whitespace is trimmed.
            ends.push(text.len());
        }
        hour = instant.hour;
        part(&mut text, &mut ends, format!("{hour:02}"));
        if form.time_parts >= 2 {
            minute = instant.minute;
            part(&mut text, &mut ends, format!(":{minute:02}"));
        }
        if form.time_parts >= 3 {
            second = instant.second;
            part(&mut text, &mut ends, format!(":{second:02}"));
        }
        if form.time_parts >= 4 {
            let digits = format!("{:09}", instant.nanos);
            let digits = &digits[..form.fraction_digits];
            nanos = digits.parse::<u32>().unwrap() * 10u32.pow(9 - digits.len() as u32);
            text.push(form.decimal);
            for digit in digits.chars() {
                part(&mut text, &mut ends, digit.to_string());
            }
        }
    }
    // An offset after a date alone would read as its month or day: offsets follow a time.
    let zone = if form.date_parts < 3 {
        form.zone % 3
    } else {
        form.zone
    };
    let offset = match zone {
        0..=2 => 0,
        5 => form.offset_minutes / 60 * 60,
        _ => form.offset_minutes,
    };
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 60, offset.abs() % 60);
    match zone {
        0 => {}
        1 => part(&mut text, &mut ends, "Z".to_owned()),
        2 => part(&mut text, &mut ends, "z".to_owned()),
        _ => {
            part(&mut text, &mut ends, format!("{sign}{h:02}"));
            match zone {
                3 => text += &format!(":{m:02}"),
                4 => text += &format!("{m:02}"),
                _ => {}
            }
            ends.push(text.len());
        }
    }
    let local = NaiveDate::from_ymd_opt(date.year(), month, day)
        .unwrap()
        .and_hms_nano_opt(hour, minute, second, nanos)
        .unwrap();
    Written {
        text: format!("{}{text}{}", form.padding.0, form.padding.1),
        millis: local.and_utc().timestamp_millis() - i64::from(offset) * 60_000,
        ends,
    }
}

/// Text near the forms the parser reads: their pieces, shuffled and cut, and any character.
fn timestamp_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "2019", "-10", "-29", "T", "t", " ", "06", ":40", ":00", ".", ",", "123", "123456789",
            "1234567890", "Z", "z", "+", "-", "02:00", "0200", "+02", ":", "60", "24", "99", "00",
            "9999", "0000", "-12-31", "-02-29", "\u{0}", "é", "٣", "\u{2007}", "+23:59", "-24:00",
        ])
        .prop_map(str::to_owned),
        1 => "[0-9]{1,10}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ctq_testkit::proptest_config(2000))]

    #[test]
    fn iso8601_times_round_trip(instant in instant(), form in form()) {
        let written = written(&instant, &form);
        prop_assert_eq!(parse_iso8601_millis(&written.text), Some(written.millis), "{:?}", written.text);
    }

    /// A time cut short is read only where what is left is a complete form: after a part, not
    /// after a `-`, `:`, `T`, `.` or sign that announces the next.
    #[test]
    fn only_complete_prefixes_are_read(instant in instant(), form in form()) {
        let written = written(&instant, &Form { padding: ("", ""), ..form });
        for len in 0..=written.text.len() {
            let prefix = &written.text[..len];
            prop_assert_eq!(
                parse_iso8601_millis(prefix).is_some(),
                written.ends.contains(&len),
                "{:?}",
                prefix
            );
        }
    }

    /// Whatever the text, no panic; what it accepts is an instant, which reads back the same
    /// written as RFC 3339.
    #[test]
    fn odd_text_never_panics_and_what_is_read_reads_back(
        text in prop_oneof![any::<String>(), timestamp_like()]
    ) {
        if let Some(millis) = parse_iso8601_millis(&text) {
            let instant = DateTime::from_timestamp_millis(millis).unwrap();
            // Year 0 with an offset east of UTC is in year -1, which has no four-digit form.
            if (1..=9999).contains(&chrono::Datelike::year(&instant)) {
                let rfc3339 = instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                prop_assert_eq!(parse_iso8601_millis(&rfc3339), Some(millis), "{:?}", text);
            }
        }
    }
}

/// Found by `a_damaged_file_is_damaged_whatever_the_filter`: a record without an error code, which
/// the filter skips unparsed, was not checked at all, so its file was read with the filter and
/// damaged without it.
#[test]
fn a_fault_in_a_skipped_record_damages_the_file_for_the_filter_too() {
    for fault in [",,", ":tru,", ":01,", ":\"\\q\",", ":\"\u{1}\","] {
        let file = format!(
            r#"{{"Records":[{{"eventID":"id-0","readOnly":false{fault}"eventName":"GetObject"}},{{"eventID":"id-1","errorCode":"AccessDenied"}}]}}"#
        );
        let filtered = verdict(
            file.as_bytes(),
            RecordFilter {
                needs_error_code: true,
                ..RecordFilter::default()
            },
        );
        assert_eq!(filtered, None, "{file}");
        assert_eq!(
            verdict(file.as_bytes(), RecordFilter::default()),
            None,
            "{file}"
        );
    }
}
