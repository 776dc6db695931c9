//! Decodes every file under a folder and reports the rate: the reader alone, without SQL.
//! `cargo run --release -p ctq-ingest --example scan_throughput -- DIR`

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ctq_ingest::{Pruning, ScanOptions, discover, scan_files};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: scan_throughput DIR");
    let started = Instant::now();
    let discovery = discover(&[dir.into()], &Pruning::default()).expect("the folder can be walked");
    let listed = started.elapsed();
    let rows = AtomicU64::new(0);
    // CTQ_COLUMNS=eventtime,useridentity,... reads only those columns, as a query reading them would.
    let mut options = ScanOptions::default();
    if let Ok(names) = std::env::var("CTQ_COLUMNS") {
        options.columns = names.split(',').fold(
            ctq_ingest::ColumnSet::NONE,
            ctq_ingest::ColumnSet::with_name,
        );
    }
    let report = scan_files(&discovery.files, &options, &|batch| {
        rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        true
    })
    .expect("scan");
    let elapsed = started.elapsed();
    println!(
        "{} files, {} rows in {:.2} s (walk {:.3} s), {} damaged; {:.0} rows/s",
        report.files_read(),
        rows.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        listed.as_secs_f64(),
        report.damaged().count(),
        rows.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
    );
}
