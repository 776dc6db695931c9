//! `ctq completions SHELL`: the shell's completion script for ctq, on standard output.

use std::io::Write;

use clap::CommandFactory;

use crate::args::Cli;

pub fn run(shell: clap_complete::Shell) -> anyhow::Result<super::Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ctq", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(super::Outcome::Clean)
}
