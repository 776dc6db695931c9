//! `ctq explain`: a window's denials grouped into causes, each with its next step.

use std::sync::Arc;

use anyhow::Context;
use ctq_denial::triage::{GroupBy, Noise, Triage};
use ctq_ingest::Progress;
use ctq_report::explain::{
    Scope, View, explain_csv, explain_document, explain_text, triage_denials,
};
use ctq_sql::Instant;

use crate::args::{ExplainArgs, ExplainFormat};
use crate::commands::{Outcome, Sink, load_suppressions};
use crate::paths::check_output;
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::summary::{explain_no_rows, print_scan_summary};
use crate::window::{denial_filter, open_window};

/// Groups the text report shows unless `--top` says otherwise.
const DEFAULT_TOP: usize = 20;

pub async fn run(args: ExplainArgs) -> anyhow::Result<Outcome> {
    check_output("--output", args.output.as_deref(), &args.source)?;
    let suppressions = load_suppressions(args.suppress.as_ref())?;
    let (from, to) = open_window(&args.window, Instant::now())?;
    let filter = denial_filter(&args.scope, from, to);

    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.quiet);
    let noise = Noise {
        service_calls: args.exclude_noise,
        console_browsing: args.exclude_noise,
    };
    let group_by = GroupBy::new(args.group_by.iter().copied());
    let triage = Triage::new(noise, suppressions, args.samples)
        .group_by(group_by.clone())
        .fold_resources(true)
        .only_causes(&args.cause);
    let (finished, denials) = triage_denials(&session, &filter, triage)
        .await
        .context("reading the denials failed")?;
    drop(progress);
    // A terminal reads the largest groups; a program or a spreadsheet takes them all.
    let top = match (args.top, args.format) {
        (Some(0), _) | (None, ExplainFormat::Json | ExplainFormat::Csv) => None,
        (Some(top), _) => Some(top),
        (None, ExplainFormat::Report) => Some(DEFAULT_TOP),
    };
    let scope = Scope {
        from,
        to,
        principal: args.scope.principal.as_deref(),
    };
    let view = View {
        causes: &args.cause,
        group_by: if group_by == GroupBy::default() {
            &[]
        } else {
            group_by.dimensions()
        },
        top,
    };
    let text = match args.format {
        ExplainFormat::Report => explain_text(&scope, &view, &finished),
        ExplainFormat::Csv => explain_csv(&view, &finished),
        ExplainFormat::Json => {
            let scan = session.file_outcomes();
            let document = explain_document(
                &scope,
                &view,
                &finished,
                scan.files_read(),
                scan.damaged().count(),
            );
            serde_json::to_string_pretty(&document)? + "\n"
        }
    };
    let mut sink = Sink::open(args.output.as_ref())?;
    match sink.writer().write_all(text.as_bytes()) {
        Ok(()) => sink.commit()?,
        Err(e) => {
            sink.discard();
            return Err(e).context("cannot write the explanation");
        }
    }
    print_scan_summary(&session, &counters, denials, args.quiet);
    if denials == 0 {
        explain_no_rows(&session, &counters, &filter, &args.source).await;
    }
    let outcome = Outcome::after_scan(&session);
    // The groups are hundreds of thousands of small allocations over a few days: freeing them
    // one by one took about 5% of a 3-day explanation's CPU, on its one thread after the scan,
    // and the process ends next.
    std::mem::forget(finished);
    Ok(outcome)
}
