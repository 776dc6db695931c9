//! `ctq`: the command-line front of the ctq libraries.
//!
//! This binary owns argument parsing, the exit status and what is printed on standard error; each
//! command parses, calls the libraries and prints. The work is in the libraries: `ctq-ingest`
//! reads trails, `ctq-s3` reaches S3, `ctq-sql` plans, runs and formats queries (canned and saved
//! ones, over typed time windows), `ctq-store` ingests into a Parquet store, `ctq-cluster` runs on
//! Ballista, `ctq-report` runs and writes reports and `ctq explain`'s output, `ctq-denial`
//! explains a denial, `ctq-fs` writes output files whole. ARCHITECTURE.md maps them.

mod args;
mod commands;
mod paths;
mod progress;
mod session;
mod sink;
mod summary;
mod window;

use std::process::ExitCode;

use clap::Parser;

/// Exit status of a command line that asks for the impossible, as clap's own usage errors.
const EXIT_USAGE: u8 = 2;
/// Exit status of a run that succeeded but skipped damaged input files.
const EXIT_DAMAGED_INPUT: u8 = 3;
/// Exit status of a report whose `--fail-on` thresholds were crossed: a human is needed.
const EXIT_NEEDS_ATTENTION: u8 = 4;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ctq: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
        Ok(commands::Outcome::Clean) => ExitCode::SUCCESS,
        Ok(commands::Outcome::DamagedInput) => ExitCode::from(EXIT_DAMAGED_INPUT),
        Ok(commands::Outcome::NeedsAttention) => ExitCode::from(EXIT_NEEDS_ATTENTION),
        Err(error) => {
            eprintln!("ctq: error: {error:#}");
            if is_usage_error(&error) {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Whether the error is in what was typed rather than in the run: a time no trail can hold, an
/// empty window, an output that would overwrite or land among the input.
fn is_usage_error(error: &anyhow::Error) -> bool {
    window::is_usage_error(error)
        || error
            .chain()
            .any(|cause| cause.downcast_ref::<paths::OutputOverlapsInput>().is_some())
}
