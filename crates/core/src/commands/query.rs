//! `ctq query`: SQL from the command line or a file, with bound parameters.

use anyhow::Context;

use crate::args::QueryArgs;
use crate::commands::{Outcome, run_query};
use crate::paths::check_output;

pub async fn run(args: QueryArgs) -> anyhow::Result<Outcome> {
    check_output("--output", args.output.output.as_deref(), &args.source)?;
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read query file {}", file.display()))?,
        (None, None) => anyhow::bail!("give the SQL to run, or --file with a saved query"),
    };
    run_query(&args.source, &sql, &args.params, &args.output)
        .await
        .with_context(|| match &args.file {
            Some(file) => format!("query {} failed", file.display()),
            None => "query failed".to_string(),
        })
}
