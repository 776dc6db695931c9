//! The window flags, read into instants against one `now`.

use anyhow::Context;
use ctq_sql::{Instant, TimeError, TimeWindow};

use crate::args::{ReportArgs, WindowArgs};

/// Whether the error is in what was typed rather than in the run: a time no trail can hold. The
/// exit status is then 2, as for clap's usage errors.
pub fn is_usage_error(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<TimeError>(),
            Some(TimeError::OutOfRange { .. })
        )
    })
}

fn resolve(text: &str, flag: &str, now: Instant) -> anyhow::Result<Instant> {
    Instant::resolve(text, now).with_context(|| flag.to_string())
}

/// `--from` and `--to`, either end open.
pub fn open_window(
    window: &WindowArgs,
    now: Instant,
) -> anyhow::Result<(Option<Instant>, Option<Instant>)> {
    let resolve = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|text| resolve(text, flag, now))
            .transpose()
    };
    Ok((
        resolve(&window.from, "--from")?,
        resolve(&window.to, "--to")?,
    ))
}

/// `ctq report`'s window: `--since` up to now, or `--from` up to `--to` (now when left out).
pub fn report_window(args: &ReportArgs, now: Instant) -> anyhow::Result<TimeWindow> {
    let (from, to) = match (&args.since, &args.from) {
        (Some(since), _) => (resolve(since, "--since", now)?, now),
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
