//! `ctq report`: the saved queries and the triage over a window, written as a report folder for
//! people (report.html), spreadsheets (one CSV per query) and programs (summary.json), with an
//! exit status for cron.

use std::io::IsTerminal;
use std::sync::Arc;

use ctq_denial::triage::Noise;
use ctq_ingest::Progress;
use ctq_report::{Request, build};
use ctq_sql::Instant;
use ctq_sql::output::printable;
use ctq_sql::saved::{bundled, load_folder};

use crate::args::ReportArgs;
use crate::commands::{Outcome, load_suppressions};
use crate::paths::check_output;
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::window::{denial_filter, report_window};

/// Memory a report may hold its window's records in, to decode them once for all its queries;
/// a larger window is read again by each query.
const REPORT_MEMORY_BYTES: usize = 4 << 30;

pub async fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let now = Instant::now();
    let window = report_window(&args, now)?;
    check_output("--out", Some(&args.out), &args.source)?;
    let queries = match &args.queries {
        Some(folder) => load_folder(folder)?,
        None => bundled(),
    };
    let suppressions = load_suppressions(args.suppress.as_ref())?;

    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.quiet);
    let request = Request {
        window,
        generated_at: now,
        started,
        sources: &args.source.sources,
        queries: &queries,
        params: &args.params,
        noise: Noise {
            service_calls: args.exclude_noise,
            console_browsing: args.exclude_noise,
        },
        suppressions,
        fail_on: &args.fail_on,
        hunt_rules: &ctq_hunt::bundled(),
        cache_budget_bytes: REPORT_MEMORY_BYTES,
        denials: denial_filter(&args.scope, None, None),
    };
    let built = build(&session, request).await?;
    drop(progress);
    ctq_report::write_report_dir(&args.out, &built.files()?)?;
    let report = &built.report;

    // Under cron stderr is mailed: only what a person must act on goes there.
    for damaged in &report.files.damaged {
        eprintln!(
            "ctq: warning: skipped damaged file {}: {}",
            printable(&damaged.path),
            printable(&damaged.reason)
        );
    }
    let crossed: Vec<_> = report.verdicts.iter().filter(|v| v.crossed).collect();
    // An empty window is not a quiet night: say so, unless a crossed no-data rule already does.
    if let Some(reason) = report.no_data()
        && !crossed.iter().any(|v| v.rule == "no-data")
    {
        eprintln!(
            "ctq: warning: no data: {reason}; the report at {} shows nothing",
            args.out.display()
        );
    }
    for verdict in &crossed {
        eprintln!(
            "ctq: --fail-on {} crossed: {} (see {})",
            verdict.rule,
            verdict.detail,
            args.out.join("report.html").display()
        );
    }
    if !args.quiet && std::io::stderr().is_terminal() {
        eprintln!(
            "ctq: report written to {}: {} denials, {} triage groups, {} queries | {} files read, {} skipped, {} damaged | {:.2} s",
            args.out.display(),
            report.denials.len(),
            report.triage.len(),
            report.queries.len(),
            report.files.read,
            report.files.skipped,
            report.files.damaged.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let outcome = if !crossed.is_empty() {
        Outcome::NeedsAttention
    } else if !report.files.damaged.is_empty() {
        Outcome::DamagedInput
    } else {
        Outcome::Clean
    };
    // The report holds every denial row, triage group and query row as small allocations:
    // freeing them one by one took 0.4 s after a 3-day report, and the process ends next.
    std::mem::forget(built);
    Ok(outcome)
}
