//! Gives `ctq --version` the commit it was built from and the build date, when known:
//! `CTQ_VERSION` is `VERSION (COMMIT DATE)`, or `VERSION (DATE)` outside a git checkout or
//! without git.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    // Without these, cargo would run this again on any change in the crate; the commit moves only
    // with HEAD or the branch it points to.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let git_dir = Path::new("../../.git");
    if git_dir.is_dir() {
        println!("cargo:rerun-if-changed=../../.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
            && let Some(reference) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed=../../.git/{reference}");
            println!("cargo:rerun-if-changed=../../.git/packed-refs");
        }
    }
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let known: Vec<String> = [commit(), Some(build_date())]
        .into_iter()
        .flatten()
        .collect();
    println!(
        "cargo:rustc-env=CTQ_VERSION={version} ({})",
        known.join(" ")
    );
}

/// The short hash of HEAD, when this is a git checkout and git is installed.
fn commit() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    let hash = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !hash.is_empty()).then_some(hash)
}

/// The day of `SOURCE_DATE_EPOCH` (reproducible builds), else of now, as YYYY-MM-DD in UTC.
fn build_date() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
