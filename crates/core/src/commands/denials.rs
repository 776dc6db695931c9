//! `ctq denials`: the knowledge-center access-denied query as a command.

use std::sync::Arc;

use anyhow::Context;
use ctq_ingest::Progress;
use ctq_sql::{Instant, SqlError};
use futures::StreamExt;

use crate::args::DenialsArgs;
use crate::commands::{Outcome, write_rows};
use crate::paths::check_output;
use crate::progress::ProgressLine;
use crate::session::open_session;
use crate::summary::{explain_no_rows, print_scan_summary};
use crate::window::{denial_filter, open_window};

pub async fn run(args: DenialsArgs) -> anyhow::Result<Outcome> {
    check_output("--output", args.output.output.as_deref(), &args.source)?;
    let (from, to) = open_window(&args.window, Instant::now())?;
    let filter = denial_filter(&args.scope, from, to);
    let (sql, params) = filter.denials_query();

    let counters = Arc::new(Progress::default());
    let session = open_session(&args.source, &counters).await?;
    let progress = ProgressLine::start(&counters, args.output.quiet);
    let rows = async {
        let (columns, stream) = session.query_stream(&sql, &params).await?;
        write_rows(
            &args.output,
            columns,
            stream.map(|b| b.map_err(SqlError::from)),
        )
        .await
    }
    .await
    .context("denials query failed")?;
    drop(progress);
    print_scan_summary(&session, &counters, rows, args.output.quiet);
    if rows == 0 {
        explain_no_rows(&session, &counters, &filter, &args.source).await;
    }
    Ok(Outcome::after_scan(&session))
}
