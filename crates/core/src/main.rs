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
        // A reader that stopped reading (`ctq ... | head`) ends the run, as it would any
        // Unix filter: quietly, and without calling it a failure.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // Errors name files, and file names come from the data: control characters in them
            // print escaped, as everywhere else; line breaks of a message stay.
            let text = error_text(&error);
            let lines: Vec<_> = text.lines().map(ctq_sql::output::printable).collect();
            eprintln!("ctq: error: {}", lines.join("\n"));
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
        || error
            .chain()
            .any(|cause| cause.downcast_ref::<sink::UnwrittenFormat>().is_some())
}

/// The error and its causes, `: `-separated, each said once: a cause whose text its parent's
/// message already holds (an error that shows its source and also returns it as `source()`) is
/// left out.
fn error_text(error: &anyhow::Error) -> String {
    let mut said: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || said.iter().any(|earlier| earlier.contains(&text)) {
            continue;
        }
        said.push(text);
    }
    said.join(": ")
}

/// Whether the run failed because standard output's reader went away: an
/// [`std::io::ErrorKind::BrokenPipe`] anywhere under the error, including under the DataFusion
/// and Arrow errors of a query, whose own `Display` may not say so.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(cause);
        while let Some(error) = next {
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            // `SqlError::DataFusion` does not return its DataFusion error as its source (the
            // message already holds it): look under it by hand.
            next = match error.downcast_ref::<ctq_sql::SqlError>() {
                Some(ctq_sql::SqlError::DataFusion(inner)) => Some(inner),
                _ => error.source(),
            };
        }
        false
    })
}
