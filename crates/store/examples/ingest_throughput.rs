//! Ingests a trail into a fresh store and reports the rate and the store's size against the
//! trail's: `cargo run --release -p ctq-store --example ingest_throughput -- TRAIL STORE [FILES_PER_COMMIT]`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ctq_store::{IngestOptions, ingest};

fn size_of(dir: &Path, extension: &str) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().to_string_lossy().ends_with(extension))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

fn main() {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let (Some(trail), Some(store)) = (args.next(), args.next()) else {
        eprintln!("usage: ingest_throughput TRAIL STORE [FILES_PER_COMMIT]");
        std::process::exit(2);
    };
    let mut options = IngestOptions::default();
    if let Some(n) = args.next().and_then(|n| n.to_str()?.parse().ok()) {
        options.files_per_commit = n;
    }
    let started = Instant::now();
    let report = ingest(std::slice::from_ref(&trail), &store, &options).expect("ingest");
    let seconds = started.elapsed().as_secs_f64();
    let gzip = size_of(&trail, ".json.gz");
    let parquet = size_of(&store, ".parquet");
    println!(
        "{} files, {} records in {seconds:.2} s: {:.0} records/s, {:.1} MB/s of gzip; store {:.1} MB in {} files = {:.0}% of {:.1} MB gzip",
        report.sources,
        report.records_written,
        report.records_written as f64 / seconds,
        gzip as f64 / 1e6 / seconds,
        parquet as f64 / 1e6,
        report.files_written,
        100.0 * parquet as f64 / gzip as f64,
        gzip as f64 / 1e6,
    );
}
