//! Batch reports: what a nightly run of ctq leaves for people to read and for cron to act on.
//!
//! This crate owns the report's content and files: running it over a session ([`build`]: the
//! window's denials through the triage, the event count and the saved queries of `ctq-sql`), the
//! figures drawn from a window's denials ([`chart`]), the self-contained `report.html` (inline CSS
//! and SVG, no script, no network), `summary.json`, the `--fail-on` thresholds and their verdicts
//! ([`fail_on`]), and writing the report folder atomically ([`write_report_dir`]). It also folds
//! `ctq explain`'s triage beside its scan and writes its text and JSON ([`explain`]).
//!
//! The queries it runs are `ctq-sql`'s, over a session the caller opened; it does not read trails
//! itself. Every number on the page is one the SQL produced: each saved query's result is shown as
//! the same text as its CSV.

pub mod build;
pub mod chart;
mod dir;
pub mod explain;
pub mod fail_on;
mod html;

use ctq_denial::triage::{Excluded, Group};
use serde::Serialize;

pub use build::{BuildError, Built, Request, build};
pub use chart::plural;
pub use dir::write_report_dir;
pub use html::render_html;

/// A query's table longer than this is cut on the page; the CSV next to it has every row.
pub const MAX_TABLE_ROWS: usize = 500;

/// Everything a report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When the report was made, ISO 8601 UTC.
    pub generated_at: String,
    pub window: Window,
    /// What was read: the trail's locations, or the store.
    pub source: String,
    pub files: Files,
    /// Denial rows as the saved queries count them (errorCode AccessDenied*/Unauthorized*), one
    /// per record read, before triage removes duplicate deliveries.
    #[serde(skip)]
    pub denials: Vec<DenialRow>,
    /// The triage of the window's denials, most frequent group first.
    pub triage: Vec<Group>,
    pub excluded: Excluded,
    /// What the hunting rules found in the window (`ctq hunt`), most severe first.
    pub findings: Vec<ctq_hunt::Finding>,
    /// The hunting rules, by id.
    pub hunt_rules: Vec<String>,
    /// Why the hunting rules did not run (a window too large to hunt in memory), if they did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hunt_not_run: Option<String>,
    pub queries: Vec<QueryTable>,
    /// The `--fail-on` rules and whether each was crossed.
    pub verdicts: Vec<fail_on::Verdict>,
    /// How long the run took, in milliseconds.
    pub duration_ms: u64,
}

/// The window, `from` inclusive, `to` exclusive, both ISO 8601 UTC.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub from: String,
    pub to: String,
    #[serde(skip)]
    pub from_ms: i64,
    #[serde(skip)]
    pub to_ms: i64,
}

/// The input files of the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Files {
    /// Log files read (for a store: none; see `store`).
    pub read: u64,
    /// Files skipped because they hold no events (digests, Insights).
    pub skipped: u64,
    /// Events in the window, whatever their error (`records` in summary.json).
    #[serde(rename = "records")]
    pub events_in_window: u64,
    /// Files that could not be read; their records are missing from every figure.
    pub damaged: Vec<DamagedFile>,
    /// The store read instead of log files, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DamagedFile {
    pub path: String,
    pub reason: String,
}

/// One denial record, with what the charts group by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenialRow {
    /// Event time in milliseconds since the epoch; `None` when unreadable.
    pub time_ms: Option<i64>,
    /// `userIdentity.arn`, else `userIdentity.invokedBy`, else `(unknown)`.
    pub principal: String,
    /// `eventSource`, such as `s3.amazonaws.com`.
    pub service: String,
    /// `eventName`, such as `GetObject`.
    pub action: String,
    pub error_code: String,
    /// The message says an explicit deny matched.
    pub explicit: bool,
}

impl DenialRow {
    /// The action as `top-denied-actions.sql` names it: `s3:GetObject`.
    pub fn qualified_action(&self) -> String {
        let service = self.service.split('.').next().unwrap_or(&self.service);
        format!("{service}:{}", self.action)
    }
}

/// One saved query's result, as text.
#[derive(Debug, Clone, Serialize)]
pub struct QueryTable {
    /// The file's stem: `denials-by-principal`.
    pub name: String,
    /// What the query is for: the first paragraph of the file's leading comment, if any.
    pub title: String,
    /// The CSV file written next to the page, such as `denials-by-principal.csv`; none when the
    /// query was not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv_file: Option<String>,
    pub columns: Vec<String>,
    /// The first [`MAX_TABLE_ROWS`] rows (the page shows no more; the CSV has all), cells as the
    /// CSV has them; `None` for NULL.
    #[serde(skip)]
    pub rows: Vec<Vec<Option<String>>>,
    pub row_count: usize,
    /// Why the query was not run (a parameter the report cannot supply), if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
}

/// Errors writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid --fail-on rule {rule:?}: {reason}")]
    FailOn { rule: String, reason: String },
}

impl Report {
    /// Why the report has nothing to show, if it has not: no event in the window at all, which
    /// is not the same as no denial. A schedule pointed at the wrong prefix, or a trail that
    /// stopped delivering, looks like a quiet night otherwise.
    pub fn no_data(&self) -> Option<String> {
        let files = &self.files;
        if files.events_in_window > 0 {
            return None;
        }
        let damaged = files.damaged.len();
        Some(if files.store.is_some() {
            "the store holds no event in the window".to_string()
        } else if files.read == 0 && damaged > 0 {
            format!("no log file of the window could be read ({damaged} damaged)")
        } else if files.read == 0 {
            "no log file under the source was delivered for the window".to_string()
        } else {
            format!(
                "{} read, none holds an event in the window",
                chart::plural(files.read, "log file", "log files")
            )
        })
    }
}

/// `summary.json`: the window, the counts, the files, the queries, the verdicts.
pub fn summary_json(report: &Report) -> serde_json::Value {
    let principals: std::collections::BTreeSet<&str> = report
        .denials
        .iter()
        .map(|d| d.principal.as_str())
        .collect();
    let no_data = report.no_data();
    serde_json::json!({
        "generated_at": report.generated_at,
        "window": report.window,
        "source": report.source,
        "no_data": no_data.is_some(),
        "no_data_reason": no_data,
        "denials": report.denials.len(),
        "explicit_denials": report.denials.iter().filter(|d| d.explicit).count(),
        "principals": principals.len(),
        "triage_groups": report.triage.len(),
        "hunt_rules": report.hunt_rules,
        "hunt_not_run": report.hunt_not_run,
        "findings": report.findings,
        "excluded": report.excluded,
        "files": report.files,
        "queries": report.queries,
        "fail_on": report.verdicts,
        "needs_attention": report.verdicts.iter().any(|v| v.crossed),
        "duration_ms": report.duration_ms,
    })
}
