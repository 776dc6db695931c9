//! What each command does, given its parsed arguments: each parses, calls the libraries, prints.

mod cluster;
mod completions;
mod ddl;
mod denials;
mod explain;
mod hunt;
mod info;
mod ingest;
mod man;
mod queries;
mod query;
mod report;
mod schema;
mod shell;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use ctq_denial::triage::Suppressions;
use ctq_ingest::Progress;
use ctq_sql::output::{OutputFormat, ResultWriter};
use ctq_sql::{SqlError, TrailSession};
use futures::StreamExt;

use crate::args::{Command, Format, OutputArgs, SourceArgs};
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::sink::Sink;
use crate::summary::print_scan_summary;

/// How a successful run ended, for the exit status.
pub enum Outcome {
    Clean,
    DamagedInput,
    /// A report crossed a `--fail-on` threshold.
    NeedsAttention,
}

impl Outcome {
    /// A scan's outcome: damaged input when a damaged file was skipped.
    fn after_scan(session: &TrailSession) -> Self {
        if session.file_outcomes().damaged().next().is_some() {
            Outcome::DamagedInput
        } else {
            Outcome::Clean
        }
    }
}

pub async fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Query(args) => query::run(args).await,
        Command::Queries => queries::run(),
        Command::Shell(args) => shell::run(args).await,
        Command::Denials(args) => denials::run(args).await,
        Command::Explain(args) => explain::run(args).await,
        Command::Hunt(args) => hunt::run(args).await,
        Command::Schema(args) => schema::run(args).await,
        Command::Ingest(args) => ingest::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Info(args) => info::run(args).await,
        Command::Ddl(args) => ddl::run(args),
        Command::Cluster(command) => cluster::run(command).await,
        Command::Completions { shell } => completions::run(shell),
        Command::Man => man::run(),
    }
}

fn output_format(format: Format) -> OutputFormat {
    match format {
        Format::Table => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Ndjson => OutputFormat::Ndjson,
        Format::Parquet => OutputFormat::Parquet,
    }
}

/// Writes rows to the sink as they arrive; on failure the sink is discarded. A table printed to a
/// terminal stops at `--max-rows` or [`TERMINAL_MAX_ROWS`](crate::sink::TERMINAL_MAX_ROWS).
async fn write_rows(
    output: &OutputArgs,
    columns: Vec<String>,
    batches: impl futures::Stream<Item = Result<ctq_sql::arrow::array::RecordBatch, SqlError>> + Unpin,
) -> anyhow::Result<usize> {
    write_rows_cut(output, columns, true, batches).await
}

/// [`write_rows`], where `cut` says whether a table printed to a terminal stops at the default
/// row limit when `--max-rows` is not given (not when the query asked for a number of rows).
async fn write_rows_cut(
    output: &OutputArgs,
    columns: Vec<String>,
    cut: bool,
    mut batches: impl futures::Stream<Item = Result<ctq_sql::arrow::array::RecordBatch, SqlError>>
    + Unpin,
) -> anyhow::Result<usize> {
    let format = crate::sink::resolve_format(output.format, output.output.as_deref())?;
    let mut writer = ResultWriter::new(output_format(format), columns);
    let terminal_width = match (&output.output, format) {
        (None, Format::Table) => crate::sink::stdout_terminal_width(),
        _ => None,
    };
    if let Some(width) = terminal_width {
        let max_rows = match output.max_rows {
            Some(0) => None,
            Some(n) => Some(n),
            None => cut.then_some(crate::sink::TERMINAL_MAX_ROWS),
        };
        writer = writer.for_terminal(ctq_sql::output::Terminal { width, max_rows });
    }
    let mut sink = Sink::open(output.output.as_ref())?;
    let mut rows = 0;
    let mut left_out = 0;
    let written: anyhow::Result<()> = async {
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            rows += batch.num_rows();
            writer.write_batch(sink.writer(), &batch)?;
        }
        left_out = writer.rows_left_out();
        writer.finish(sink.writer())?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => {
            sink.commit()?;
            if left_out > 0 {
                crate::sink::print_rows_left_out(rows - left_out, left_out);
            }
            Ok(rows)
        }
        Err(e) => {
            sink.discard();
            Err(e)
        }
    }
}

/// Runs `sql` and writes its rows where asked as they arrive, then reports on standard error what
/// was read.
async fn run_query(
    source: &SourceArgs,
    sql: &str,
    params: &[(String, String)],
    output: &OutputArgs,
) -> anyhow::Result<Outcome> {
    let counters = Arc::new(Progress::default());
    let session = open_session(source, &counters).await?;
    let progress = ProgressLine::start(&counters, output.quiet);
    let (columns, stream) = session.query_stream(sql, params).await?;
    let cut = !ctq_sql::output::sets_row_limit(sql);
    let rows = write_rows_cut(
        output,
        columns,
        cut,
        stream.map(|b| b.map_err(SqlError::from)),
    )
    .await?;
    drop(progress);
    print_scan_summary(&session, &counters, rows, output.quiet);
    Ok(Outcome::after_scan(&session))
}

/// The suppression file's patterns; none without one.
fn load_suppressions(path: Option<&PathBuf>) -> anyhow::Result<Suppressions> {
    let Some(path) = path else {
        return Ok(Suppressions::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read suppression file {}", path.display()))?;
    Suppressions::parse(&text).with_context(|| format!("suppression file {}", path.display()))
}
