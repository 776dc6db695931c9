//! `ctq ingest`: a trail into a Parquet store, incrementally.

use anyhow::Context;
use ctq_store::{IngestOptions, ingest};

use crate::args::IngestArgs;
use crate::commands::Outcome;

pub fn run(args: IngestArgs) -> anyhow::Result<Outcome> {
    if let Some(remote) = args
        .sources
        .iter()
        .find(|s| s.to_string_lossy().starts_with("s3://"))
    {
        anyhow::bail!(
            "ctq ingest reads local trails; copy {} first (aws s3 sync {} ./trail) and ingest ./trail",
            remote.display(),
            remote.display()
        );
    }
    let options = IngestOptions {
        strict: args.strict,
        retry_damaged: args.retry_damaged,
        files_per_commit: args.files_per_commit,
        ..IngestOptions::default()
    };
    let started = std::time::Instant::now();
    let report = ingest(&args.sources, &args.store, &options)
        .with_context(|| format!("ingest into {} failed", args.store.display()))?;
    for (path, reason) in &report.damaged {
        eprintln!(
            "ctq: warning: damaged file {} recorded and skipped: {reason}",
            path.display()
        );
    }
    if !args.quiet {
        eprintln!(
            "ctq: {} source files: {} read ({} changed), {} unchanged, {} damaged | {} records written to {} files, {} duplicate deliveries dropped, {} leftover files removed | {:.2} s",
            report.sources,
            report.read,
            report.changed,
            report.unchanged,
            report.damaged.len(),
            report.records_written,
            report.files_written,
            report.duplicates_dropped,
            report.leftovers_removed,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(if report.damaged.is_empty() {
        Outcome::Clean
    } else {
        Outcome::DamagedInput
    })
}
