//! Where a command's results go: standard output, or a file written whole or not at all.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;

/// Where results go. A file is written under a temporary name and renamed when complete, so a
/// failed run never leaves a partial result behind under the name asked for.
pub enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        writer: BufWriter<File>,
        partial: PathBuf,
        destination: PathBuf,
    },
}

impl Sink {
    pub fn open(destination: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(destination) = destination else {
            return Ok(Sink::Stdout(BufWriter::new(std::io::stdout())));
        };
        let mut partial = destination.clone().into_os_string();
        partial.push(format!(".partial-{}", std::process::id()));
        let partial = PathBuf::from(partial);
        let file = File::create(&partial)
            .with_context(|| format!("cannot create output file {}", destination.display()))?;
        Ok(Sink::File {
            writer: BufWriter::new(file),
            partial,
            destination: destination.clone(),
        })
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::File { writer, .. } => writer,
        }
    }

    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::File {
                writer,
                partial,
                destination,
            } => {
                let file = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| {
                        format!("cannot write output file {}", destination.display())
                    })?;
                file.sync_all()?;
                std::fs::rename(&partial, &destination)
                    .with_context(|| format!("cannot write output file {}", destination.display()))
            }
        }
    }

    pub fn discard(self) {
        match self {
            Sink::Stdout(mut w) => {
                let _ = w.flush();
            }
            Sink::File { partial, .. } => {
                let _ = std::fs::remove_file(partial);
            }
        }
    }
}
