//! Writing the report folder so that a crash never leaves half a report under its name: which
//! folder may be replaced is decided here, the replacing is `ctq_fs`'s.

use std::path::{Path, PathBuf};

use ctq_fs::io_error;

use crate::ReportError;

/// The files every report folder has; a folder holding them is one a previous run wrote.
const REPORT_MARKERS: [&str; 2] = ["report.html", "summary.json"];

impl From<ctq_fs::FsError> for ReportError {
    fn from(e: ctq_fs::FsError) -> Self {
        ReportError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}

/// Writes `files` (name, content) as the folder `out`, replacing the report a previous run left
/// there. The folder is published whole ([`ctq_fs::write_dir`]): readers see the old report or
/// the new one, and the hidden folders of a run that died are removed by the next. A folder of
/// anything else is refused rather than replaced.
pub fn write_report_dir(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), ReportError> {
    if out.file_name().is_none() {
        return Err(ReportError::Io {
            action: "write the report into",
            path: out.to_path_buf(),
            source: std::io::Error::other("--out must name a folder, such as reports/nightly"),
        });
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;
    refuse_foreign(out)?;
    Ok(ctq_fs::write_dir(
        out,
        files.iter().map(|(name, bytes)| (name, bytes)),
    )?)
}

/// `out` may be missing, empty, or a report; anything else is someone's folder.
fn refuse_foreign(out: &Path) -> Result<(), ReportError> {
    if !out.exists() {
        return Ok(());
    }
    let foreign = |why: &str| ReportError::Io {
        action: "replace",
        path: out.to_path_buf(),
        source: std::io::Error::other(format!(
            "{why}; give --out a new folder, or one a previous report wrote"
        )),
    };
    if !out.is_dir() {
        return Err(foreign("it is a file"));
    }
    let mut entries = std::fs::read_dir(out).map_err(io_error("read", out))?;
    let empty = entries.next().is_none();
    let is_report = REPORT_MARKERS.iter().all(|m| out.join(m).is_file());
    if empty || is_report {
        Ok(())
    } else {
        Err(foreign("it holds files that are not a ctq report"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(text: &str) -> Vec<(String, Vec<u8>)> {
        ["report.html", "summary.json", "q.csv"]
            .iter()
            .map(|n| (n.to_string(), format!("{n} {text}").into_bytes()))
            .collect()
    }

    #[test]
    fn a_report_replaces_the_previous_one_whole_and_leaves_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nightly");
        write_report_dir(&out, &files("one")).unwrap();
        // A run that died after staging its files left this behind.
        std::fs::create_dir(dir.path().join(".nightly.partial-1")).unwrap();
        write_report_dir(&out, &files("two")).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("q.csv")).unwrap(),
            "q.csv two"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["nightly"]);
    }

    #[test]
    fn a_folder_of_other_files_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "precious").unwrap();
        let error = write_report_dir(dir.path(), &files("x")).unwrap_err();
        let reason = std::error::Error::source(&error).unwrap().to_string();
        assert!(reason.contains("not a ctq report"), "{error}: {reason}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(),
            "precious"
        );
    }
}
