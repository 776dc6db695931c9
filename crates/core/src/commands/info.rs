//! `ctq info`: what the sources hold: the span of their files' deliveries, files, records, event
//! times, accounts, regions and damaged files.

use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::Context;
use ctq_ingest::Progress;
use ctq_report::plural;
use ctq_sql::output::{printable, text_rows};

use crate::args::InfoArgs;
use crate::commands::Outcome;
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::summary::delivery_span;

const SPAN_SQL: &str = "SELECT min(eventtime), max(eventtime), count(*), \
    count(DISTINCT recipientaccountid), count(DISTINCT awsregion) FROM cloudtrail";

pub async fn run(args: InfoArgs) -> anyhow::Result<Outcome> {
    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.quiet);
    let result = session
        .query(SPAN_SQL, &[])
        .await
        .context("reading the sources failed")?;
    drop(progress);
    let rows = text_rows(&result.batches)?;
    let cell = |i: usize| {
        rows.first()
            .and_then(|row| row.get(i).cloned().flatten())
            .unwrap_or_else(|| "-".to_string())
    };

    let mut out = String::new();
    let outcomes = session.file_outcomes();
    if let Some(store) = session.store() {
        writeln!(out, "store:     {store}")?;
    } else {
        if let Some((first, last)) = delivery_span(&args.source.sources) {
            writeln!(out, "delivered: {first} to {last}")?;
        }
        writeln!(
            out,
            "files:     {} read, {} skipped (not events), {} damaged",
            outcomes.files_read(),
            outcomes.skipped().count(),
            outcomes.damaged().count()
        )?;
    }
    writeln!(out, "events:    {} to {}", cell(0), cell(1))?;
    writeln!(out, "records:   {}", cell(2))?;
    writeln!(out, "accounts:  {}", cell(3))?;
    writeln!(out, "regions:   {}", cell(4))?;
    for (path, reason) in outcomes.damaged() {
        writeln!(
            out,
            "damaged:   {}: {}",
            printable(&path.display().to_string()),
            printable(&reason.to_string())
        )?;
    }
    std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes())?;
    if !args.quiet && outcomes.damaged().next().is_some() {
        eprintln!(
            "ctq: {} skipped (exit status 3)",
            plural(
                outcomes.damaged().count() as u64,
                "damaged file",
                "damaged files"
            )
        );
    }
    Ok(Outcome::after_scan(&session))
}
