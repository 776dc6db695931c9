//! Writing query results: an aligned table, CSV, a JSON array, newline-delimited JSON, or Parquet.
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
//!
//! On a terminal ([`Terminal`]) the table fits the width: long cells are cut with `…`, and when
//! the columns cannot all get [`MIN_COLUMN_WIDTH`] cells, each row is printed as a block of
//! `column | value` lines instead; rows past the terminal's row limit are counted, not printed.
//! Elsewhere the table is laid out whole, as wide as its widest cells.
//!
//! JSON objects keep the query's column order, and a struct's its fields' order. CSV writes a
//! struct, map or list cell as JSON text, which a reader can parse.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::ArrowWriter;
use serde_json::{Number, Value};
use unicode_width::UnicodeWidthStr;

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
    /// A Parquet file, with the result's Arrow types.
    Parquet,
}

/// The fewest cells a table column is narrowed to on a terminal; when the columns cannot all
/// have as many (or their full width, when less), rows are printed as vertical blocks.
pub const MIN_COLUMN_WIDTH: usize = 8;

/// The terminal a table goes to: how wide it is, and how many rows to print at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Cells per line.
    pub width: usize,
    /// Rows printed; the rest are counted ([`ResultWriter::rows_left_out`]). `None`: all.
    pub max_rows: Option<usize>,
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
    /// Whether struct, map and list cells are JSON text (CSV) rather than Arrow's display form
    /// (the table).
    nested_as_json: bool,
}

impl<'a> CellText<'a> {
    fn new(
        array: &'a ArrayRef,
        options: &'a FormatOptions<'a>,
        nested_as_json: bool,
    ) -> Result<Self, SqlError> {
        Ok(Self {
            array: array.as_ref(),
            formatter: ArrayFormatter::try_new(array.as_ref(), options)?,
            nested_as_json,
        })
    }

    fn text(&self, row: usize) -> Result<Option<String>, SqlError> {
        if self.array.is_null(row) {
            return Ok(None);
        }
        if self.nested_as_json && is_nested(self.array.data_type()) {
            let mut json = String::new();
            write_json_value(&mut json, self.array, row)?;
            return Ok(Some(json));
        }
        Ok(match self.array.data_type() {
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
        })
    }
}

impl CellText<'_> {
    /// The cell as CSV ([`write_csv_rows`]) appended to `out`: text straight from a string
    /// column, any other through [`CellText::text`].
    fn write_csv(&self, row: usize, out: &mut Vec<u8>) -> Result<(), SqlError> {
        if self.array.is_null(row) {
            return Ok(());
        }
        if let Some(strings) = self.array.as_string_opt::<i32>() {
            csv_quote_into(out, strings.value(row));
            return Ok(());
        }
        match self.text(row)? {
            None => {}
            Some(text) if is_numeric(self.array.data_type()) => {
                out.extend_from_slice(text.as_bytes());
            }
            Some(text) => csv_quote_into(out, &text),
        }
        Ok(())
    }
}

fn is_nested(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Struct(_) | DataType::Map(_, _) | DataType::List(_) | DataType::LargeList(_)
    )
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

/// Whether `sql`'s outermost query says how many rows it wants (`LIMIT`, `FETCH FIRST`): such a
/// result is printed whole on a terminal too. SQL that does not parse has none.
#[must_use]
pub fn sets_row_limit(sql: &str) -> bool {
    use datafusion::sql::parser::Statement as DfStatement;
    use datafusion::sql::sqlparser::ast::Statement;
    let Ok(DfStatement::Statement(statement)) =
        crate::dialect::parse_statement(sql, &crate::dialect::RewriteContext::default(), 64)
    else {
        return false;
    };
    match statement.as_ref() {
        Statement::Query(query) => query.limit_clause.is_some() || query.fetch.is_some(),
        _ => false,
    }
}

/// Writes a result batch by batch as it arrives. CSV, JSON and NDJSON go out at once, so a large
/// result never sits in memory; Parquet goes out a row group at a time; the table needs every row
/// to size its columns and waits for [`finish`](Self::finish).
pub struct ResultWriter {
    format: OutputFormat,
    columns: Vec<String>,
    pending: Vec<RecordBatch>,
    rows_written: usize,
    started: bool,
    terminal: Option<Terminal>,
    /// Table rows kept so far, and rows past the terminal's limit.
    rows_kept: usize,
    rows_left_out: usize,
    parquet: Option<ArrowWriter<Vec<u8>>>,
}

