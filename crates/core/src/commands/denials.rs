//! `ctq denials`: the knowledge-center access-denied query as a command.

use anyhow::Context;
use ctq_sql::canned::denials_sql;

use crate::args::DenialsArgs;
use crate::commands::{Outcome, resolve_window, run_query};

pub async fn run(args: DenialsArgs) -> anyhow::Result<Outcome> {
    let (from, to) = resolve_window(&args.window)?;
    let mut params = Vec::new();
    for (name, value) in [("arn", &args.arn), ("from", &from), ("to", &to)] {
        if let Some(value) = value {
            params.push((name.to_string(), value.clone()));
        }
    }
    let sql = denials_sql(args.arn.is_some(), from.is_some(), to.is_some());
    run_query(&args.source, &sql, &params, &args.output)
        .await
        .context("denials query failed")
}
