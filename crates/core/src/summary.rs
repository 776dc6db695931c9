//! What a scan read, on standard error.

use ctq_report::plural;
use ctq_s3::S3Stats;
use ctq_sql::TrailSession;
use ctq_sql::output::printable;

use crate::progress::human_bytes;

/// Names every damaged file and every file read with characters replaced; unless `quiet`, then
/// says how many rows came of how many files (or of the store), what S3 was asked for, and that
/// damaged files are left out of the results.
pub fn print_scan_summary(session: &TrailSession, rows: usize, quiet: bool) {
    let outcomes = session.file_outcomes();
    // Its records are in the results, so it does not change the exit status.
    for (path, repaired) in outcomes.repaired() {
        eprintln!(
            "ctq: warning: file {}: {repaired}; its records were read",
            printable(&path.display().to_string())
        );
    }
    let damaged: Vec<_> = outcomes.damaged().collect();
    for (path, reason) in &damaged {
        // A file's name and the reason it could not be read are not ours: escape what would
        // drive the terminal.
        eprintln!(
            "ctq: warning: skipped damaged file {}: {}",
            printable(&path.display().to_string()),
            printable(&reason.to_string())
        );
    }
    if quiet {
        return;
    }
    let rows = plural(rows as u64, "row", "rows");
    if let Some(store) = session.store() {
        eprintln!("ctq: {rows} | from the store {store}");
    } else {
        let skipped = outcomes.skipped().count();
        eprintln!(
            "ctq: {rows} | {} read, {} records decoded, {skipped} skipped (not events), {} damaged",
            plural(outcomes.files_read() as u64, "file", "files"),
            outcomes.records(),
            damaged.len(),
        );
        for trail in session.s3_trails() {
            let stats = &trail.stats;
            eprintln!(
                "ctq: {}: {} LIST and {} GET requests, {} retried, {} lost, {} fetched",
                trail.location(),
                S3Stats::get(&stats.list_requests),
                S3Stats::get(&stats.get_requests),
                S3Stats::get(&stats.retries),
                plural(S3Stats::get(&stats.objects_lost), "object", "objects"),
                human_bytes(S3Stats::get(&stats.bytes_fetched)),
            );
        }
    }
    if !damaged.is_empty() {
        eprintln!(
            "ctq: results exclude the damaged files above (exit status 3); --strict makes them an error"
        );
    }
}