impl ResultWriter {
    pub fn new(format: OutputFormat, columns: Vec<String>) -> Self {
        Self {
            format,
            columns,
            pending: Vec::new(),
            rows_written: 0,
            started: false,
            terminal: None,
            rows_kept: 0,
            rows_left_out: 0,
            parquet: None,
        }
    }

    /// Lays a table out for `terminal`: fitted to its width, cut at its row limit. Other formats
    /// are unchanged.
    #[must_use]
    pub fn for_terminal(mut self, terminal: Terminal) -> Self {
        self.terminal = Some(terminal);
        self
    }

    /// Rows of the result the table left out at the terminal's row limit.
    pub fn rows_left_out(&self) -> usize {
        self.rows_left_out
    }

    fn start(&mut self, out: &mut dyn Write) -> Result<(), SqlError> {
        if !self.started {
            self.started = true;
            match self.format {
                OutputFormat::Csv => write_csv_header(out, &self.columns)?,
                OutputFormat::Json => write!(out, "[")?,
                OutputFormat::Table | OutputFormat::Ndjson | OutputFormat::Parquet => {}
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
            OutputFormat::Table => self.keep_for_table(batch),
            OutputFormat::Csv => write_csv_rows(out, batch)?,
            OutputFormat::Json => {
                for row in 0..batch.num_rows() {
                    let separator = if self.rows_written == 0 {
                        "\n  "
                    } else {
                        ",\n  "
                    };
                    out.write_all(separator.as_bytes())?;
                    out.write_all(json_row(batch, row)?.as_bytes())?;
                    self.rows_written += 1;
                }
            }
            OutputFormat::Ndjson => {
                for row in 0..batch.num_rows() {
                    out.write_all(json_row(batch, row)?.as_bytes())?;
                    writeln!(out)?;
                }
            }
            OutputFormat::Parquet => {
                if self.parquet.is_none() {
                    self.parquet = Some(
                        ArrowWriter::try_new(Vec::new(), batch.schema(), None)
                            .map_err(parquet_error)?,
                    );
                }
                if let Some(writer) = &mut self.parquet {
                    writer.write(batch).map_err(parquet_error)?;
                    // What the writer has encoded so far goes out; it keeps its own offsets.
                    out.write_all(&std::mem::take(writer.inner_mut()))?;
                }
            }
        }
        Ok(())
    }

    /// Keeps `batch` for the table, or the part of it within the terminal's row limit.
    fn keep_for_table(&mut self, batch: &RecordBatch) {
        let limit = self.terminal.and_then(|t| t.max_rows).unwrap_or(usize::MAX);
        let room = limit.saturating_sub(self.rows_kept);
        let kept = batch.num_rows().min(room);
        if kept > 0 {
            self.pending.push(batch.slice(0, kept));
        }
        self.rows_kept += kept;
        self.rows_left_out += batch.num_rows() - kept;
    }

    pub fn finish(mut self, out: &mut dyn Write) -> Result<(), SqlError> {
        self.start(out)?;
        match self.format {
            OutputFormat::Table => match self.terminal {
                Some(terminal) => write_fitted(out, &self.columns, &self.pending, terminal.width)?,
                None => write_table(out, &self.columns, &self.pending)?,
            },
            OutputFormat::Json if self.rows_written == 0 => writeln!(out, "]")?,
            OutputFormat::Json => writeln!(out, "\n]")?,
            OutputFormat::Csv | OutputFormat::Ndjson => {}
            OutputFormat::Parquet => {
                let writer = match self.parquet.take() {
                    Some(writer) => writer,
                    // No row came back, so no batch told the types: the columns are text.
                    None => ArrowWriter::try_new(Vec::new(), text_schema(&self.columns), None)
                        .map_err(parquet_error)?,
                };
                out.write_all(&writer.into_inner().map_err(parquet_error)?)?;
            }
        }
        Ok(())
    }
}

fn parquet_error(error: datafusion::parquet::errors::ParquetError) -> SqlError {
    SqlError::from(datafusion::common::DataFusionError::from(error))
}

fn text_schema(columns: &[String]) -> datafusion::arrow::datatypes::SchemaRef {
    use datafusion::arrow::datatypes::{Field, Schema};
    std::sync::Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

fn write_table(
    out: &mut dyn Write,
    columns: &[String],
    batches: &[RecordBatch],
) -> Result<(), SqlError> {
    let header = columns.iter().map(|c| printable(c).into_owned()).collect();
    let rows = text_rows(batches)?
        .into_iter()
        .map(|row| row.into_iter().map(Option::unwrap_or_default).collect())
        .collect();
    writeln!(out, "{}", render_table(header, rows))?;
    Ok(())
}

fn render_table(header: Vec<String>, rows: Vec<Vec<String>>) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset("||--+-++|    ++++++");
    table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    table.set_header(header);
    for row in rows {
        table.add_row(row);
    }
    table
}

/// Cells a table line takes besides its cells' text: `| ` before the first, ` | ` between two,
/// ` |` after the last.
fn table_frame(columns: usize) -> usize {
    3 * columns + 1
}

/// The table within `width` cells: each column its full width while they fit, else the widest
/// narrowed to an equal share of what is left, their cells cut with `…`. When the columns cannot
/// all get [`MIN_COLUMN_WIDTH`], each row is a vertical block instead.
fn write_fitted(
    out: &mut dyn Write,
    columns: &[String],
    batches: &[RecordBatch],
    width: usize,
) -> Result<(), SqlError> {
    let header: Vec<String> = columns.iter().map(|c| printable(c).into_owned()).collect();
    let rows: Vec<Vec<String>> = text_rows(batches)?
        .into_iter()
        .map(|row| row.into_iter().map(Option::unwrap_or_default).collect())
        .collect();
    let natural: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let Some(widths) = fit_widths(&natural, width.saturating_sub(table_frame(header.len()))) else {
        return write_vertical(out, &header, &rows, width);
    };
    let cut = |cells: Vec<String>| -> Vec<String> {
        cells
            .into_iter()
            .zip(&widths)
            .map(|(cell, &w)| truncate(&cell, w).into_owned())
            .collect()
    };
    let rows = rows.into_iter().map(cut).collect();
    writeln!(out, "{}", render_table(cut(header), rows))?;
    Ok(())
}

/// Column widths within `room` cells: every column its `natural` width if they fit, else the
/// fair share of a water level, where columns narrower than the level keep their width. `None`
/// when not every column can have [`MIN_COLUMN_WIDTH`] (or its natural width, when less).
fn fit_widths(natural: &[usize], room: usize) -> Option<Vec<usize>> {
    let least: usize = natural.iter().map(|&w| w.min(MIN_COLUMN_WIDTH)).sum();
    if least > room {
        return None;
    }
    if natural.iter().sum::<usize>() <= room {
        return Some(natural.to_vec());
    }
    let mut order: Vec<usize> = (0..natural.len()).collect();
    order.sort_by_key(|&i| natural[i]);
    let mut widths = natural.to_vec();
    let mut left = room;
    for (placed, &i) in order.iter().enumerate() {
        let share = left / (natural.len() - placed);
        widths[i] = natural[i].min(share);
        left -= widths[i];
    }
    // Cells the shares' rounding left over go to the widest columns still cut.
    for &i in order.iter().rev() {
        if left == 0 {
            break;
        }
        let more = (natural[i] - widths[i]).min(left);
        widths[i] += more;
        left -= more;
    }
    Some(widths)
}

/// `text` in at most `width` cells: cut, with `…` as its last cell, when longer.
fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    if text.width() <= width {
        return Cow::Borrowed(text);
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        cut.push(c);
        used += w;
    }
    if width > 0 {
        cut.push('…');
    }
    Cow::Owned(cut)
}

