//! `ctq-trailgen`: writes a synthetic CloudTrail trail for benchmarks, in the S3 layout and
//! gzipped as CloudTrail delivers it. The generator is the `ctq_trailgen` library.

use std::path::PathBuf;

use clap::Parser;
use ctq_trailgen::attacks::write_attacks;
use ctq_trailgen::{REGIONS, Settings, account_id, generate};

#[derive(Parser)]
#[command(about = "Write a synthetic CloudTrail trail in the S3 layout, for benchmarks")]
struct Args {
    /// Folder to write `AWSLogs/...` into.
    out: PathBuf,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 3)]
    days: i64,
    #[arg(long, default_value_t = 2)]
    accounts: usize,
    #[arg(long, default_value_t = 4)]
    regions: usize,
    /// Files delivered per hour for each account and region.
    #[arg(long, default_value_t = 12)]
    files_per_hour: i64,
    /// First day, YYYY-MM-DD.
    #[arg(long, default_value = "2019-10-28")]
    start: String,
    /// Scale of records per file (the mean comes out at about three quarters of it).
    #[arg(long, default_value_t = 175.0)]
    mean_records: f64,
    /// Share of records that are access denials.
    #[arg(long, default_value_t = 0.03)]
    denial_rate: f64,
    /// Also write the attack scenarios, into the first account and region on the first day.
    #[arg(long)]
    attacks: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let totals = generate(&Settings {
        out: args.out.clone(),
        seed: args.seed,
        days: args.days,
        accounts: args.accounts,
        regions: args.regions,
        files_per_hour: args.files_per_hour,
        start: args.start.clone(),
        mean_records: args.mean_records,
        denial_rate: args.denial_rate,
    })?;
    println!(
        "{} files, {} records, {:.1} MB JSON, {:.1} MB gzip in {}",
        totals.files,
        totals.records,
        totals.raw as f64 / 1e6,
        totals.gzip as f64 / 1e6,
        args.out.display()
    );
    if args.attacks {
        let (account, region) = (account_id(0), REGIONS[0]);
        for injected in write_attacks(&args.out, &args.start, &account, region)? {
            println!(
                "{}: {} from {} to {}, {} events, {} denied",
                injected.rule,
                injected.principal,
                injected.first_seen,
                injected.last_seen,
                injected.events,
                injected.denied
            );
        }
    }
    Ok(())
}
