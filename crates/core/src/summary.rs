//! What a scan read, on standard error.

use std::sync::atomic::{AtomicU64, Ordering};

use ctq_ingest::Progress;
use ctq_report::plural;
use ctq_s3::S3Stats;
use ctq_sql::canned::DenialFilter;
use ctq_sql::output::{printable, text_rows};
use ctq_sql::{Instant, TrailSession};

use crate::args::SourceArgs;
use crate::progress::human_bytes;

/// Names every damaged file and every file read with characters replaced; unless `quiet`, then
/// says how many rows came of how many files (or of the store), what S3 was asked for, and that
/// damaged files are left out of the results.
pub fn print_scan_summary(session: &TrailSession, progress: &Progress, rows: usize, quiet: bool) {
    let outcomes = session.file_outcomes();
    // Its records are in the results, so it does not change the exit status.
    for (path, repaired) in outcomes.repaired() {
        eprintln!(
            "ctq: warning: file {}: {repaired}; its records were read",
            printable(&path.display().to_string())
        );
    }
    let damaged: Vec<_> = outcomes.damaged().collect();
    for (path, reason) in &damaged {
        // A file's name and the reason it could not be read are not ours: escape what would
        // drive the terminal.
        eprintln!(
            "ctq: warning: skipped damaged file {}: {}",
            printable(&path.display().to_string()),
            printable(&reason.to_string())
        );
    }
    if quiet {
        return;
    }
    let rows = plural(rows as u64, "row", "rows");
    if let Some(store) = session.store() {
        eprintln!("ctq: {rows} | from the store {store}");
    } else {
        let skipped = outcomes.skipped().count();
        // The outcomes name each file once however often it was scanned, but only once its scan
        // is over; the counters count files as they are done, also those of a scan a LIMIT
        // stopped early, whose outcomes may never come.
        let files_read = (outcomes.files_read() as u64).max(counter(&progress.files_read));
        let records = outcomes.records().max(counter(&progress.records_scanned));
        eprintln!(
            "ctq: {rows} matched | {} read, {} scanned, {skipped} skipped (not events), {} damaged",
            plural(files_read, "file", "files"),
            plural(records, "record", "records"),
            damaged.len(),
        );
        for trail in session.s3_trails() {
            let stats = &trail.stats;
            eprintln!(
                "ctq: {}: {} LIST and {} GET requests, {} retried, {} lost, {} fetched",
                trail.location(),
                S3Stats::get(&stats.list_requests),
                S3Stats::get(&stats.get_requests),
                S3Stats::get(&stats.retries),
                plural(S3Stats::get(&stats.objects_lost), "object", "objects"),
                human_bytes(S3Stats::get(&stats.bytes_fetched)),
            );
        }
    }
    if !damaged.is_empty() {
        eprintln!(
            "ctq: results exclude the damaged files above (exit status 3); --strict makes them an error"
        );
    }
}

fn counter(value: &AtomicU64) -> u64 {
    value.load(Ordering::Relaxed)
}

/// Why a query with filters found nothing, on standard error: a window the sources hold no
/// records of (with the span they hold), or a principal with no denials (with the principals
/// that have some). Best effort: what cannot be found out is not said.
pub async fn explain_no_rows(
    session: &TrailSession,
    progress: &Progress,
    filter: &DenialFilter,
    source: &SourceArgs,
) {
    let windowed = filter.from.is_some() || filter.to.is_some();
    if windowed && let Some(span) = empty_window_span(session, progress, filter, source).await {
        eprintln!(
            "ctq: no records {}; {span}",
            window_text(filter.from, filter.to)
        );
        return;
    }
    if filter.principal.is_none() {
        return;
    }
    let (sql, params) = filter.principals_query(10);
    let Ok(result) = session.query(&sql, &params).await else {
        return;
    };
    let Ok(rows) = text_rows(&result.batches) else {
        return;
    };
    let principals: Vec<String> = rows
        .iter()
        .map(|row| {
            let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            format!("{} ({})", cell(0), cell(1))
        })
        .collect();
    if principals.is_empty() {
        eprintln!("ctq: no such principal in this window; no principal has denials in it");
    } else {
        eprintln!(
            "ctq: no such principal in this window; principals with denials: {}",
            principals.join(", ")
        );
    }
}

fn window_text(from: Option<Instant>, to: Option<Instant>) -> String {
    match (from, to) {
        (Some(from), Some(to)) => format!("between {from} and {to}"),
        (Some(from), None) => format!("from {from} on"),
        (None, Some(to)) => format!("before {to}"),
        (None, None) => "at all".to_string(),
    }
}

/// What the sources hold, when they hold nothing in the filter's window: for a trail that read no
/// file, the delivery times in its file names; for a store, its first and last event times.
async fn empty_window_span(
    session: &TrailSession,
    progress: &Progress,
    filter: &DenialFilter,
    source: &SourceArgs,
) -> Option<String> {
    if session.store().is_some() {
        let (first, last) = event_time_span(session).await?;
        let outside =
            filter.to.is_some_and(|to| to <= first) || filter.from.is_some_and(|from| from > last);
        return outside.then(|| format!("the store holds {first} to {last}"));
    }
    let outcomes = session.file_outcomes();
    let read = (outcomes.files_read() as u64).max(counter(&progress.files_read));
    if read > 0 || outcomes.damaged().next().is_some() {
        return None;
    }
    match delivery_span(&source.sources) {
        Some((first, last)) => Some(format!(
            "the sources hold files delivered between {first} and {last}"
        )),
        None => Some("the sources hold no file that can hold it".to_string()),
    }
}

/// The first and last delivery times the names of the local trail files under `sources` carry;
/// `None` without any (an S3 trail is not listed again for this).
pub fn delivery_span(sources: &[std::path::PathBuf]) -> Option<(Instant, Instant)> {
    let local: Vec<_> = sources
        .iter()
        .filter(|s| !s.to_string_lossy().starts_with("s3://"))
        .cloned()
        .collect();
    let discovery = ctq_ingest::discover(&local, &ctq_ingest::Pruning::default()).ok()?;
    let times = discovery.files.iter().filter_map(|file| {
        file.path
            .file_name()
            .and_then(|name| ctq_ingest::path::delivery_time_from_name(&name.to_string_lossy()))
    });
    let (first, last) = times.fold(None, |span: Option<(i64, i64)>, t| {
        Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
    })?;
    Some((Instant::from_millis(first)?, Instant::from_millis(last)?))
}

/// The first and last event times of the session's table.
async fn event_time_span(session: &TrailSession) -> Option<(Instant, Instant)> {
    let result = session
        .query("SELECT min(eventtime), max(eventtime) FROM cloudtrail", &[])
        .await
        .ok()?;
    let rows = text_rows(&result.batches).ok()?;
    let row = rows.first()?;
    let at = |i: usize| Instant::parse_iso8601(row.get(i)?.as_deref()?);
    Some((at(0)?, at(1)?))
}
