//! `ctq explain`: a window's denials grouped into causes, each with its next step.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use ctq_denial::triage::{Event, Excluded, Group, Noise, Suppressions, Triage};
use ctq_ingest::Progress;
use ctq_sql::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use ctq_sql::arrow::compute::cast;
use ctq_sql::arrow::datatypes::DataType;
use ctq_sql::canned::explain_sql;

use crate::args::{ExplainArgs, ExplainFormat};
use crate::commands::{Outcome, Sink, open_session, report_files, resolve_window};
use crate::progress::ProgressLine;

pub async fn run(args: ExplainArgs) -> anyhow::Result<Outcome> {
    let suppressions = load_suppressions(args.suppress.as_ref())?;
    let (from, to) = resolve_window(&args.window)?;
    let mut params = Vec::new();
    for (name, value) in [("principal", &args.principal), ("from", &from), ("to", &to)] {
        if let Some(value) = value {
            params.push((name.to_string(), value.clone()));
        }
    }
    let sql = explain_sql(args.principal.is_some(), from.is_some(), to.is_some());

    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.quiet);
    let result = session
        .query(&sql, &params)
        .await
        .context("reading the denials failed")?;
    drop(progress);

    let noise = Noise {
        service_calls: args.exclude_noise,
        console_browsing: args.exclude_noise,
    };
    let mut triage = Triage::new(noise, suppressions, args.samples);
    for batch in &result.batches {
        for event in events(batch)? {
            triage.add(&event);
        }
    }
    let (groups, excluded) = triage.finish();
    let window = Window {
        from: from.as_deref(),
        to: to.as_deref(),
        principal: args.principal.as_deref(),
    };
    let text = match args.format {
        ExplainFormat::Report => report(&window, &groups, &excluded),
        ExplainFormat::Json => {
            let report = session.report();
            let document = serde_json::json!({
                "window": { "from": window.from, "to": window.to },
                "principal": window.principal,
                "denials": groups.iter().map(|g| g.count).sum::<u64>(),
                "groups": groups,
                "excluded": excluded,
                "files_read": report.files_read(),
                "damaged_files": report.damaged().count(),
            });
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
    Ok(report_files(&session, groups.len(), args.quiet))
}

/// The suppression file's patterns; none without one.
pub(crate) fn load_suppressions(path: Option<&PathBuf>) -> anyhow::Result<Suppressions> {
    let Some(path) = path else {
        return Ok(Suppressions::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read suppression file {}", path.display()))?;
    Suppressions::parse(&text).with_context(|| format!("suppression file {}", path.display()))
}

struct Window<'a> {
    from: Option<&'a str>,
    to: Option<&'a str>,
    principal: Option<&'a str>,
}

/// The query's columns as triage events.
pub(crate) fn events(batch: &RecordBatch) -> anyhow::Result<Vec<Event>> {
    let column = |name: &str| -> anyhow::Result<StringArray> {
        let array = batch
            .column_by_name(name)
            .with_context(|| format!("the denial query lost its column {name}"))?;
        Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
    };
    let names = [
        "eventtime",
        "eventid",
        "eventsource",
        "eventname",
        "errorcode",
        "errormessage",
        "identity_type",
        "principal_arn",
        "invoked_by",
        "session_issuer_arn",
        "sourceipaddress",
        "useragent",
        "requestparameters",
        "resource_arn",
    ];
    let columns = names
        .iter()
        .map(|name| column(name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cell = |c: usize, row: usize| -> Option<String> {
        let array = &columns[c];
        array.is_valid(row).then(|| array.value(row).to_string())
    };
    Ok((0..batch.num_rows())
        .map(|row| Event {
            event_time: cell(0, row),
            event_id: cell(1, row),
            event_source: cell(2, row),
            event_name: cell(3, row),
            error_code: cell(4, row),
            error_message: cell(5, row),
            identity_type: cell(6, row),
            principal_arn: cell(7, row),
            invoked_by: cell(8, row),
            session_issuer_arn: cell(9, row),
            source_ip: cell(10, row),
            user_agent: cell(11, row),
            request_parameters: cell(12, row),
            resource_arn: cell(13, row),
        })
        .collect())
}

/// The terminal report: a header, then one block per group, most frequent first.
fn report(window: &Window, groups: &[Group], excluded: &Excluded) -> String {
    let mut out = String::new();
    let denials: u64 = groups.iter().map(|g| g.count).sum();
    let span = match (window.from, window.to) {
        (None, None) => "the whole trail".to_string(),
        (from, to) => format!(
            "{} to {}",
            from.unwrap_or("the beginning"),
            to.unwrap_or("the end")
        ),
    };
    let _ = writeln!(
        out,
        "{denials} denial{} in {} group{}, {span}{}",
        plural(denials),
        groups.len(),
        plural(groups.len() as u64),
        window
            .principal
            .map(|p| format!(", principal {p}"))
            .unwrap_or_default()
    );
    let left_out: Vec<String> = [
        (excluded.duplicates, "duplicate deliveries"),
        (excluded.service_calls, "calls by AWS services"),
        (excluded.console_browsing, "console page loads"),
        (excluded.suppressed, "suppressed"),
        (excluded.not_denials, "not denials"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !left_out.is_empty() {
        let _ = writeln!(out, "left out: {}", left_out.join(", "));
    }
    for (index, group) in groups.iter().enumerate() {
        let _ = writeln!(out, "\n[{}] {}", index + 1, group.principal);
        let mut field = |name: &str, value: &str| {
            let _ = writeln!(out, "    {name:<10} {value}");
        };
        field("action", &group.action);
        field(
            "resource",
            group.resource.as_deref().unwrap_or("(not named)"),
        );
        let mut cause = group.cause_summary.clone();
        if let Some(arn) = &group.policy_arn {
            cause.push_str(&format!(": {arn}"));
        }
        field("cause", &cause);
        let seen = match (&group.first_seen, &group.last_seen) {
            (Some(first), Some(last)) if first != last => {
                format!("{} times, {first} to {last}", group.count)
            }
            (Some(first), _) => format!("{} time{}, {first}", group.count, plural(group.count)),
            _ => format!("{} time{}", group.count, plural(group.count)),
        };
        field("seen", &seen);
        field(
            "error",
            &format!(
                "{} from {}",
                join(&group.error_codes),
                join(&group.services)
            ),
        );
        if !group.source_ips.is_empty() {
            field("source ip", &join(&group.source_ips));
        }
        if !group.user_agents.is_empty() {
            field("agent", &join(&group.user_agents));
        }
        if !group.sample_event_ids.is_empty() {
            field("events", &group.sample_event_ids.join(", "));
        }
        field("diagnosis", &group.advice.cause);
        field("next step", &group.advice.next_step);
        if let Some(draft) = &group.advice.draft_policy {
            let _ = writeln!(
                out,
                "    draft policy (a draft to review, not to apply as is):"
            );
            for line in draft.lines() {
                let _ = writeln!(out, "        {line}");
            }
        }
    }
    out
}

fn join<'a>(values: impl IntoIterator<Item = &'a String>) -> String {
    values
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
