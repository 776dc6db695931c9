//! A one-line progress display on standard error, for runs watched from a terminal, and the byte
//! counts it and the summaries show.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ctq_ingest::Progress;

/// Redraws the line a few times a second until dropped, then erases it. Does nothing when
/// standard error is not a terminal (cron, pipes, files) or when asked to be quiet.
pub struct ProgressLine {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ProgressLine {
    pub fn start(progress: &Arc<Progress>, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self { task: None };
        }
        let progress = progress.clone();
        let started = Instant::now();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let done = progress.files_done.load(Ordering::Relaxed);
                let total = progress.files_total.load(Ordering::Relaxed);
                let bytes = progress.bytes_done.load(Ordering::Relaxed);
                let rate = bytes as f64 / started.elapsed().as_secs_f64().max(0.001);
                let seconds = started.elapsed().as_secs();
                // Before any file is known (listing S3, or reading a store, which counts no
                // files), the ticking seconds tell a slow wait from a hang.
                let _ = if total == 0 {
                    write!(std::io::stderr(), "\r\x1b[2Kreading  {seconds} s")
                } else {
                    write!(
                        std::io::stderr(),
                        "\r\x1b[2K{done}/{total} files  {}  {}/s  {seconds} s",
                        human_bytes(bytes),
                        human_bytes(rate as u64)
                    )
                };
            }
        });
        Self { task: Some(task) }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// A byte count for people: `950 B`, `1.2 MB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