/// Each row as a block, as psql's expanded display prints it: a `-[ RECORD n ]` line, then one
/// `column | value` line per column, values cut to the width.
fn write_vertical(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    width: usize,
) -> Result<(), SqlError> {
    if rows.is_empty() {
        writeln!(out, "(no rows)")?;
        return Ok(());
    }
    let name_width = header
        .iter()
        .map(|n| n.width())
        .max()
        .unwrap_or(0)
        .min((width / 2).max(MIN_COLUMN_WIDTH));
    let value_width = width.saturating_sub(name_width + 3).max(MIN_COLUMN_WIDTH);
    for (n, row) in rows.iter().enumerate() {
        let label = format!("-[ RECORD {} ]", n + 1);
        let rule = (name_width + 1).saturating_sub(label.width());
        let rest = value_width.min(width.saturating_sub(label.width() + rule + 1));
        writeln!(out, "{label}{}+{}", "-".repeat(rule), "-".repeat(rest))?;
        for (name, value) in header.iter().zip(row) {
            let name = truncate(name, name_width);
            let pad = name_width - name.width();
            let value = truncate(value, value_width);
            let line = format!("{name}{} | {value}", " ".repeat(pad));
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    Ok(())
}

/// The cells of `batches` as the table prints them (`None` for NULL): as CSV writes them, but with
/// control characters escaped ([`printable`]), for a caller that lays rows out itself, such as an
/// HTML page next to the CSV.
pub fn text_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>, SqlError> {
    first_text_rows(batches, usize::MAX)
}

/// [`text_rows`] of the first `limit` rows only: a page that shows a few hundred rows of a
/// result need not make text of the rest.
pub fn first_text_rows(
    batches: &[RecordBatch],
    limit: usize,
) -> Result<Vec<Vec<Option<String>>>, SqlError> {
    let options = format_options();
    let mut rows = Vec::new();
    for batch in batches {
        if rows.len() >= limit {
            break;
        }
        let cells = batch
            .columns()
            .iter()
            .map(|c| CellText::new(c, &options, false))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows().min(limit - rows.len()) {
            let mut texts = Vec::with_capacity(cells.len());
            for cell in &cells {
                texts.push(cell.text(row)?.map(|text| match printable(&text) {
                    Cow::Borrowed(_) => text,
                    Cow::Owned(escaped) => escaped,
                }));
            }
            rows.push(texts);
        }
    }
    Ok(rows)
}

fn csv_quote(s: &str) -> String {
    let mut quoted = Vec::with_capacity(s.len() + 2);
    csv_quote_into(&mut quoted, s);
    String::from_utf8(quoted).expect("quoting keeps text UTF-8")
}

/// `s` in double quotes, its own doubled, appended to `out`.
fn csv_quote_into(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut rest = s;
    while let Some(at) = rest.find('"') {
        out.extend_from_slice(&rest.as_bytes()[..=at]);
        out.push(b'"');
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    out.push(b'"');
}

fn write_csv_header(out: &mut dyn Write, columns: &[String]) -> Result<(), SqlError> {
    let header: Vec<String> = columns.iter().map(|c| csv_quote(c)).collect();
    writeln!(out, "{}", header.join(","))?;
    Ok(())
}

/// CSV quoted as jq's `@csv` quotes: strings always in double quotes (inner quotes doubled),
/// numbers and booleans bare, NULL empty, structs, maps and lists as quoted JSON text. The header
/// row is quoted like strings.
fn write_csv_rows(out: &mut dyn Write, batch: &RecordBatch) -> Result<(), SqlError> {
    let options = format_options();
    let cells = batch
        .columns()
        .iter()
        .map(|c| CellText::new(c, &options, true))
        .collect::<Result<Vec<_>, _>>()?;
    // The batch's rows are written into one buffer, each cell in place: a `String` per cell and
    // two more per quoted one cost a sixth of an export's CPU (a CSV of 78 MB, 2.4 against 2.0 s).
    let mut text = Vec::with_capacity(batch.num_rows() * cells.len() * 16);
    for row in 0..batch.num_rows() {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            cell.write_csv(row, &mut text)?;
        }
        text.push(b'\n');
    }
    out.write_all(&text)?;
    Ok(())
}

/// One row as a JSON object, its keys in the result's column order.
fn json_row(batch: &RecordBatch, row: usize) -> Result<String, SqlError> {
    let mut text = String::from("{");
    for (i, (field, column)) in batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .enumerate()
    {
        if i > 0 {
            text.push(',');
        }
        push_json_string(&mut text, field.name());
        text.push(':');
        write_json_value(&mut text, column.as_ref(), row)?;
    }
    text.push('}');
    Ok(text)
}

fn push_json_string(text: &mut String, s: &str) {
    text.push_str(&Value::String(s.to_string()).to_string());
}

/// Appends a cell as JSON text: objects (structs, maps) keep their fields' order.
fn write_json_value(text: &mut String, array: &dyn Array, row: usize) -> Result<(), SqlError> {
    if array.is_null(row) {
        text.push_str("null");
        return Ok(());
    }
    match array.data_type() {
        DataType::Struct(fields) => {
            let s = array.as_struct();
            text.push('{');
            for (i, (field, child)) in fields.iter().zip(s.columns()).enumerate() {
                if i > 0 {
                    text.push(',');
                }
                push_json_string(text, field.name());
                text.push(':');
                write_json_value(text, child.as_ref(), row)?;
            }
            text.push('}');
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                _ => array.as_list::<i64>().value(row),
            };
            text.push('[');
            for i in 0..items.len() {
                if i > 0 {
                    text.push(',');
                }
                write_json_value(text, items.as_ref(), i)?;
            }
            text.push(']');
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let key_text = ArrayFormatter::try_new(keys.as_ref(), &FormatOptions::default())?;
            text.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    text.push(',');
                }
                push_json_string(text, &key_text.value(i).to_string());
                text.push(':');
                write_json_value(text, values.as_ref(), i)?;
            }
            text.push('}');
        }
        _ => text.push_str(&json_scalar(array, row)?.to_string()),
    }
    Ok(())
}

