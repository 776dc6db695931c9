//! Writing query results: an aligned table, CSV, a JSON array, or newline-delimited JSON.
//!
//! Timestamps with a time zone print as Athena prints them (`2019-10-29 06:52:45.000 UTC`) in the
//! table and CSV, and as ISO 8601 (`2019-10-29T06:52:45.000Z`) in JSON, where a reader parses them.
//! `IPADDRESS` values (`FixedSizeBinary(16)`) print as address text everywhere, as Trino prints
//! them (`10.1.2.3`, `2001:db8::1`).
//!
//! The table is for a terminal, and trail fields are written by whoever made the call: a user
//! agent can carry escape sequences that retitle the window or clear the screen, an error message
//! a newline that fakes a row. The table (and [`text_rows`]) therefore show control characters
//! escaped ([`printable`]); CSV, JSON and NDJSON are for programs and keep every byte.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

use crate::SqlError;
use crate::functions::ip::{ADDRESS_BYTES, address_text};
use crate::functions::time::{athena_timestamp_text, iso8601_text};

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Csv,
    Json,
    Ndjson,
}

fn timestamp_millis(array: &dyn Array, row: usize) -> Option<i64> {
    let DataType::Timestamp(unit, _) = array.data_type() else {
        return None;
    };
    let value = match unit {
        TimeUnit::Second => {
            array
                .as_primitive::<datafusion::arrow::datatypes::TimestampSecondType>()
                .value(row)
                * 1_000
        }
        TimeUnit::Millisecond => array
            .as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
            .value(row),
        TimeUnit::Microsecond => array
            .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
            .value(row)
            .div_euclid(1_000),
        TimeUnit::Nanosecond => array
            .as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>()
            .value(row)
            .div_euclid(1_000_000),
    };
    Some(value)
}

/// The text of an `IPADDRESS` cell; `None` for any other type.
fn ip_address_text(array: &dyn Array, row: usize) -> Option<String> {
    match array.data_type() {
        DataType::FixedSizeBinary(ADDRESS_BYTES) => {
            address_text(array.as_fixed_size_binary().value(row))
        }
        _ => None,
    }
}

/// Text of one cell for the table and CSV; `None` for NULL.
struct CellText<'a> {
    array: &'a dyn Array,
    formatter: ArrayFormatter<'a>,
}

impl<'a> CellText<'a> {
    fn new(array: &'a ArrayRef, options: &'a FormatOptions<'a>) -> Result<Self, SqlError> {
        Ok(Self {
            array: array.as_ref(),
            formatter: ArrayFormatter::try_new(array.as_ref(), options)?,
        })
    }

    fn text(&self, row: usize) -> Option<String> {
        if self.array.is_null(row) {
            return None;
        }
        match self.array.data_type() {
            DataType::Timestamp(_, Some(_)) => {
                timestamp_millis(self.array, row).map(athena_timestamp_text)
            }
            DataType::Timestamp(_, None) => timestamp_millis(self.array, row).map(|ms| {
                athena_timestamp_text(ms)
                    .trim_end_matches(" UTC")
                    .to_string()
            }),
            DataType::FixedSizeBinary(ADDRESS_BYTES) => ip_address_text(self.array, row),
            _ => Some(self.formatter.value(row).to_string()),
        }
    }
}

/// `text` safe to print on a terminal: each control character (C0, DEL and C1, U+0080 to U+009F)
/// is shown as an escape, so none reaches the terminal and a value stays on one line. Tab, newline
/// and carriage return become `\t`, `\n` and `\r`; every other one `\x` and two lowercase hex
/// digits of its code point (`\x1b` for ESC, `\x07` for BEL, `\x7f` for DEL, `\x9b` for U+009B,
/// the one-character CSI). Other text, backslashes included, is unchanged, so text without
/// control characters comes back borrowed as it was.
///
/// Every human-facing text output uses it: the query table, `ctq explain`'s text, and the
/// warnings that name damaged files. CSV, JSON and NDJSON do not.
#[must_use]
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_numeric() || matches!(data_type, DataType::Boolean)
}

fn format_options() -> FormatOptions<'static> {
    FormatOptions::default().with_null("")
}

/// Writes `batches` in `format`. `columns` are the result's column names (kept even when no row
/// came back, so an empty result still has a header).
pub fn write_results(
    out: &mut dyn Write,
    format: OutputFormat,
    columns: &[String],
    batches: &[RecordBatch],
) -> Result<(), SqlError> {
    let mut writer = ResultWriter::new(format, columns.to_vec());
    for batch in batches {
        writer.write_batch(out, batch)?;
    }
    writer.finish(out)
}

/// Writes a result batch by batch as it arrives. CSV, JSON and NDJSON go out at once, so a large
/// result never sits in memory; the table needs every row to size its columns and waits for
/// [`finish`](Self::finish).
pub struct ResultWriter {
    format: OutputFormat,
    columns: Vec<String>,
    pending: Vec<RecordBatch>,
    rows_written: usize,
    started: bool,
}

impl ResultWriter {
    pub fn new(format: OutputFormat, columns: Vec<String>) -> Self {
        Self {
            format,
            columns,
            pending: Vec::new(),
            rows_written: 0,
            started: false,
        }
    }

    fn start(&mut self, out: &mut dyn Write) -> Result<(), SqlError> {
        if !self.started {
            self.started = true;
            match self.format {
                OutputFormat::Csv => write_csv_header(out, &self.columns)?,
                OutputFormat::Json => write!(out, "[")?,
                OutputFormat::Table | OutputFormat::Ndjson => {}
            }
        }
        Ok(())
    }

