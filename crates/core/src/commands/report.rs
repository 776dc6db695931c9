//! `ctq report`: the saved queries and the triage over a window, written as a report folder for
//! people (report.html), spreadsheets (one CSV per query) and programs (summary.json), with an
//! exit status for cron.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use ctq_denial::Decision;
use ctq_denial::triage::{Noise, Triage};
use ctq_ingest::Progress;
use ctq_report::{DamagedFile, DenialRow, Files, QueryTable, Report, Window, fail_on};
use ctq_sql::TrailSession;
use ctq_sql::canned::{explain_sql, resolve_time};
use ctq_sql::output::{OutputFormat, text_rows, write_results};

use crate::args::ReportArgs;
use crate::commands::explain::{events, load_suppressions};
use crate::commands::{Outcome, open_session};
use crate::progress::ProgressLine;

/// The queries of `queries/`, built in, so a report runs the same anywhere the binary is.
const BUNDLED_QUERIES: [(&str, &str); 5] = [
    (
        "denials-by-principal",
        include_str!("../../../../queries/denials-by-principal.sql"),
    ),
    (
        "top-denied-actions",
        include_str!("../../../../queries/top-denied-actions.sql"),
    ),
    (
        "access-denied-all-principals",
        include_str!("../../../../queries/access-denied-all-principals.sql"),
    ),
    (
        "errors-in-window",
        include_str!("../../../../queries/errors-in-window.sql"),
    ),
    (
        "access-denied",
        include_str!("../../../../queries/access-denied.sql"),
    ),
];

struct SavedQuery {
    name: String,
    sql: String,
}

pub async fn run(args: ReportArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let now = chrono::Utc::now().timestamp_millis();
    let resolve =
        |text: &str, flag: &str| resolve_time(text, now).with_context(|| flag.to_string());
    let (from, to) = match (&args.since, &args.from) {
        (Some(since), _) => (resolve(since, "--since")?, resolve("0s", "now")?),
        (None, Some(from)) => (
            resolve(from, "--from")?,
            resolve(args.to.as_deref().unwrap_or("0s"), "--to")?,
        ),
        (None, None) => anyhow::bail!("give the window: --since 24h, or --from TIME [--to TIME]"),
    };
    let millis = |text: &str| {
        ctq_ingest::time::parse_iso8601_millis(text).expect("resolve_time gives ISO 8601")
    };
    let window = Window {
        from_ms: millis(&from),
        to_ms: millis(&to),
        from,
        to,
    };
    if window.from_ms >= window.to_ms {
        anyhow::bail!(
            "the window {} to {} is empty; --from must come before --to",
            window.from,
            window.to
        );
    }
    let queries = load_queries(args.queries.as_deref())?;
    let suppressions = load_suppressions(args.suppress.as_ref())?;

    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.quiet);
    let window_params = vec![
        ("from".to_string(), window.from.clone()),
        ("to".to_string(), window.to.clone()),
    ];
    let found = session
        .query(&explain_sql(false, true, true), &window_params)
        .await
        .context("reading the window's denials failed")?;
    let noise = Noise {
        service_calls: args.exclude_noise,
        console_browsing: args.exclude_noise,
    };
    let mut triage = Triage::new(noise, suppressions, 3);
    let mut denials = Vec::new();
    for batch in &found.batches {
        for event in events(batch)? {
            denials.push(denial_row(&event));
            triage.add(&event);
        }
    }
    let (groups, excluded) = triage.finish();

    let events_in_window = session
        .query(
            "SELECT count(*) FROM cloudtrail \
             WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from) \
             AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)",
            &window_params,
        )
        .await
        .context("counting the window's events failed")?;
    let events_in_window = events_in_window
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<ctq_sql::arrow::array::Int64Array>()
                .map(|c| c.value(0))
        })
        .context("counting the window's events gave no count")?;

    let mut tables = Vec::new();
    let mut csv_files = Vec::new();
    for query in &queries {
        let (table, csv) = run_saved_query(&session, query, &window_params, &args.params).await?;
        if let Some(csv) = csv {
            csv_files.push((table.csv_file.clone(), csv));
        }
        tables.push(table);
    }
    drop(progress);

    let scan = session.report();
    let files = Files {
        read: scan.files_read() as u64,
        skipped: scan.skipped().count() as u64,
        records: events_in_window as u64,
        damaged: scan
            .damaged()
            .map(|(path, reason)| DamagedFile {
                path: path.display().to_string(),
                reason: reason.to_string(),
            })
            .collect(),
        store: session.store().map(|s| s.to_string()),
    };
    let source = match session.store() {
        Some(store) => format!("store {store}"),
        None => args
            .source
            .sources
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut report = Report {
        generated_at: resolve_time("0s", now)?,
        window,
        source,
        files,
        denials,
        triage: groups,
        excluded,
        queries: tables,
        verdicts: Vec::new(),
        duration_ms: 0,
    };
    report.verdicts = fail_on::evaluate(&args.fail_on, &report);
    report.duration_ms = started.elapsed().as_millis() as u64;

    let summary = ctq_report::summary_json(&report);
    let mut written = vec![
        (
            "report.html".to_string(),
            ctq_report::render_html(&report).into_bytes(),
        ),
        (
            "summary.json".to_string(),
            (serde_json::to_string_pretty(&summary)? + "\n").into_bytes(),
        ),
    ];
    written.push((
        "triage.json".to_string(),
        (serde_json::to_string_pretty(&report.triage)? + "\n").into_bytes(),
    ));
    written.extend(csv_files);
    ctq_report::write_report_dir(&args.out, &written)?;

    // Under cron stderr is mailed: only what a person must act on goes there.
    for damaged in &report.files.damaged {
        eprintln!(
            "ctq: warning: skipped damaged file {}: {}",
            damaged.path, damaged.reason
        );
    }
    let crossed: Vec<_> = report.verdicts.iter().filter(|v| v.crossed).collect();
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
    Ok(if !crossed.is_empty() {
        Outcome::NeedsAttention
    } else if !report.files.damaged.is_empty() {
        Outcome::DamagedInput
    } else {
        Outcome::Clean
    })
}

