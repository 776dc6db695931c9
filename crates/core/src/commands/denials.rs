//! `ctq denials`: the knowledge-center access-denied query as a command.

use anyhow::Context;
use ctq_sql::Instant;
use ctq_sql::canned::DenialFilter;

use crate::args::DenialsArgs;
use crate::commands::{Outcome, run_query};
use crate::paths::check_output;
use crate::window::open_window;

pub async fn run(args: DenialsArgs) -> anyhow::Result<Outcome> {
    check_output("--output", args.output.output.as_deref(), &args.source)?;
    let (from, to) = open_window(&args.window, Instant::now())?;
    let filter = DenialFilter {
        principal: args.arn.clone(),
        from,
        to,
    };
    let (sql, params) = filter.denials_query();
    run_query(&args.source, &sql, &params, &args.output)
        .await
        .context("denials query failed")
}
