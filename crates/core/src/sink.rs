//! Where a command's results go: standard output, or a file written whole or not at all; and in
//! what format, when the command line does not say.

use std::fmt;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use ctq_fs::AtomicFile;

use crate::args::Format;

/// Rows of a table printed to a terminal when the query has no LIMIT and `--max-rows` is not
/// given: a screenful or a few, and no more than a terminal's scrollback shows well.
pub const TERMINAL_MAX_ROWS: usize = 100;

/// Cells per line assumed for a terminal that does not say.
const FALLBACK_WIDTH: usize = 80;

/// Says on standard error that a table printed to a terminal stopped at its row limit, and how to
/// see every row.
pub fn print_rows_left_out(printed: usize, left_out: usize) {
    // Over the progress line, when one is drawn.
    let clear = if std::io::stderr().is_terminal() {
        "\r\x1b[2K"
    } else {
        ""
    };
    let rows = if left_out == 1 { "row" } else { "rows" };
    eprintln!(
        "{clear}ctq: {left_out} more {rows} not shown ({printed} printed); see them all with --max-rows 0, --format csv or -o FILE"
    );
}

/// An `-o` file whose extension names a data format ctq does not write, without `--format`. A
/// usage error: exit status 2.
#[derive(Debug)]
pub struct UnwrittenFormat {
    output: PathBuf,
    extension: String,
}

impl fmt::Display for UnwrittenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ctq does not write .{} files ({}): name the file .csv, .json, .ndjson, .jsonl or .parquet, or give --format table|csv|json|ndjson|parquet",
            self.extension,
            self.output.display()
        )
    }
}

impl std::error::Error for UnwrittenFormat {}

/// The format to write: `--format` when given, else the one `output`'s extension names (`.csv`,
/// `.json`, `.ndjson` or `.jsonl`, `.parquet`), else the table. An extension of a data format
/// ctq does not write (`.tsv`, `.xlsx`, ...) is refused rather than filled with a table.
pub fn resolve_format(
    format: Option<Format>,
    output: Option<&Path>,
) -> Result<Format, UnwrittenFormat> {
    if let Some(format) = format {
        return Ok(format);
    }
    let Some(output) = output else {
        return Ok(Format::Table);
    };
    let extension = output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    Ok(match extension.as_str() {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "ndjson" | "jsonl" => Format::Ndjson,
        "parquet" | "pq" => Format::Parquet,
        "tsv" | "xlsx" | "xls" | "ods" | "avro" | "orc" | "arrow" | "feather" | "ipc" | "xml"
        | "yaml" | "yml" => {
            return Err(UnwrittenFormat {
                output: output.to_path_buf(),
                extension,
            });
        }
        _ => Format::Table,
    })
}

/// The width of the terminal standard output is, when it is one: `COLUMNS` when set, else what
/// the terminal says. `None` when standard output is a pipe or a file.
pub fn stdout_terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    Some(from_env.unwrap_or_else(|| {
        terminal_size::terminal_size_of(std::io::stdout())
            .map_or(FALLBACK_WIDTH, |(w, _)| usize::from(w.0))
    }))
}

/// Where results go. A file is written to a hidden temporary next to it (`.NAME.ctq-partial-PID`)
/// and renamed when complete (see [`ctq_fs`]), so a failed run never leaves a partial result
/// behind under the name asked for, and the temporary of a killed run is removed by the next run
/// writing the same file.
pub enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File(AtomicFile),
}

impl Sink {
    pub fn open(destination: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(destination) = destination else {
            return Ok(Sink::Stdout(BufWriter::new(std::io::stdout())));
        };
        let file = AtomicFile::create(destination)
            .map_err(|e| e.source)
            .with_context(|| format!("cannot create output file {}", destination.display()))?;
        Ok(Sink::File(file))
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::File(file) => file,
        }
    }

    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::File(file) => {
                let destination = file.destination().to_path_buf();
                file.commit()
                    .map_err(|e| e.source)
                    .with_context(|| format!("cannot write output file {}", destination.display()))
            }
        }
    }

    pub fn discard(self) {
        match self {
            Sink::Stdout(mut w) => {
                let _ = w.flush();
            }
            Sink::File(file) => file.discard(),
        }
    }
}
