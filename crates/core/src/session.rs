//! The source flags, as the options of a `ctq-sql` session.

use std::sync::Arc;

use anyhow::Context;
use ctq_ingest::Progress;
use ctq_s3::{S3Options, TrailLocation};
use ctq_sql::{SessionOptions, TrailSession};
use ctq_store::StoreLocation;

use crate::args::{S3Args, SourceArgs};

pub fn s3_options(args: &S3Args) -> S3Options {
    S3Options {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        path_style: args.path_style,
        max_in_flight: args.max_in_flight,
        ..S3Options::default()
    }
    .with_timeout(std::time::Duration::from_secs(args.s3_timeout))
}

/// A session over the trail, the store, or the store on a cluster, as the flags say.
pub async fn open_session(
    source: &SourceArgs,
    progress: &Arc<Progress>,
) -> anyhow::Result<TrailSession> {
    let options = SessionOptions {
        strict: source.strict,
        max_inflated_bytes: mib_to_bytes(source.max_inflated_mib),
        extra_table_names: source.tables.clone(),
        lake_table_names: source.lake_tables.clone(),
        delivery_slack_ms: source.delivery_slack,
        s3: s3_options(&source.s3),
        progress: Some(progress.clone()),
    };
    let store = source
        .store
        .as_deref()
        .map(StoreLocation::parse)
        .transpose()?;
    Ok(match (store, &source.cluster) {
        (Some(StoreLocation::Local(store)), Some(url)) => {
            ctq_cluster::connect(url, &store, &options)
                .await
                .with_context(|| format!("cannot run on the cluster at {url}"))?
        }
        (Some(StoreLocation::S3(_)), Some(_)) => anyhow::bail!(
            "--cluster runs over a store in a folder every executor sees; copy the store there, or query it on S3 without --cluster"
        ),
        (Some(store), None) => TrailSession::open_store(store, &options).await?,
        (None, _) => {
            let sources = source
                .sources
                .iter()
                .map(|arg| TrailLocation::from_arg(arg))
                .collect::<Result<Vec<_>, _>>()?;
            TrailSession::open(&sources, &options).await?
        }
    })
}

/// `--max-inflated-mib` in bytes.
pub fn mib_to_bytes(mib: u64) -> usize {
    usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
}
