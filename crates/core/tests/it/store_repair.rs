//! A store that lost a data file or its manifest: queries name what is missing instead of
//! counting short, ingest reads the sources again, `--verify` finds what a listing cannot, and a
//! lost manifest is rebuilt from the data files instead of the archive being deleted.

use std::path::{Path, PathBuf};

use crate::support::*;

const COUNT: &str = "SELECT count(*) AS n FROM cloudtrail";

/// A copy of the sample trail and a store of it, in a temporary folder.
struct Stored {
    _dir: tempfile::TempDir,
    trail: PathBuf,
    store: PathBuf,
}

impl Stored {
    fn new() -> Stored {
        let dir = tempfile::tempdir().unwrap();
        let trail = dir.path().join("trail");
        ctq_testkit::copy_tree(&ctq_testkit::sample_logs(), &trail, |_| false);
        let stored = Stored {
            store: dir.path().join("store"),
            trail,
            _dir: dir,
        };
        let first = stored.ingest(&[]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
        stored
    }

    fn store(&self) -> &str {
        self.store.to_str().unwrap()
    }

    fn ingest(&self, flags: &[&str]) -> std::process::Output {
        let mut args = vec!["ingest", "-s", self.trail.to_str().unwrap()];
        args.extend(["--store", self.store()]);
        args.extend_from_slice(flags);
        ctq(&args)
    }

    /// `count(*)` over the store, with the exit status and standard error.
    fn count(&self, flags: &[&str]) -> (Option<i32>, Option<u64>, String) {
        let mut args = vec![
            "query",
            "--format",
            "csv",
            "-q",
            COUNT,
            "--store",
            self.store(),
        ];
        args.extend_from_slice(flags);
        let output = ctq(&args);
        let n = stdout(&output).lines().nth(1).and_then(|n| n.parse().ok());
        (output.status.code(), n, stderr(&output))
    }

    /// The store's data files, relative to it, with the rows the manifest gives each.
    fn data_files(&self) -> Vec<(String, u64)> {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.store.join("_ctq/manifest.json")).unwrap())
                .unwrap();
        manifest["files"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, file)| (name.clone(), file["rows"].as_u64().unwrap()))
            .collect()
    }

    /// The sources whose rows the data file `name` holds, by the manifest.
    fn sources_of(&self, name: &str) -> Vec<PathBuf> {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.store.join("_ctq/manifest.json")).unwrap())
                .unwrap();
        manifest["files"][name]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| PathBuf::from(s.as_str().unwrap()))
            .collect()
    }
}

fn total(stored: &Stored) -> u64 {
    let (code, n, err) = stored.count(&[]);
    assert_eq!(code, Some(0), "{err}");
    n.unwrap()
}

/// The data file holding the most rows, and its rows.
fn biggest(stored: &Stored) -> (String, u64) {
    stored
        .data_files()
        .into_iter()
        .max_by_key(|(_, rows)| *rows)
        .unwrap()
}

