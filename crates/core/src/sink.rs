//! Where a command's results go: standard output, or a file written whole or not at all.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use ctq_fs::AtomicFile;

/// Where results go. A file is written to a hidden temporary next to it (`.NAME.ctq-partial-PID`)
/// and renamed when complete (see [`ctq_fs`]), so a failed run never leaves a partial result
/// behind under the name asked for, and the temporary of a killed run is removed by the next run
/// writing the same file.
pub enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File(AtomicFile),
}

impl Sink {
    pub fn open(destination: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(destination) = destination else {
            return Ok(Sink::Stdout(BufWriter::new(std::io::stdout())));
        };
        let file = AtomicFile::create(destination)
            .map_err(|e| e.source)
            .with_context(|| format!("cannot create output file {}", destination.display()))?;
        Ok(Sink::File(file))
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::File(file) => file,
        }
    }

    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::File(file) => {
                let destination = file.destination().to_path_buf();
                file.commit()
                    .map_err(|e| e.source)
                    .with_context(|| format!("cannot write output file {}", destination.display()))
            }
        }
    }

    pub fn discard(self) {
        match self {
            Sink::Stdout(mut w) => {
                let _ = w.flush();
            }
            Sink::File(file) => file.discard(),
        }
    }
}
