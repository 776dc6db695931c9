//! Hunting: the intrusions a trail tells through its denials.
//!
//! An attacker holding a leaked key or a stolen session does not know what it may do, so it
//! probes, and the trail fills with denials in shapes a working principal never makes: many
//! distinct actions within minutes, a key that checks its identity and is then refused, roles of
//! other accounts tried one after another, bucket names guessed from a word list. This crate owns
//! those patterns: the rules ([`rules`], `.sql` files in `queries/hunt/` that analysts read and
//! edit), the window's events they run over ([`events`], read from the trail once, held in
//! memory), and the findings they give ([`Finding`]: who, when, what, and what to do), as text
//! for a terminal or JSON.
//!
//! It does not read trails itself (a `ctq-sql` session does), classify denials (`ctq-denial`
//! does) or draw the report page (`ctq-report` shows its findings).

pub mod events;
mod findings;
mod render;
pub mod rules;

use std::collections::HashSet;

use ctq_denial::triage::Suppressions;
use ctq_sql::canned::DenialFilter;
use ctq_sql::{SqlError, TrailSession};
use serde::Serialize;

pub use findings::Finding;
pub use render::{findings_json, findings_text, list};
pub use rules::{Rule, RuleError, Severity, ThresholdError, Thresholds, bundled, load_folder};

/// What to hunt over and with.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The window and whose records (principal, account, region).
    pub scope: DenialFilter,
    pub rules: &'a [Rule],
    pub thresholds: &'a Thresholds,
    /// Denials to leave out before any rule sees them, as `ctq explain` leaves them out.
    pub suppressions: &'a Suppressions,
    /// The most memory the window's events may take; past it the hunt stops with
    /// [`HuntError::TooLarge`].
    pub max_bytes: usize,
}

/// The findings of a hunt, most severe first, and what it read.
#[derive(Debug, Clone, Serialize)]
pub struct Hunt {
    pub findings: Vec<Finding>,
    /// The rules that ran, by id.
    pub rules: Vec<String>,
    /// Events the rules read: every record in scope.
    pub events: usize,
    /// Denials the suppressions left out.
    pub suppressed: usize,
    /// Second deliveries of an event, counted once.
    pub duplicates: usize,
}

/// A hunt that could not run.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("reading the window's events failed")]
    Events(#[source] SqlError),
    #[error("hunting rule {rule} failed{}", path.as_ref().map(|p| format!(" ({})", p.display())).unwrap_or_default())]
    Rule {
        rule: String,
        path: Option<std::path::PathBuf>,
        #[source]
        source: SqlError,
    },
    #[error(
        "the window holds too many events to hunt in {limit_mib} MiB of memory (past {events} events); hunt a shorter window (--since, --from/--to) or raise --memory-limit"
    )]
    TooLarge { events: usize, limit_mib: usize },
    #[error(
        "hunting rule {rule} returns rows ctq cannot read: {reason}; a rule returns principal, event_ids and optionally detail"
    )]
    RuleResult { rule: String, reason: String },
}

/// Runs `request.rules` over the records `request.scope` selects.
pub async fn hunt(session: &TrailSession, request: &Request<'_>) -> Result<Hunt, HuntError> {
    let loading = events::load(
        session,
        &request.scope,
        request.suppressions,
        request.max_bytes,
    )
    .await
    .map_err(HuntError::Events)?;
    let (batches, loaded) = match loading {
        events::Loading::Loaded(batches, loaded) => (batches, loaded),
        events::Loading::TooLarge { events } => {
            return Err(HuntError::TooLarge {
                events,
                limit_mib: request.max_bytes >> 20,
            });
        }
    };
    // The rules run at once: each is small over the table in memory, and planning them one
    // after another would leave cores idle.
    let runs = request.rules.iter().map(|rule| async move {
        let params = request.thresholds.for_rule(rule);
        let result = session
            .query(&rule.sql, &params)
            .await
            .map_err(|source| HuntError::Rule {
                rule: rule.id.clone(),
                path: rule.path.clone(),
                source,
            })?;
        let rows =
            findings::rule_rows(&result.batches).map_err(|reason| HuntError::RuleResult {
                rule: rule.id.clone(),
                reason,
            })?;
        Ok::<_, HuntError>((rule, rows))
    });
    let per_rule = futures::future::try_join_all(runs).await?;
    // Only the events findings name are looked up, in one pass over the window.
    let wanted: HashSet<&str> = per_rule
        .iter()
        .flat_map(|(_, rows)| {
            rows.iter()
                .flat_map(|r| r.event_ids.iter().map(String::as_str))
        })
        .collect();
    let evidence = findings::evidence(&batches, &wanted).map_err(HuntError::Events)?;
    let mut all = Vec::new();
    for (rule, rows) in &per_rule {
        let found: Vec<Finding> = rows
            .iter()
            .filter_map(|row| findings::finding(rule, row, &evidence))
            .collect();
        all.extend(findings::merge(rule, found, &evidence));
    }
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_s.cmp(&b.first_s))
            .then(a.rule.cmp(&b.rule))
            .then(a.principal.cmp(&b.principal))
    });
    Ok(Hunt {
        findings: all,
        rules: request.rules.iter().map(|r| r.id.clone()).collect(),
        events: loaded.events,
        suppressed: loaded.suppressed,
        duplicates: loaded.duplicates,
    })
}
