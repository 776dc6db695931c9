//! What each command does, given its parsed arguments.

mod cluster;
mod ddl;
mod denials;
mod explain;
mod ingest;
mod query;
mod report;
mod schema;

use std::sync::Arc;

use anyhow::Context;
use ctq_ingest::Progress;
use ctq_s3::{S3Options, S3Stats};
use ctq_sql::output::{OutputFormat, ResultWriter};
use ctq_sql::{SessionOptions, SqlError, TrailSession};
use ctq_store::StoreLocation;
use futures::StreamExt;

use crate::args::{Command, Format, OutputArgs, S3Args, SourceArgs, WindowArgs};
use crate::progress::ProgressLine;
use crate::sink::Sink;

/// How a successful run ended, for the exit status.
pub enum Outcome {
    Clean,
    DamagedInput,
    /// A report crossed a `--fail-on` threshold.
    NeedsAttention,
}

pub async fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Query(args) => query::run(args).await,
        Command::Denials(args) => denials::run(args).await,
        Command::Explain(args) => explain::run(args).await,
        Command::Schema(args) => schema::run(args).await,
        Command::Ingest(args) => ingest::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Ddl(args) => ddl::run(args),
        Command::Cluster(command) => cluster::run(command).await,
    }
}

fn s3_options(args: &S3Args) -> S3Options {
    S3Options {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        path_style: args.path_style,
        max_in_flight: args.max_in_flight,
        ..S3Options::default()
    }
}

/// `--from`/`--to` as ISO 8601 UTC text, ages (`24h`) taken back from now.
fn resolve_window(window: &WindowArgs) -> anyhow::Result<(Option<String>, Option<String>)> {
    let now = chrono::Utc::now().timestamp_millis();
    let resolve = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|t| ctq_sql::canned::resolve_time(t, now))
            .transpose()
            .with_context(|| flag.to_string())
    };
    Ok((
        resolve(&window.from, "--from")?,
        resolve(&window.to, "--to")?,
    ))
}

async fn open_session(
    source: &SourceArgs,
    progress: &Arc<Progress>,
) -> anyhow::Result<TrailSession> {
    let store = source.store.clone();
    let options = SessionOptions {
        strict: source.strict,
        extra_table_names: source.tables.clone(),
        lake_table_names: source.lake_tables.clone(),
        delivery_slack_ms: source.delivery_slack,
        s3: s3_options(&source.s3),
        progress: Some(progress.clone()),
    };
    let store = store.as_deref().map(StoreLocation::parse).transpose()?;
    Ok(match (store, &source.cluster) {
        (Some(StoreLocation::Local(store)), Some(url)) => {
            ctq_cluster::connect(url, &store, &options)
                .await
                .with_context(|| format!("cannot run on the cluster at {url}"))?
        }
        (Some(StoreLocation::S3(_)), Some(_)) => anyhow::bail!(
            "--cluster runs over a store in a folder every executor sees; copy the store there, or query it on S3 without --cluster"
        ),
        (Some(store), None) => TrailSession::open_store(store, &options).await?,
        (None, _) => TrailSession::open(&source.sources, &options).await?,
    })
}

fn output_format(format: Format) -> OutputFormat {
    match format {
        Format::Table => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Ndjson => OutputFormat::Ndjson,
    }
}

/// Writes rows to the sink as they arrive; on failure the sink is discarded.
async fn write_rows(
    output: &OutputArgs,
    columns: Vec<String>,
    mut batches: impl futures::Stream<Item = Result<ctq_sql::arrow::array::RecordBatch, SqlError>>
    + Unpin,
) -> anyhow::Result<usize> {
    let mut sink = Sink::open(output.output.as_ref())?;
    let mut writer = ResultWriter::new(output_format(output.format), columns);
    let mut rows = 0;
    let written: anyhow::Result<()> = async {
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            rows += batch.num_rows();
            writer.write_batch(sink.writer(), &batch)?;
        }
        writer.finish(sink.writer())?;
        Ok(())
    }
    .await;
    match written {
        Ok(()) => {
            sink.commit()?;
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
    let rows = write_rows(output, columns, stream.map(|b| b.map_err(SqlError::from))).await?;
    drop(progress);
    Ok(report_files(&session, rows, output.quiet))
}

/// Damaged files are always named; the summary is left out under `--quiet`.
fn report_files(session: &TrailSession, rows: usize, quiet: bool) -> Outcome {
    let report = session.report();
    let damaged: Vec<_> = report.damaged().collect();
    for (path, reason) in &damaged {
        eprintln!(
            "ctq: warning: skipped damaged file {}: {reason}",
            path.display()
        );
    }
    if !quiet && let Some(store) = session.store() {
        eprintln!(
            "ctq: {rows} row{} | from the store {}",
            if rows == 1 { "" } else { "s" },
            store
        );
    } else if !quiet {
        let skipped = report.skipped().count();
        eprintln!(
            "ctq: {rows} row{} | {} file{} read, {} records decoded, {skipped} skipped (not events), {} damaged",
            if rows == 1 { "" } else { "s" },
            report.files_read(),
            if report.files_read() == 1 { "" } else { "s" },
            report.records(),
            damaged.len(),
        );
        for trail in session.s3_trails() {
            let stats = &trail.stats;
            eprintln!(
                "ctq: {}: {} LIST and {} GET requests, {} retried, {} object{} lost, {} fetched",
                trail.location(),
                S3Stats::get(&stats.list_requests),
                S3Stats::get(&stats.get_requests),
                S3Stats::get(&stats.retries),
                S3Stats::get(&stats.objects_lost),
                if S3Stats::get(&stats.objects_lost) == 1 {
                    ""
                } else {
                    "s"
                },
                human_bytes(S3Stats::get(&stats.bytes_fetched)),
            );
        }
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

pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