#[test]
fn a_missing_data_file_is_named_by_queries_and_ingest_reads_its_sources_again() {
    let stored = Stored::new();
    let all = total(&stored);
    let (name, rows) = biggest(&stored);
    std::fs::remove_file(stored.store.join(&name)).unwrap();

    // Rows marked incomplete: the file named, exit 3, never a silent short count.
    let (code, n, err) = stored.count(&[]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(n, Some(all - rows));
    assert!(err.contains(&name) && err.contains("missing"), "{err}");
    assert!(
        err.contains("ctq ingest --store"),
        "says how to repair: {err}"
    );
    // Strict: an error naming it.
    let (code, _, err) = stored.count(&["--strict"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("missing or damaged") && err.contains(&name),
        "{err}"
    );

    let repair = stored.ingest(&[]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    assert!(
        stderr(&repair).contains("repaired data file") && stderr(&repair).contains(&name),
        "{}",
        stderr(&repair)
    );
    assert_eq!(total(&stored), all, "every row back, none twice");
    // Repaired for good: the next run has nothing to do.
    let again = stored.ingest(&[]);
    assert!(stderr(&again).contains(" 0 read"), "{}", stderr(&again));
}

#[test]
fn a_truncated_data_file_is_named_and_replaced_and_verify_finds_one_of_its_size() {
    let stored = Stored::new();
    let all = total(&stored);
    let (name, rows) = biggest(&stored);
    let path = stored.store.join(&name);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (code, n, err) = stored.count(&[]);
    assert_eq!((code, n), (Some(3), Some(all - rows)), "{err}");
    assert!(
        err.contains(&name) && err.contains("bytes, written as"),
        "{err}"
    );
    assert_eq!(stored.ingest(&[]).status.code(), Some(0));
    assert_eq!(total(&stored), all);

    // Garbage of the same size: a listing cannot tell, reading the footer can.
    let (name, _) = biggest(&stored);
    let path = stored.store.join(&name);
    let size = std::fs::metadata(&path).unwrap().len();
    std::fs::write(&path, vec![b'x'; usize::try_from(size).unwrap()]).unwrap();
    let plain = stored.ingest(&[]);
    assert!(
        !stderr(&plain).contains("repaired data file"),
        "{}",
        stderr(&plain)
    );
    let verified = stored.ingest(&["--verify"]);
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    assert!(
        stderr(&verified).contains(&name) && stderr(&verified).contains("not readable Parquet"),
        "{}",
        stderr(&verified)
    );
    assert_eq!(total(&stored), all);
}

#[test]
fn a_data_file_no_manifest_lists_is_not_read_by_queries() {
    let stored = Stored::new();
    let all = total(&stored);
    // As a run killed after publishing a file and before its commit leaves it: a copy of a
    // listed file under the name of the next run's.
    let (name, _) = biggest(&stored);
    let (dir, _) = name.rsplit_once('/').unwrap();
    std::fs::copy(
        stored.store.join(&name),
        stored.store.join(dir).join("part-999999-00001.parquet"),
    )
    .unwrap();
    assert_eq!(total(&stored), all, "its rows are not counted twice");
    let rerun = stored.ingest(&[]);
    assert!(
        stderr(&rerun).contains("1 leftover files removed"),
        "{}",
        stderr(&rerun)
    );
}

#[test]
fn a_lost_manifest_does_not_delete_the_archive_and_is_rebuilt_from_the_data_files() {
    let stored = Stored::new();
    let all = total(&stored);
    let files_before = stored.data_files().len();
    let manifest = stored.store.join("_ctq/manifest.json");
    let kept = std::fs::read(&manifest).unwrap();
    // The trail's files aged out; only the store has their rows.
    std::fs::remove_file(&manifest).unwrap();
    std::fs::remove_dir_all(&stored.trail).unwrap();
    std::fs::create_dir(&stored.trail).unwrap();

    let refused = stored.ingest(&[]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("no manifest") && err.contains("--rebuild-manifest"),
        "{err}"
    );
    assert_eq!(
        parquet_files(&stored.store).len(),
        files_before,
        "nothing removed"
    );
    let (code, _, err) = stored.count(&[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--rebuild-manifest"),
        "a query says so too: {err}"
    );

    let rebuilt = ctq(&["ingest", "--store", stored.store(), "--rebuild-manifest"]);
    assert_eq!(rebuilt.status.code(), Some(0), "{}", stderr(&rebuilt));
    assert!(
        stderr(&rebuilt).contains(&format!("{files_before} data files")),
        "{}",
        stderr(&rebuilt)
    );
    assert_eq!(total(&stored), all);
    // The rebuilt manifest knows what the lost one knew of the data files.
    let old: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    let new: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(old["files"], new["files"]);
    let ingested = |m: &serde_json::Value| -> Vec<String> {
        m["sources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, e)| e["status"] == "ingested")
            .map(|(k, _)| k.clone())
            .collect()
    };
    assert_eq!(ingested(&old), ingested(&new));
    let after = stored.ingest(&[]);
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert_eq!(total(&stored), all);
}

#[test]
fn data_files_the_store_cannot_account_for_are_removed_only_under_force() {
    let stored = Stored::new();
    let all = total(&stored);
    // A data file of an earlier run, not listed and not retiring: as a manifest restored from an
    // older copy leaves one.
    let (name, _) = biggest(&stored);
    let (dir, _) = name.rsplit_once('/').unwrap();
    let stray = stored.store.join(dir).join("part-000000-00009.parquet");
    std::fs::copy(stored.store.join(&name), &stray).unwrap();
    let refused = stored.ingest(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("does not list") && stderr(&refused).contains("--force"),
        "{}",
        stderr(&refused)
    );
    assert!(stray.exists());
    let forced = stored.ingest(&["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(!stray.exists());
    assert_eq!(total(&stored), all);
}

#[test]
fn a_lost_data_file_whose_sources_aged_out_is_dropped_only_under_force() {
    let stored = Stored::new();
    let all = total(&stored);
    let (name, rows) = biggest(&stored);
    for source in stored.sources_of(&name) {
        std::fs::remove_file(source).unwrap();
    }
    std::fs::remove_file(stored.store.join(&name)).unwrap();
    let refused = stored.ingest(&[]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("no longer in the trail") && err.contains("--force"),
        "{err}"
    );
    let forced = stored.ingest(&["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(stderr(&forced).contains("are gone"), "{}", stderr(&forced));
    // Rows of the lost file whose sources also had rows elsewhere may come back; the rest are
    // gone, and the store says nothing is missing any more.
    let (code, n, err) = stored.count(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        n.unwrap() >= all - rows && n.unwrap() < all,
        "{n:?} of {all}"
    );
}

fn parquet_files(store: &Path) -> Vec<PathBuf> {
    ctq_testkit::walk(store)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect()
}
