//! ctq's SQL on an Apache DataFusion Ballista cluster.
//!
//! This crate owns what a cluster needs to run ctq's queries: one session state with ctq's SQL
//! functions that the client, the scheduler and every executor share ([`ctq_state`]), entry points
//! that embed Ballista's scheduler and executor with those functions registered
//! ([`run_scheduler`], [`run_executor`]), and sessions over a store on a cluster ([`connect`]) or
//! on Ballista's in-process standalone cluster ([`standalone`]).
//!
//! It reads stores written by `ctq-store` (Parquet on a path every executor sees), not raw
//! trails: the raw scan is a local operation. Query planning and parameters stay in `ctq-sql`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use ctq_sql::{SessionOptions, SqlError, TrailSession};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Errors from starting or reaching a cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error("{0}")]
    DataFusion(#[from] datafusion::common::DataFusionError),
    #[error("Ballista: {0}; check the scheduler's address and that it runs the same ctq version")]
    Ballista(#[from] ballista_core::error::BallistaError),
}

/// A session state with ctq's SQL functions over `config`.
fn state_with_functions(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    ctq_sql::functions::register(&mut state)?;
    Ok(state)
}

/// Ballista's session configuration with ctq's catalog names and SQL functions.
pub fn ctq_state() -> Result<SessionState, ClusterError> {
    let config = SessionConfig::new_with_ballista()
        .with_information_schema(true)
        .with_default_catalog_and_schema("awsdatacatalog", "default");
    Ok(state_with_functions(config)?)
}

/// A session whose queries run on the cluster whose scheduler is at `url` (`df://host:port`),
/// over the store at `store`, a path every executor sees.
pub async fn connect(
    url: &str,
    store: &Path,
    options: &SessionOptions,
) -> Result<TrailSession, ClusterError> {
    let ctx = SessionContext::remote_with_state(url, ctq_state()?).await?;
    Ok(TrailSession::on_context(ctx, store, options)?)
}

/// A session on Ballista's standalone cluster: a scheduler and an executor in this process.
pub async fn standalone(
    store: &Path,
    options: &SessionOptions,
) -> Result<TrailSession, ClusterError> {
    let ctx = SessionContext::standalone_with_state(ctq_state()?).await?;
    Ok(TrailSession::on_context(ctx, store, options)?)
}

/// Runs a Ballista scheduler on `bind` whose sessions know ctq's functions, until it fails.
pub async fn run_scheduler(bind: SocketAddr) -> Result<(), ClusterError> {
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        override_session_builder: Some(Arc::new(state_with_functions)),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, bind, Arc::new(config)).await?;
    Ok(())
}

/// Where an executor listens and which scheduler it serves.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler_host: String,
    pub scheduler_port: u16,
    pub bind_host: String,
    /// Arrow Flight port, for shuffle data.
    pub port: u16,
    /// gRPC port, for tasks from the scheduler.
    pub grpc_port: u16,
}

/// Runs a Ballista executor that can execute ctq's functions, until it fails.
pub async fn run_executor(options: ExecutorOptions) -> Result<(), ClusterError> {
    let registry = BallistaFunctionRegistry::from(&ctq_state()?);
    let config = ExecutorProcessConfig {
        scheduler_host: options.scheduler_host,
        scheduler_port: options.scheduler_port,
        bind_host: options.bind_host,
        port: options.port,
        grpc_port: options.grpc_port,
        override_function_registry: Some(Arc::new(registry)),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
