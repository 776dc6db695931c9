//! `ctq shell`: statements typed at a terminal, or piped in, over one session holding the trail.

use std::sync::Arc;

use anyhow::Context;
use ctq_ingest::Progress;
use ctq_shell::{Shell, ShellOptions};

use crate::args::ShellArgs;
use crate::commands::{Outcome, output_format};
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::summary::print_scan_summary;

pub async fn run(args: ShellArgs) -> anyhow::Result<Outcome> {
    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let options = ShellOptions {
        format: output_format(args.format),
        memory_limit_bytes: args.memory_limit.saturating_mul(1024 * 1024),
    };
    let progress = ProgressLine::start(&counters, args.quiet);
    let mut shell = Shell::start(session, counters.clone(), &options)
        .await
        .context("cannot read the trail into memory")?;
    drop(progress);
    // Only the damaged and repaired files: the records held are said below.
    print_scan_summary(shell.session(), &counters, 0, true);
    if !args.quiet {
        eprintln!("ctq: {}", shell.cache_summary());
    }
    if ctq_shell::stdin_is_terminal() {
        let history =
            ctq_shell::history_path(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"));
        shell.run_interactive(history.as_deref()).await?;
    } else {
        let input = std::io::read_to_string(std::io::stdin())
            .context("cannot read statements from standard input")?;
        shell.run_script(&input, "standard input").await?;
    }
    Ok(Outcome::after_scan(shell.session()))
}
