//! Writing the report folder so that a crash never leaves half a report under its name.

use std::path::{Path, PathBuf};

use crate::ReportError;

/// The files every report folder has; a folder holding them is one a previous run wrote.
const REPORT_MARKERS: [&str; 2] = ["report.html", "summary.json"];

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io {
        action,
        path,
        source,
    }
}

/// Writes `files` (name, content) as the folder `out`, replacing the report a previous run left
/// there. The files are written into a hidden folder next to `out`, flushed to disk, and the
/// folder renamed into place: readers see the old report or the new one, whole. A folder of
/// anything else is refused rather than replaced.
pub fn write_report_dir(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), ReportError> {
    let name = out
        .file_name()
        .ok_or_else(|| ReportError::Io {
            action: "write the report into",
            path: out.to_path_buf(),
            source: std::io::Error::other("--out must name a folder, such as reports/nightly"),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;
    refuse_foreign(out)?;
    remove_stale_staging(&parent, &name);

    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let written = (|| -> Result<(), ReportError> {
        std::fs::create_dir(&staging).map_err(io_error("create", &staging))?;
        for (file_name, bytes) in files {
            let path = staging.join(file_name);
            std::fs::write(&path, bytes)
                .and_then(|()| std::fs::File::open(&path)?.sync_all())
                .map_err(io_error("write", &path))?;
        }
        sync_dir(&staging)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }

    let previous = parent.join(format!(".{name}.previous-{}", std::process::id()));
    let had_previous = out.exists();
    if had_previous {
        std::fs::rename(out, &previous).map_err(io_error("move aside", out))?;
    }
    if let Err(e) = std::fs::rename(&staging, out) {
        if had_previous {
            let _ = std::fs::rename(&previous, out);
        }
        return Err(io_error("rename into place", out)(e));
    }
    sync_dir(&parent)?;
    if had_previous {
        let _ = std::fs::remove_dir_all(&previous);
    }
    Ok(())
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

/// Hidden folders of earlier runs that died before renaming theirs into place.
fn remove_stale_staging(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let partial = format!(".{name}.partial-");
    let previous = format!(".{name}.previous-");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(&partial) || file_name.starts_with(&previous) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync", dir))
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
        assert!(error.to_string().contains("not a ctq report"), "{error}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(),
            "precious"
        );
    }
}