/// A denial as the saved queries count it: principal as `coalesce(arn, invokedby)`.
fn denial_row(event: &ctq_denial::triage::Event) -> DenialRow {
    let explicit = event
        .error_message
        .as_deref()
        .is_some_and(|m| ctq_denial::parse_message(m).decision == Decision::Explicit);
    DenialRow {
        time_ms: event
            .event_time
            .as_deref()
            .and_then(ctq_ingest::time::parse_iso8601_millis),
        principal: event
            .principal_arn
            .clone()
            .or_else(|| event.invoked_by.clone())
            .unwrap_or_else(|| "(unknown)".to_string()),
        service: event.event_source.clone().unwrap_or_default(),
        action: event.event_name.clone().unwrap_or_default(),
        error_code: event.error_code.clone().unwrap_or_default(),
        explicit,
    }
}

/// Runs one saved query over the window; a query needing a parameter nobody gave is listed as
/// not run, with what to pass, rather than failing the whole report.
async fn run_saved_query(
    session: &TrailSession,
    query: &SavedQuery,
    window_params: &[(String, String)],
    extra_params: &[(String, String)],
) -> anyhow::Result<(QueryTable, Option<Vec<u8>>)> {
    let context = || format!("saved query {}", query.name);
    let needed = session.parameters(&query.sql).await.with_context(context)?;
    let given: Vec<&(String, String)> = window_params.iter().chain(extra_params).collect();
    let mut params = Vec::new();
    let mut missing = Vec::new();
    for name in &needed {
        // --param wins over the window, so a query may be pinned to its own span.
        match given
            .iter()
            .rev()
            .find(|(n, _)| n.trim_start_matches('$') == name)
        {
            Some((_, value)) => params.push((name.clone(), value.clone())),
            None => missing.push(format!("${name}")),
        }
    }
    let mut table = QueryTable {
        name: query.name.clone(),
        title: title_of(&query.sql),
        csv_file: format!("{}.csv", query.name),
        columns: Vec::new(),
        rows: Vec::new(),
        row_count: 0,
        not_run: None,
    };
    if !missing.is_empty() {
        table.not_run = Some(format!(
            "needs {}; give it with --param {}=VALUE",
            missing.join(", "),
            missing[0].trim_start_matches('$')
        ));
        return Ok((table, None));
    }
    let result = session
        .query(&query.sql, &params)
        .await
        .with_context(context)?;
    let mut csv = Vec::new();
    write_results(
        &mut csv,
        OutputFormat::Csv,
        &result.columns,
        &result.batches,
    )
    .with_context(context)?;
    table.rows = text_rows(&result.batches).with_context(context)?;
    table.row_count = table.rows.len();
    table.columns = result.columns;
    Ok((table, Some(csv)))
}

/// The first paragraph of the file's leading comment: what the query is for. The parameter list
/// after it is the window's business, not the reader's.
fn title_of(sql: &str) -> String {
    sql.lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("--"))
        .map(|l| l.trim_start_matches('-').trim())
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("Parameters"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn load_queries(folder: Option<&Path>) -> anyhow::Result<Vec<SavedQuery>> {
    let Some(folder) = folder else {
        return Ok(BUNDLED_QUERIES
            .iter()
            .map(|(name, sql)| SavedQuery {
                name: name.to_string(),
                sql: sql.to_string(),
            })
            .collect());
    };
    let mut paths: Vec<_> = std::fs::read_dir(folder)
        .with_context(|| format!("cannot read the queries folder {}", folder.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        anyhow::bail!(
            "{} holds no .sql files; give --queries a folder of saved queries, or leave it out for the bundled ones",
            folder.display()
        );
    }
    paths
        .into_iter()
        .map(|path| {
            let sql = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read saved query {}", path.display()))?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(SavedQuery { name, sql })
        })
        .collect()
}
