//! `ctq hunt`: the hunting rules over a window, their findings with the next step.

use std::sync::Arc;

use anyhow::Context;
use ctq_hunt::{Request, Severity, Thresholds, bundled, findings_json, findings_text, load_folder};
use ctq_ingest::Progress;
use ctq_sql::Instant;

use crate::args::{HuntArgs, HuntFormat, HuntSeverity};
use crate::commands::{Outcome, Sink, load_suppressions};
use crate::paths::check_output;
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::summary::{explain_no_rows, print_scan_summary};
use crate::window::{denial_filter, open_window};

pub async fn run(args: HuntArgs) -> anyhow::Result<Outcome> {
    let mut rules = match &args.rules {
        Some(folder) => load_folder(folder)?,
        None => bundled(),
    };
    if !args.only.is_empty() {
        if let Some(unknown) = args
            .only
            .iter()
            .find(|id| !rules.iter().any(|r| &r.id == *id))
        {
            let known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
            anyhow::bail!(
                "no hunting rule {unknown}; the rules are: {}",
                known.join(", ")
            );
        }
        rules.retain(|r| args.only.contains(&r.id));
    }
    let thresholds = Thresholds::new(&args.thresholds, &rules)?;
    check_output("--output", args.output.as_deref(), &args.source)?;
    let suppressions = load_suppressions(args.suppress.as_ref())?;
    let (from, to) = open_window(&args.window, Instant::now())?;
    let scope = denial_filter(&args.scope, from, to);

    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.quiet);
    let request = Request {
        scope,
        rules: &rules,
        thresholds: &thresholds,
        suppressions: &suppressions,
        max_bytes: args.memory_limit << 20,
    };
    let hunt = ctq_hunt::hunt(&session, &request).await?;
    drop(progress);

    let text = match args.format {
        HuntFormat::Report => findings_text(&hunt, from, to),
        HuntFormat::Json => serde_json::to_string_pretty(&findings_json(&hunt, from, to))? + "\n",
    };
    let mut sink = Sink::open(args.output.as_ref())?;
    match sink.writer().write_all(text.as_bytes()) {
        Ok(()) => sink.commit()?,
        Err(e) => {
            sink.discard();
            return Err(e).context("cannot write the findings");
        }
    }
    print_scan_summary(&session, &counters, hunt.findings.len(), args.quiet);
    if hunt.events == 0 {
        explain_no_rows(&session, &counters, &request.scope, &args.source).await;
    }
    let floor = args.fail_on.map(|s| match s {
        HuntSeverity::Low => Severity::Low,
        HuntSeverity::Medium => Severity::Medium,
        HuntSeverity::High => Severity::High,
    });
    if let Some(floor) = floor {
        let crossed = hunt.findings.iter().filter(|f| f.severity >= floor).count();
        if crossed > 0 {
            eprintln!(
                "ctq: --fail-on {}: {} of that severity or above",
                floor.as_str(),
                ctq_report::plural(crossed as u64, "finding", "findings")
            );
            return Ok(Outcome::NeedsAttention);
        }
    }
    Ok(Outcome::after_scan(&session))
}
