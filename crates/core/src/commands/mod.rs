//! What each command does, given its parsed arguments.

mod denials;
mod query;
mod schema;

use std::io::Write;

use anyhow::Context;
use ctq_ingest::ScanReport;
use ctq_sql::output::{OutputFormat, write_results};
use ctq_sql::{QueryResult, SessionOptions, TrailSession};

use crate::args::{Command, Format, OutputArgs, SourceArgs};

/// How a successful run ended, for the exit status.
pub enum Outcome {
    Clean,
    DamagedInput,
}

pub async fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Query(args) => query::run(args).await,
        Command::Denials(args) => denials::run(args).await,
        Command::Schema(args) => schema::run(args),
    }
}

fn open_session(source: &SourceArgs) -> anyhow::Result<TrailSession> {
    let options = SessionOptions {
        strict: source.strict,
        extra_table_names: source.tables.clone(),
    };
    Ok(TrailSession::open(&source.sources, &options)?)
}

fn output_format(format: Format) -> OutputFormat {
    match format {
        Format::Table => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Ndjson => OutputFormat::Ndjson,
    }
}

/// Writes the result where asked, then reports on standard error what was read.
fn finish(
    result: &QueryResult,
    session: &TrailSession,
    output: &OutputArgs,
) -> anyhow::Result<Outcome> {
    write_output(result, output)?;
    Ok(report_files(
        &session.report(),
        result.row_count(),
        output.quiet,
    ))
}

fn write_output(result: &QueryResult, output: &OutputArgs) -> anyhow::Result<()> {
    let format = output_format(output.format);
    match &output.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            write_results(&mut writer, format, &result.columns, &result.batches)?;
            writer
                .flush()
                .with_context(|| format!("cannot write output file {}", path.display()))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            write_results(&mut stdout, format, &result.columns, &result.batches)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

/// Damaged files are always named; the one-line summary is left out under `--quiet`.
fn report_files(report: &ScanReport, rows: usize, quiet: bool) -> Outcome {
    let damaged: Vec<_> = report.damaged().collect();
    for (path, reason) in &damaged {
        eprintln!(
            "ctq: warning: skipped damaged file {}: {reason}",
            path.display()
        );
    }
    if !quiet {
        let skipped = report.skipped().count();
        eprintln!(
            "ctq: {rows} row{} | {} file{} read ({} records), {skipped} skipped (not events), {} damaged",
            if rows == 1 { "" } else { "s" },
            report.files_read(),
            if report.files_read() == 1 { "" } else { "s" },
            report.records(),
            damaged.len(),
        );
    }
    if damaged.is_empty() {
        Outcome::Clean
    } else {
        if !quiet {
            eprintln!(
                "ctq: results exclude the damaged files above (exit status 3); --strict makes them an error"
            );
        }
        Outcome::DamagedInput
    }
}
