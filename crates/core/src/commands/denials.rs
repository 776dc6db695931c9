//! `ctq denials`: the knowledge-center access-denied query as a command.

use anyhow::Context;
use ctq_sql::canned::{denials_sql, resolve_time};

use crate::args::DenialsArgs;
use crate::commands::{Outcome, run_query};

pub async fn run(args: DenialsArgs) -> anyhow::Result<Outcome> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut params = Vec::new();
    if let Some(arn) = &args.arn {
        params.push(("arn".to_string(), arn.clone()));
    }
    if let Some(from) = &args.from {
        params.push((
            "from".to_string(),
            resolve_time(from, now).context("--from")?,
        ));
    }
    if let Some(to) = &args.to {
        params.push(("to".to_string(), resolve_time(to, now).context("--to")?));
    }
    let sql = denials_sql(args.arn.is_some(), args.from.is_some(), args.to.is_some());
    run_query(&args.source, &sql, &params, &args.output)
        .await
        .context("denials query failed")
}
