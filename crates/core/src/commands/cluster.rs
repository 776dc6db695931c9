//! `ctq cluster scheduler|executor`: Ballista's processes with ctq's SQL functions.

use anyhow::Context;
use ctq_cluster::{ExecutorOptions, run_executor, run_scheduler};

use crate::args::ClusterCommand;
use crate::commands::Outcome;

pub async fn run(command: ClusterCommand) -> anyhow::Result<Outcome> {
    match command {
        ClusterCommand::Scheduler { bind } => {
            eprintln!("ctq: Ballista scheduler on {bind}");
            run_scheduler(bind)
                .await
                .with_context(|| format!("the scheduler on {bind} stopped"))?;
        }
        ClusterCommand::Executor {
            scheduler,
            bind_host,
            port,
            grpc_port,
        } => {
            let (host, scheduler_port) = scheduler
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_string(), p.parse().ok()?)))
                .with_context(|| format!("--scheduler {scheduler:?}: expected HOST:PORT"))?;
            eprintln!("ctq: Ballista executor on {bind_host}:{port}, scheduler {scheduler}");
            run_executor(ExecutorOptions {
                scheduler_host: host,
                scheduler_port,
                bind_host,
                port,
                grpc_port,
            })
            .await
            .context("the executor stopped")?;
        }
    }
    Ok(Outcome::Clean)
}
