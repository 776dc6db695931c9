//! The window flags, read into instants against one `now`.

use anyhow::Context;
use ctq_sql::canned::DenialFilter;
use ctq_sql::{Instant, TimeError, TimeWindow};

use crate::args::{DenialScopeArgs, ReportArgs, WindowArgs};

/// Whether the error is in the times typed rather than in the run: a time that does not read as
/// one, a time no trail can hold, or a window with `--from` not before `--to`. The exit status is
/// then 2, as for clap's usage errors.
pub fn is_usage_error(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<TimeError>().is_some())
}

fn resolve(text: &str, flag: &str, now: Instant) -> anyhow::Result<Instant> {
    Instant::resolve(text, now).with_context(|| flag.to_string())
}

/// `--since` (up to now, the end left open), or `--from` and `--to`, either end open; when both are given `--from` must come before `--to`,
/// as in `ctq report`.
pub fn open_window(
    window: &WindowArgs,
    now: Instant,
) -> anyhow::Result<(Option<Instant>, Option<Instant>)> {
    let resolve = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|text| resolve(text, flag, now))
            .transpose()
    };
    if let Some(since) = &window.since {
        return Ok((Some(resolve_since(since, now)?), None));
    }
    let (from, to) = (
        resolve(&window.from, "--from")?,
        resolve(&window.to, "--to")?,
    );
    if let (Some(from), Some(to)) = (from, to) {
        TimeWindow::new(from, to)?;
    }
    Ok((from, to))
}

/// `--since`: an age (24h) or an instant, read as in `--from`.
fn resolve_since(text: &str, now: Instant) -> anyhow::Result<Instant> {
    resolve(text, "--since", now)
}

/// The filters of a command that reads denials: `--principal`, `--account`, `--event-region`
/// and the window.
pub fn denial_filter(
    scope: &DenialScopeArgs,
    from: Option<Instant>,
    to: Option<Instant>,
) -> DenialFilter {
    DenialFilter {
        principal: scope.principal.clone(),
        account: scope.account.clone(),
        region: scope.event_region.clone(),
        from,
        to,
    }
}

/// `ctq report`'s window: `--since` up to now, or `--from` up to `--to` (now when left out).
pub fn report_window(args: &ReportArgs, now: Instant) -> anyhow::Result<TimeWindow> {
    let (from, to) = match (&args.since, &args.from) {
        (Some(since), _) => (resolve_since(since, now)?, now),
        (None, Some(from)) => (
            resolve(from, "--from", now)?,
            match &args.to {
                Some(to) => resolve(to, "--to", now)?,
                None => now,
            },
        ),
        (None, None) => anyhow::bail!("give the window: --since 24h, or --from TIME [--to TIME]"),
    };
    Ok(TimeWindow::new(from, to)?)
}