    pub fn write_batch(
        &mut self,
        out: &mut dyn Write,
        batch: &RecordBatch,
    ) -> Result<(), SqlError> {
        self.start(out)?;
        match self.format {
            OutputFormat::Table => self.pending.push(batch.clone()),
            OutputFormat::Csv => write_csv_rows(out, batch)?,
            OutputFormat::Json => {
                for row in json_rows(batch)? {
                    let separator = if self.rows_written == 0 {
                        "\n  "
                    } else {
                        ",\n  "
                    };
                    write!(out, "{separator}")?;
                    serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
                    self.rows_written += 1;
                }
            }
            OutputFormat::Ndjson => {
                for row in json_rows(batch)? {
                    serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self, out: &mut dyn Write) -> Result<(), SqlError> {
        self.start(out)?;
        match self.format {
            OutputFormat::Table => write_table(out, &self.columns, &self.pending)?,
            OutputFormat::Json if self.rows_written == 0 => writeln!(out, "]")?,
            OutputFormat::Json => writeln!(out, "\n]")?,
            OutputFormat::Csv | OutputFormat::Ndjson => {}
        }
        Ok(())
    }
}

fn write_table(
    out: &mut dyn Write,
    columns: &[String],
    batches: &[RecordBatch],
) -> Result<(), SqlError> {
    let mut table = comfy_table::Table::new();
    table.load_preset("||--+-++|    ++++++");
    table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    table.set_header(columns.iter().map(|c| comfy_table::Cell::new(printable(c))));
    for row in text_rows(batches)? {
        table.add_row(row.into_iter().map(Option::unwrap_or_default));
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// The cells of `batches` as the table prints them (`None` for NULL): as CSV writes them, but with
/// control characters escaped ([`printable`]), for a caller that lays rows out itself, such as an
/// HTML page next to the CSV.
pub fn text_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>, SqlError> {
    let options = format_options();
    let mut rows = Vec::new();
    for batch in batches {
        let cells = batch
            .columns()
            .iter()
            .map(|c| CellText::new(c, &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                cells
                    .iter()
                    .map(|c| {
                        c.text(row).map(|text| match printable(&text) {
                            Cow::Borrowed(_) => text,
                            Cow::Owned(escaped) => escaped,
                        })
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

fn csv_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn write_csv_header(out: &mut dyn Write, columns: &[String]) -> Result<(), SqlError> {
    let header: Vec<String> = columns.iter().map(|c| csv_quote(c)).collect();
    writeln!(out, "{}", header.join(","))?;
    Ok(())
}

/// CSV quoted as jq's `@csv` quotes: strings always in double quotes (inner quotes doubled),
/// numbers and booleans bare, NULL empty. The header row is quoted like strings.
fn write_csv_rows(out: &mut dyn Write, batch: &RecordBatch) -> Result<(), SqlError> {
    let options = format_options();
    let cells = batch
        .columns()
        .iter()
        .map(|c| CellText::new(c, &options))
        .collect::<Result<Vec<_>, _>>()?;
    for row in 0..batch.num_rows() {
        let fields: Vec<String> = cells
            .iter()
            .map(|cell| match cell.text(row) {
                None => String::new(),
                Some(text) if is_numeric(cell.array.data_type()) => text,
                Some(text) => csv_quote(&text),
            })
            .collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn json_rows(batch: &RecordBatch) -> Result<Vec<Value>, SqlError> {
    let schema = batch.schema();
    (0..batch.num_rows())
        .map(|row| {
            let mut object = Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                object.insert(field.name().clone(), json_value(column.as_ref(), row)?);
            }
            Ok(Value::Object(object))
        })
        .collect()
}

fn json_value(array: &dyn Array, row: usize) -> Result<Value, SqlError> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    macro_rules! int {
        ($t:ty) => {
            Value::from(array.as_primitive::<$t>().value(row))
        };
    }
    let float = |v: f64| Number::from_f64(v).map_or(Value::Null, Value::Number);
    Ok(match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Timestamp(_, _) => Value::String(
            timestamp_millis(array, row)
                .map(iso8601_text)
                .unwrap_or_default(),
        ),
        DataType::FixedSizeBinary(ADDRESS_BYTES) => {
            ip_address_text(array, row).map_or(Value::Null, Value::String)
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, child) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), json_value(child.as_ref(), row)?);
            }
            Value::Object(object)
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            Value::Array(
                (0..items.len())
                    .map(|i| json_value(items.as_ref(), i))
                    .collect::<Result<_, _>>()?,
            )
        }
        DataType::LargeList(_) => {
            let items = array.as_list::<i64>().value(row);
            Value::Array(
                (0..items.len())
                    .map(|i| json_value(items.as_ref(), i))
                    .collect::<Result<_, _>>()?,
            )
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let key_text = ArrayFormatter::try_new(keys.as_ref(), &FormatOptions::default())?;
            let mut object = Map::new();
            for i in 0..entries.len() {
                object.insert(
                    key_text.value(i).to_string(),
                    json_value(values.as_ref(), i)?,
                );
            }
            Value::Object(object)
        }
        _ => {
            let options = FormatOptions::default();
            Value::String(
                ArrayFormatter::try_new(array, &options)?
                    .value(row)
                    .to_string(),
            )
        }
    })
}