/// A cell that is neither a struct, a map nor a list, as a JSON value.
fn json_scalar(array: &dyn Array, row: usize) -> Result<Value, SqlError> {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        BooleanArray, Int64Array, LargeStringArray, StringArray, StructArray,
        TimestampMillisecondArray,
    };
    use datafusion::arrow::datatypes::{Field, Fields};

    use super::*;

    #[test]
    fn csv_cells_are_quoted_as_jq_quotes_them() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"say "hi", then"#),
            Some("two\nlines"),
            Some(""),
            None,
        ]));
        let large: ArrayRef = Arc::new(LargeStringArray::from(vec![
            Some(r#""quoted""#),
            None,
            Some("plain"),
            Some("é"),
        ]));
        let count: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(-2), None, Some(40)]));
        let flag: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
        ]));
        let time: ArrayRef = Arc::new(
            TimestampMillisecondArray::from(vec![Some(1_572_331_200_123), None, Some(0), None])
                .with_timezone("UTC"),
        );
        let nested: ArrayRef = Arc::new(StructArray::new(
            Fields::from(vec![Field::new("arn", DataType::Utf8, true)]),
            vec![Arc::new(StringArray::from(vec![
                Some("a\"b"),
                Some("c"),
                None,
                Some("d"),
            ])) as ArrayRef],
            None,
        ));
        let batch = RecordBatch::try_from_iter([
            ("text", text),
            ("large", large),
            ("count", count),
            ("flag", flag),
            ("time", time),
            ("nested", nested),
        ])
        .unwrap();
        let mut out = Vec::new();
        write_csv_rows(&mut out, &batch).unwrap();
        let expected = [
            r#""say ""hi"", then","""quoted""",1,true,"2019-10-29 06:40:00.123 UTC","{""arn"":""a\""b""}""#,
            "\"two\nlines\",,-2,false,,\"{\"\"arn\"\":\"\"c\"\"}\"",
            r#""","plain",,,"1970-01-01 00:00:00.000 UTC","{""arn"":null}""#,
            r#","é",40,true,,"{""arn"":""d""}""#,
        ];
        assert_eq!(String::from_utf8(out).unwrap(), expected.join("\n") + "\n");
    }

    #[test]
    fn the_first_rows_as_text_stop_at_the_limit_across_batches() {
        let batch = |names: &[&str]| {
            let names: ArrayRef = Arc::new(StringArray::from(names.to_vec()));
            RecordBatch::try_from_iter([("name", names)]).unwrap()
        };
        let batches = [batch(&["a", "b\u{1b}[31m", "c"]), batch(&["d", "e"])];
        let all = text_rows(&batches).unwrap();
        assert_eq!(all.len(), 5);
        // Escaped for a terminal or a page as the whole result is.
        assert_eq!(all[1][0].as_deref(), Some("b\\x1b[31m"));
        for limit in [0, 1, 3, 4, 5, 9] {
            let first = first_text_rows(&batches, limit).unwrap();
            assert_eq!(first, all[..limit.min(5)], "limit {limit}");
        }
    }
}
