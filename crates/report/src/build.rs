//! Running a report: the window's denials through the triage, the event count and each saved
//! query over a session, gathered into a [`Report`] and the files of its folder.

use std::path::PathBuf;

use ctq_denial::triage::{Event, Excluded, Group, Noise, Suppressions, Triage};
use ctq_denial::{Decision, parse_message};
use ctq_sql::canned::DenialFilter;
use ctq_sql::events::{EVENTS_IN_WINDOW, denial_events, events_in_window};
use ctq_sql::output::{OutputFormat, first_text_rows, write_results};
use ctq_sql::saved::{SavedQuery, bind};
use ctq_sql::{ColumnNeeds, Instant, SqlError, TimeWindow, TrailSession};

use crate::explain::{Scope, explain_json};
use crate::{DamagedFile, DenialRow, Files, MAX_TABLE_ROWS, QueryTable, Report, Window, fail_on};

/// Event IDs kept per triage group in a report.
const SAMPLES: usize = 3;

/// What to run over the session, and how.
#[derive(Debug)]
pub struct Request<'a> {
    pub window: TimeWindow,
    /// When the report is made: the `now` the window was read against.
    pub generated_at: Instant,
    /// When the run began, for the report's duration.
    pub started: std::time::Instant,
    /// The trail's locations as given, named in the report unless a store was read.
    pub sources: &'a [PathBuf],
    pub queries: &'a [SavedQuery],
    /// Values for the queries' parameters; they win over the window's `$from` and `$to`.
    pub params: &'a [(String, String)],
    pub noise: Noise,
    pub suppressions: Suppressions,
    pub fail_on: &'a [fail_on::Rule],
    /// The hunting rules whose findings the report shows, with their default thresholds.
    pub hunt_rules: &'a [ctq_hunt::Rule],
    /// Memory the window's records may take to be decoded once for every query; past it each
    /// query reads the trail itself.
    pub cache_budget_bytes: usize,
    /// Whose denials the triage and the denial list read (principal, account, region), matched
    /// as `ctq denials` and `ctq explain` match them; its window is `window`.
    pub denials: DenialFilter,
}

/// A report and the CSV of each saved query that ran, named as in [`QueryTable::csv_file`].
#[derive(Debug)]
pub struct Built {
    pub report: Report,
    pub csv_files: Vec<(String, Vec<u8>)>,
    /// `triage.json` but for its groups, `report.triage`, which [`Built::triage_json`] renders
    /// into it: the document `ctq explain --format json` prints for the same window and
    /// principal, every group in it.
    triage_without_groups: serde_json::Value,
}

