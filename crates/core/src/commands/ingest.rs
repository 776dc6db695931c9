//! `ctq ingest`: a trail into a Parquet store, incrementally.

use anyhow::Context;
use ctq_s3::{S3Trail, TrailLocation};
use ctq_sql::output::printable;
use ctq_store::{
    DataFileCheck, IngestOptions, IngestSummary, RebuildSummary, Store, StoreLocation, ingest,
    ingest_s3, rebuild_manifest,
};

use crate::args::IngestArgs;
use crate::commands::Outcome;
use crate::session::{mib_to_bytes, s3_options};

pub async fn run(args: IngestArgs) -> anyhow::Result<Outcome> {
    let options = IngestOptions {
        strict: args.strict,
        retry_damaged: args.retry_damaged,
        files_per_commit: args.files_per_commit,
        bytes_per_commit: mib_to_bytes(args.mib_per_commit) as u64,
        check: if args.verify {
            DataFileCheck::Footers
        } else {
            DataFileCheck::Listing
        },
        force: args.force,
        max_inflated_bytes: mib_to_bytes(args.max_inflated_mib),
        ..IngestOptions::default()
    };
    let started = std::time::Instant::now();
    let mut local = Vec::new();
    let mut remote = Vec::new();
    for arg in &args.sources {
        match TrailLocation::from_arg(arg)? {
            TrailLocation::Local(path) => local.push(path),
            TrailLocation::S3(location) => remote.push(location),
        }
    }
    let store = match StoreLocation::parse(&args.store)? {
        StoreLocation::Local(path) => Store::Local(path),
        StoreLocation::S3(location) => Store::S3 {
            bucket: Box::new(S3Trail::connect(location, s3_options(&args.s3)).await?),
            runtime: tokio::runtime::Handle::current(),
        },
    };
    if args.rebuild_manifest {
        let rebuilt = {
            let (store, force) = (store.clone(), args.force);
            tokio::task::spawn_blocking(move || rebuild_manifest(&store, force)).await?
        }
        .with_context(|| format!("rebuilding the manifest of {} failed", args.store))?;
        print_rebuild(&rebuilt, args.quiet);
        if args.sources.is_empty() {
            return Ok(Outcome::Clean);
        }
    }
    let report: IngestSummary = match remote.as_slice() {
        [] => tokio::task::spawn_blocking(move || ingest(&local, store, &options)).await?,
        [location] if local.is_empty() => {
            let trail = S3Trail::connect(location.clone(), s3_options(&args.s3)).await?;
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || ingest_s3(&trail, &runtime, store, &options))
                .await?
        }
        _ => anyhow::bail!(
            "ctq ingest takes local paths or one s3:// location, not a mix; run it once per S3 location"
        ),
    }
    .with_context(|| format!("ingest into {} failed", args.store))?;
    for (path, reason) in &report.damaged {
        eprintln!(
            "ctq: warning: damaged file {} recorded and skipped: {}",
            printable(&path.display().to_string()),
            printable(reason)
        );
    }
    for (path, repairs) in &report.repaired_text {
        eprintln!(
            "ctq: warning: file {}: {repairs}; its records were stored",
            printable(&path.display().to_string())
        );
    }
    for fault in &report.repaired {
        eprintln!(
            "ctq: repaired data file {}: it was {}; its sources were read again",
            printable(&fault.name),
            fault.problem
        );
    }
    if report.unrecoverable_sources > 0 {
        eprintln!(
            "ctq: warning: the rows of {} source files no longer in the trail were in repaired data files and are gone (--force)",
            report.unrecoverable_sources
        );
    }
    if !args.quiet {
        eprintln!(
            "ctq: {} source files: {} read ({} changed), {} unchanged, {} damaged | {} records written to {} files, {} duplicate deliveries dropped, {} leftover files removed, {} data files repaired | {:.2} s",
            report.sources,
            report.read,
            report.changed,
            report.unchanged,
            report.damaged.len(),
            report.records_written,
            report.files_written,
            report.duplicates_dropped,
            report.leftovers_removed,
            report.repaired.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(if report.damaged.is_empty() {
        Outcome::Clean
    } else {
        Outcome::DamagedInput
    })
}

fn print_rebuild(rebuilt: &RebuildSummary, quiet: bool) {
    for name in &rebuilt.superseded {
        eprintln!(
            "ctq: data file {} holds events a newer one holds too: left out, and removed by the next ingest",
            printable(name)
        );
    }
    for (path, reason) in &rebuilt.damaged {
        eprintln!(
            "ctq: warning: data file {} is not readable Parquet ({}): left out, and removed by the next ingest (--force)",
            printable(&path.display().to_string()),
            printable(reason)
        );
    }
    if rebuilt.files_without_origin > 0 {
        eprintln!(
            "ctq: {} data files do not name their sources (written by an older ctq): the next ingest reads the trail's files again and keeps each event once",
            rebuilt.files_without_origin
        );
    }
    if !quiet {
        eprintln!(
            "ctq: manifest rebuilt: {} data files, {} rows, {} source files known",
            rebuilt.files, rebuilt.rows, rebuilt.sources
        );
    }
}