/// A query of the report that failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("reading the window's denials failed")]
    Denials(#[source] SqlError),
    #[error("counting the window's events failed")]
    EventCount(#[source] SqlError),
    #[error("hunting the window failed")]
    Hunt(#[source] ctq_hunt::HuntError),
    #[error("saved query {name}")]
    SavedQuery {
        name: String,
        #[source]
        source: SqlError,
    },
}

/// Runs the report's queries over `session` and gathers their results, with the `--fail-on`
/// verdicts.
pub async fn build(session: &TrailSession, request: Request<'_>) -> Result<Built, BuildError> {
    let window = request.window;
    let filter = DenialFilter {
        from: Some(window.from()),
        to: Some(window.to()),
        ..request.denials.clone()
    };
    // One read of the window serves the hunt and every query after it.
    decode_window_once(session, &request, &filter).await;
    // Then the hunt, the triage, the count and the saved queries run side by side over it. The
    // queries' last steps (a final aggregation, a sort) run where they are awaited, and the
    // triage's fold runs on a thread of its own, so that neither waits for the other.
    let hunt_request = ctq_hunt::Request {
        scope: filter.clone(),
        rules: request.hunt_rules,
        thresholds: &ctq_hunt::Thresholds::default(),
        suppressions: &request.suppressions,
        max_bytes: request.cache_budget_bytes,
    };
    let hunting = ctq_hunt::hunt(session, &hunt_request);
    let triaging = async {
        let events = denial_events(session, &filter)
            .await
            .map_err(BuildError::Denials)?;
        let (noise, suppressions) = (request.noise, request.suppressions.clone());
        let (sender, folded) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            // The receiver is gone only if the report was dropped meanwhile.
            let _ = sender.send(fold_denials(&events, noise, suppressions));
        });
        Ok(folded.await.expect("the triage thread sends its result"))
    };
    let counting = async {
        events_in_window(session, &window)
            .await
            .map_err(BuildError::EventCount)
    };
    let querying = futures::future::join_all(request.queries.iter().map(|query| async {
        run_saved_query(session, query, &window, request.params)
            .await
            .map_err(|source| BuildError::SavedQuery {
                name: query.name.clone(),
                source,
            })
    }));
    let (hunted, triaged, counted, queried) = futures::join!(hunting, triaging, counting, querying);
    // A window too large to hunt in memory still gets the rest of its report, saying so.
    let (hunt, hunt_not_run) = match hunted {
        Ok(hunt) => (Some(hunt), None),
        Err(e @ ctq_hunt::HuntError::TooLarge { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(BuildError::Hunt(e)),
    };
    let (denials, groups, excluded) = triaged?;
    let events_in_window = counted?;
    let mut tables = Vec::new();
    let mut csv_files = Vec::new();
    for queried in queried {
        let (table, csv) = queried?;
        if let (Some(csv), Some(name)) = (csv, &table.csv_file) {
            csv_files.push((name.clone(), csv));
        }
        tables.push(table);
    }

    let scan = session.file_outcomes();
    let files = Files {
        read: scan.files_read() as u64,
        skipped: scan.skipped().count() as u64,
        events_in_window,
        damaged: scan
            .damaged()
            .map(|(path, reason)| DamagedFile {
                path: path.display().to_string(),
                reason: reason.to_string(),
            })
            .collect(),
        store: session.store().map(std::string::ToString::to_string),
    };
    let source = match session.store() {
        Some(store) => format!("store {store}"),
        None => request
            .sources
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut report = Report {
        generated_at: request.generated_at.to_string(),
        window: Window::of(&window),
        source,
        files,
        denials,
        triage: groups,
        excluded,
        findings: hunt
            .as_ref()
            .map(|h| h.findings.clone())
            .unwrap_or_default(),
        hunt_rules: request.hunt_rules.iter().map(|r| r.id.clone()).collect(),
        hunt_not_run,
        queries: tables,
        verdicts: Vec::new(),
        duration_ms: 0,
    };
    report.verdicts = fail_on::evaluate(request.fail_on, &report);
    report.duration_ms = request.started.elapsed().as_millis() as u64;
    let mut triage_without_groups = explain_json(
        &Scope {
            from: Some(window.from()),
            to: Some(window.to()),
            principal: request.denials.principal.as_deref(),
        },
        &[],
        &report.excluded,
        scan.files_read(),
        scan.damaged().count(),
    );
    // `explain_json` counts the denials of the groups it is given, none here.
    triage_without_groups["denials"] = report.triage.iter().map(|g| g.count).sum::<u64>().into();
    Ok(Built {
        report,
        csv_files,
        triage_without_groups,
    })
}

/// The report's denial rows, and its triage of them (groups, then what was left out).
fn fold_denials(
    events: &[Event],
    noise: Noise,
    suppressions: Suppressions,
) -> (Vec<DenialRow>, Vec<Group>, Excluded) {
    // Resources fold as `ctq explain` folds them, so triage.json is what explain gives.
    let mut triage = Triage::new(noise, suppressions, SAMPLES).fold_resources(true);
    let mut denials = Vec::with_capacity(events.len());
    for event in events {
        denials.push(DenialRow::of_event(event));
        triage.add(event);
    }
    let (groups, excluded) = triage.finish();
    (denials, groups, excluded)
}

impl Built {
    /// The report folder's files: report.html, summary.json, triage.json and the CSVs. The page
    /// and the triage (tens of megabytes of JSON over a few days of a busy trail) are rendered
    /// side by side.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
        let ((html, summary), triage) = rayon::join(
            || {
                (
                    crate::render_html(&self.report).into_bytes(),
                    pretty_json(&crate::summary_json(&self.report)),
                )
            },
            || self.triage_json(),
        );
        let mut files = vec![
            ("report.html".to_string(), html),
            ("summary.json".to_string(), summary?),
            ("triage.json".to_string(), triage?),
        ];
        files.extend(self.csv_files.iter().cloned());
        Ok(files)
    }

    /// `triage.json`, pretty-printed.
    pub fn triage_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        pretty_json_with_array(&self.triage_without_groups, "groups", &self.report.triage)
    }
}

fn pretty_json(value: &impl serde::Serialize) -> Result<Vec<u8>, serde_json::Error> {
    Ok((serde_json::to_string_pretty(value)? + "\n").into_bytes())
}

/// [`pretty_json`] of `document` with `items` as the array at its top-level `key`, the items
/// rendered on every core: the bytes serde_json gives for the whole document, built as a value
/// (its keys sorted) and printed.
fn pretty_json_with_array<T: serde::Serialize + Sync>(
    document: &serde_json::Value,
    key: &str,
    items: &[T],
) -> Result<Vec<u8>, serde_json::Error> {
    use rayon::prelude::*;

    let mut document = document.clone();
    document[key] = serde_json::Value::Array(Vec::new());
    let text = serde_json::to_string_pretty(&document)?;
    // A key at depth one starts a line after two spaces, and a string never holds a raw newline:
    // this is found once, where the key is.
    let empty = format!("\n  {}: []", serde_json::to_string(key)?);
    let Some(at) = text.find(&empty) else {
        unreachable!("the key was set at the top level of an object")
    };
    let opened = at + empty.len() - 1;
    // Each item as serde_json prints an array's elements at depth two.
    let items: Vec<String> = items
        .par_iter()
        .map(|item| {
            let item = serde_json::to_string_pretty(&serde_json::to_value(item)?)?;
            Ok(item.replace('\n', "\n    "))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let mut out =
        String::with_capacity(text.len() + items.iter().map(|i| i.len() + 6).sum::<usize>() + 4);
    out.push_str(&text[..opened]);
    for (index, item) in items.iter().enumerate() {
        out.push_str(if index == 0 { "\n    " } else { ",\n    " });
        out.push_str(item);
    }
    if !items.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str(&text[opened..]);
    out.push('\n');
    Ok(out.into_bytes())
}

impl Window {
    /// The report's window from a window of event time.
    pub fn of(window: &TimeWindow) -> Self {
        Window {
            from: window.from().to_string(),
            to: window.to().to_string(),
            from_ms: window.from().millis(),
            to_ms: window.to().millis(),
        }
    }
}

impl DenialRow {
    /// A denial as the saved queries count it: principal as `coalesce(arn, invokedby)`.
    pub fn of_event(event: &Event) -> Self {
        let explicit = event
            .error_message
            .as_deref()
            .is_some_and(|m| parse_message(m).decision == Decision::Explicit);
        DenialRow {
            time_ms: event
                .event_time
                .as_deref()
                .and_then(Instant::parse_iso8601)
                .map(Instant::millis),
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
}

/// Reads the window's records once into memory, only the columns the report's queries and its
/// hunt read, so that the hunt, the triage, the event count and each saved query do not decode
/// the trail again.
/// Skipped (each query then reads the trail) when a saved query is not bound to the window (it
/// lacks `$from` or `$to`, or `--param` pins one), when a query cannot be planned (it fails later
/// with its own error), or past the memory budget.
async fn decode_window_once(session: &TrailSession, request: &Request<'_>, filter: &DenialFilter) {
    let window = &request.window;
    if request
        .params
        .iter()
        .any(|(name, _)| matches!(name.trim_start_matches('$'), "from" | "to"))
    {
        return;
    }
    let mut queries = vec![
        filter.explain_query(),
        (EVENTS_IN_WINDOW.to_string(), window.params()),
    ];
    for query in request.queries {
        let Ok(needed) = session.parameters(&query.sql).await else {
            return;
        };
        if !(needed.iter().any(|n| n == "from") && needed.iter().any(|n| n == "to")) {
            return;
        }
        if let Ok(params) = bind(&needed, Some(window), request.params) {
            queries.push((query.sql.clone(), params));
        }
    }
    let mut needs = ColumnNeeds::default();
    // The hunt's first: it reads request parameters of some records only, and a query after it
    // may read them of every one.
    if !request.hunt_rules.is_empty()
        && ctq_hunt::events::add_window_needs(session, filter, &mut needs)
            .await
            .is_err()
    {
        return;
    }
    for (sql, params) in &queries {
        if session
            .trail_columns(sql, params, &mut needs)
            .await
            .is_err()
        {
            return;
        }
    }
    // A failed read is left to the queries to report: they meet the same trail.
    let _ = session
        .cache_window(window, &needs, request.cache_budget_bytes)
        .await;
}

/// Runs one saved query over the window; a query needing a parameter nobody gave is listed as
/// not run, with what to pass, rather than failing the whole report.
async fn run_saved_query(
    session: &TrailSession,
    query: &SavedQuery,
    window: &TimeWindow,
    params: &[(String, String)],
) -> Result<(QueryTable, Option<Vec<u8>>), SqlError> {
    let needed = session.parameters(&query.sql).await?;
    let mut table = QueryTable {
        name: query.name.clone(),
        title: query.title(),
        csv_file: None,
        columns: Vec::new(),
        rows: Vec::new(),
        row_count: 0,
        not_run: None,
    };
    let params = match bind(&needed, Some(window), params) {
        Ok(params) => params,
        Err(missing) => {
            table.not_run = Some(not_run_note(&missing));
            return Ok((table, None));
        }
    };
    let result = session.query(&query.sql, &params).await?;
    table.csv_file = Some(format!("{}.csv", query.name));
    let mut csv = Vec::new();
    write_results(
        &mut csv,
        OutputFormat::Csv,
        &result.columns,
        &result.batches,
    )?;
    table.rows = first_text_rows(&result.batches, MAX_TABLE_ROWS)?;
    table.row_count = result
        .batches
        .iter()
        .map(ctq_sql::arrow::array::RecordBatch::num_rows)
        .sum();
    table.columns = result.columns;
    Ok((table, Some(csv)))
}

/// Why a query was not run: the `$names` it needs, and how to give the first.
fn not_run_note(missing: &[String]) -> String {
    format!(
        "needs {}; give it with --param {}=VALUE",
        missing.join(", "),
        missing
            .first()
            .map(|m| m.trim_start_matches('$'))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use ctq_denial::triage::Event;
    use ctq_sql::SessionOptions;

    use super::*;

    fn at(text: &str) -> Instant {
        Instant::parse_iso8601(text).unwrap()
    }

    #[test]
    fn an_array_rendered_apart_is_the_document_printed_whole() {
        let tricky = serde_json::json!({
            "b": "\n  \"groups\": []",
            "groups": "replaced",
            "a": {"groups": [1, 2]},
            "z": [],
        });
        let items = [
            serde_json::json!({"y": [1, {"deep": ["x\ny"]}], "x": null, "groups": []}),
            serde_json::json!("a string, \"quoted\"\n"),
            serde_json::json!(7),
            serde_json::json!([]),
            serde_json::json!({}),
        ];
        for count in 0..=items.len() {
            let mut whole = tricky.clone();
            whole["groups"] = serde_json::Value::Array(items[..count].to_vec());
            assert_eq!(
                String::from_utf8(
                    pretty_json_with_array(&tricky, "groups", &items[..count]).unwrap()
                )
                .unwrap(),
                String::from_utf8(pretty_json(&whole).unwrap()).unwrap(),
                "{count} items"
            );
        }
    }

    #[test]
    fn a_denial_row_counts_principals_as_the_queries_do() {
        let event = Event {
            event_time: Some("2019-10-29T06:52:45Z".into()),
            invoked_by: Some("ec2.amazonaws.com".into()),
            event_source: Some("s3.amazonaws.com".into()),
            event_name: Some("GetObject".into()),
            error_code: Some("AccessDenied".into()),
            error_message: Some(
                "User: arn:aws:iam::1:user/a is not authorized to perform: s3:GetObject with an explicit deny in an identity-based policy".into(),
            ),
            ..Event::default()
        };
        let row = DenialRow::of_event(&event);
        assert_eq!(row.time_ms, Some(at("2019-10-29T06:52:45Z").millis()));
        assert_eq!(row.principal, "ec2.amazonaws.com");
        assert_eq!(row.qualified_action(), "s3:GetObject");
        assert!(row.explicit);
        let unknown = DenialRow::of_event(&Event::default());
        assert_eq!(
            (unknown.principal.as_str(), unknown.time_ms),
            ("(unknown)", None)
        );
        assert!(!unknown.explicit);
    }

    #[test]
    fn the_window_keeps_its_instants() {
        let window = TimeWindow::new(at("2019-10-28"), at("2019-10-31")).unwrap();
        let shown = Window::of(&window);
        assert_eq!(shown.from, "2019-10-28T00:00:00.000Z");
        assert_eq!(shown.to, "2019-10-31T00:00:00.000Z");
        assert_eq!(shown.to_ms - shown.from_ms, 3 * 86_400_000);
    }

    #[test]
    fn a_query_not_run_says_what_to_pass() {
        assert_eq!(
            not_run_note(&["$arn".into(), "$who".into()]),
            "needs $arn, $who; give it with --param arn=VALUE"
        );
    }

    /// A report over the sample trail, its records held in memory up to `budget` bytes, and the
    /// records the scans decoded.
    async fn sample_report(budget: usize) -> (Built, u64) {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let sources = [repo.join("sample-logs")];
        let progress = std::sync::Arc::new(ctq_ingest::Progress::default());
        let options = SessionOptions {
            progress: Some(progress.clone()),
            ..SessionOptions::default()
        };
        let session = TrailSession::open(&sources, &options).await.unwrap();
        let queries = ctq_sql::saved::bundled();
        let built = build(
            &session,
            Request {
                window: TimeWindow::new(at("2019-10-28"), at("2019-10-31")).unwrap(),
                generated_at: at("2019-11-01"),
                started: std::time::Instant::now(),
                sources: &sources,
                queries: &queries,
                params: &[(
                    "arn".into(),
                    "arn:aws:iam::123456789012:user/username".into(),
                )],
                noise: Noise::default(),
                suppressions: Suppressions::default(),
                fail_on: &[],
                hunt_rules: &ctq_hunt::bundled(),
                cache_budget_bytes: budget,
                denials: DenialFilter::default(),
            },
        )
        .await
        .unwrap();
        let scanned = progress
            .records_scanned
            .load(std::sync::atomic::Ordering::Relaxed);
        (built, scanned)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn decoding_the_window_once_changes_no_figure() {
        let (once, scanned_once) = sample_report(1 << 30).await;
        // No budget: every query reads the trail again.
        let (each, scanned_each) = sample_report(0).await;
        // No budget also leaves the hunt out, saying why; the sample has no finding to lose.
        let reason = each.report.hunt_not_run.as_deref().unwrap_or_default();
        assert!(reason.contains("too many events to hunt"), "{reason}");
        assert!(
            crate::render_html(&each.report)
                .contains("<p id=\"hunt-not-run\">Not run: the window holds too many events")
        );
        assert_eq!(once.report.hunt_not_run, None);
        let figures = |built: &Built| {
            let mut summary = crate::summary_json(&built.report);
            summary["duration_ms"] = serde_json::Value::Null;
            summary["hunt_not_run"] = serde_json::Value::Null;
            summary
        };
        assert_eq!(figures(&once), figures(&each));
        // Rows the queries order equally may come in either order.
        let lines = |built: &Built| {
            built
                .csv_files
                .iter()
                .map(|(name, csv)| {
                    let mut lines: Vec<&str> = std::str::from_utf8(csv).unwrap().lines().collect();
                    lines.sort_unstable();
                    (name.clone(), lines.join("\n"))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(&once), lines(&each));
        // The denial query has no order: rows come as the parallel scan gives them.
        let sorted = |built: &Built| {
            let mut rows: Vec<String> = built
                .report
                .denials
                .iter()
                .map(|d| format!("{d:?}"))
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(sorted(&once), sorted(&each));
        assert!(once.csv_files.len() == queries_run(&once) && !once.csv_files.is_empty());
        // Once: one read in one pass, shared by the hunt and the queries (the records with an
        // error code whole, the rest with the columns read of every record): the records of one
        // read of the window's files. Each: every query reads every file.
        let one_read = {
            let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let progress = std::sync::Arc::new(ctq_ingest::Progress::default());
            let options = SessionOptions {
                progress: Some(progress.clone()),
                ..SessionOptions::default()
            };
            let session = TrailSession::open(&[repo.join("sample-logs")], &options)
                .await
                .unwrap();
            let window = TimeWindow::new(at("2019-10-28"), at("2019-10-31")).unwrap();
            session
                .query(EVENTS_IN_WINDOW, &window.params())
                .await
                .unwrap();
            progress
                .records_scanned
                .load(std::sync::atomic::Ordering::Relaxed)
        };
        assert!(one_read > 0);
        assert_eq!(scanned_once, one_read);
        assert!(
            scanned_each >= 3 * scanned_once,
            "each query decoding the window: {scanned_each} records, once: {scanned_once}"
        );
    }

    fn queries_run(built: &Built) -> usize {
        built
            .report
            .queries
            .iter()
            .filter(|q| q.not_run.is_none())
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_report_over_the_sample_trail() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let sources = [repo.join("sample-logs")];
        let session = TrailSession::open(&sources, &SessionOptions::default())
            .await
            .unwrap();
        let window = TimeWindow::new(at("2019-10-28"), at("2019-10-31")).unwrap();
        let queries = ctq_sql::saved::bundled();
        let built = build(
            &session,
            Request {
                window,
                generated_at: at("2019-11-01"),
                started: std::time::Instant::now(),
                sources: &sources,
                queries: &queries,
                params: &[],
                noise: Noise::default(),
                suppressions: Suppressions::default(),
                fail_on: &[],
                hunt_rules: &ctq_hunt::bundled(),
                cache_budget_bytes: 1 << 30,
                denials: DenialFilter::default(),
            },
        )
        .await
        .unwrap();
        let report = &built.report;
        assert_eq!(report.generated_at, "2019-11-01T00:00:00.000Z");
        assert!(report.denials.len() > 10);
        assert!(report.files.events_in_window >= report.denials.len() as u64);
        assert_eq!(
            report.triage.iter().map(|g| g.count).sum::<u64>()
                + report.excluded.duplicates
                + report.excluded.not_denials,
            report.denials.len() as u64
        );
        assert_eq!(report.queries.len(), queries.len());
        let article = report
            .queries
            .iter()
            .find(|q| q.name == "access-denied")
            .unwrap();
        assert!(
            article
                .not_run
                .as_deref()
                .unwrap()
                .contains("--param arn=VALUE")
        );
        // Every query that ran has its CSV, and the folder has the page and the JSON.
        assert_eq!(built.csv_files.len(), queries.len() - 1);
        let names: Vec<String> = built.files().unwrap().into_iter().map(|f| f.0).collect();
        assert_eq!(&names[..3], ["report.html", "summary.json", "triage.json"]);
        assert!(names.contains(&"denials-by-principal.csv".to_string()));
        // summary.json names only the CSVs written; triage.json is `ctq explain --format json`'s.
        assert_eq!(article.csv_file, None);
        for table in &report.queries {
            if let Some(csv) = &table.csv_file {
                assert!(names.contains(csv), "{csv}");
            }
        }
        let summary = crate::summary_json(report);
        assert!(summary["queries"].as_array().unwrap().iter().all(|q| {
            q.get("csv_file")
                .is_none_or(|csv| names.iter().any(|n| n == csv))
        }));
        assert_eq!(summary["no_data"], false);
        let triage: serde_json::Value =
            serde_json::from_slice(&built.triage_json().unwrap()).unwrap();
        assert_eq!(
            triage["groups"].as_array().unwrap().len(),
            report.triage.len()
        );
        assert_eq!(triage["window"]["from"], report.window.from);
        assert_eq!(triage["files_read"], report.files.read);
        // The groups rendered apart are the document serde_json prints whole.
        let whole = explain_json(
            &Scope {
                from: Some(at(&report.window.from)),
                to: Some(at(&report.window.to)),
                principal: None,
            },
            &report.triage,
            &report.excluded,
            report.files.read as usize,
            report.files.damaged.len(),
        );
        assert!(!report.triage.is_empty());
        assert_eq!(
            String::from_utf8(built.triage_json().unwrap()).unwrap(),
            String::from_utf8(pretty_json(&whole).unwrap()).unwrap()
        );
    }
}
