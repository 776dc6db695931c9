//! What an ingest run will do, decided from the manifest and the listed sources alone: which
//! sources to read, and which data files to retire. No file is read or written here.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ctq_ingest::TrailFile;

use crate::manifest::{Manifest, SourceEntry, SourceStatus};

/// One source file and what identifies its content.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub file: TrailFile,
    pub version: Version,
}

impl SourceFile {
    /// The source's key in the manifest: its path.
    pub fn key(&self) -> String {
        self.file.path.to_string_lossy().into_owned()
    }
}

/// What identifies a source's content: size with modification time (local files) or ETag (S3
/// objects). Another version means another content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub size: u64,
    pub modified_ms: i64,
    pub etag: Option<String>,
}

#[cfg(test)]
impl SourceFile {
    /// A local source at `path` of `size` bytes.
    pub fn for_test(path: &str, size: u64) -> SourceFile {
        SourceFile {
            file: TrailFile {
                path: path.into(),
                partition: ctq_ingest::path::Partition::default(),
            },
            version: Version {
                size,
                modified_ms: 1_000,
                etag: None,
            },
        }
    }
}

impl Version {
    pub fn of(entry: &SourceEntry) -> Version {
        Version {
            size: entry.size,
            modified_ms: entry.modified_ms,
            etag: entry.etag.clone(),
        }
    }
}

/// How a source compares with what the manifest holds of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Not in the manifest: read.
    New,
    /// In the manifest with another version: read, and its old rows replaced.
    Changed,
    /// Recorded as damaged, and the run retries damaged files: read.
    Retried,
    /// In the manifest as it is now: not read, unless it shares a retired data file with a
    /// changed source.
    Unchanged,
    /// In the manifest but no longer listed: its entry and rows stay. The store outlives the
    /// trail's log files (a bucket's lifecycle rule expiring them, say).
    Gone,
}

/// What a run does: the sources it reads and the data files it retires.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Every source listed or in the manifest, by key.
    pub changes: BTreeMap<String, Change>,
    /// The sources to read, in order: the new, changed and retried ones as listed, then the
    /// unchanged ones that share a retired data file with a changed one.
    pub to_read: Vec<SourceFile>,
    /// Data files holding rows of a changed source. Its rows share data files with other
    /// sources: those files are dropped whole and their other sources read again (they are in
    /// `to_read`), so no row is lost and none is kept twice.
    pub retire: BTreeSet<String>,
    /// Data files found missing or damaged: retired, and their sources read again.
    pub repair: BTreeSet<String>,
    /// Sources of repaired data files that are no longer listed: their rows in those files
    /// cannot be read again.
    pub unrecoverable: BTreeSet<String>,
}

impl Plan {
    /// How many sources compare as `change`.
    pub fn count(&self, change: Change) -> usize {
        self.changes.values().filter(|&&c| c == change).count()
    }

    /// Whether the run leaves the store as it is.
    pub fn is_empty(&self) -> bool {
        self.to_read.is_empty() && self.retire.is_empty()
    }
}

/// Compares the listed `sources` with `manifest`. Damaged sources are read again only when
/// `retry_damaged`. The data files in `faulty` (missing or damaged) are retired like those of a
/// changed source, and every source with rows in them is read again.
pub(crate) fn plan(
    manifest: &Manifest,
    sources: Vec<SourceFile>,
    retry_damaged: bool,
    faulty: &BTreeSet<String>,
) -> Plan {
    let mut changes = BTreeMap::new();
    let mut to_read = Vec::new();
    let mut changed: HashSet<String> = HashSet::new();
    // Unchanged sources, which a retired data file may send back to be read.
    let mut unchanged: HashMap<String, SourceFile> = HashMap::new();
    for source in sources {
        let key = source.key();
        let change = match manifest.sources.get(&key) {
            None => Change::New,
            Some(entry) if Version::of(entry) != source.version => Change::Changed,
            Some(entry) if entry.status == SourceStatus::Damaged && retry_damaged => {
                Change::Retried
            }
            Some(_) => Change::Unchanged,
        };
        match change {
            Change::Unchanged => {
                unchanged.insert(key.clone(), source);
            }
            Change::Changed => {
                changed.insert(key.clone());
                to_read.push(source);
            }
            _ => to_read.push(source),
        }
        changes.insert(key, change);
    }
    for key in manifest.sources.keys() {
        changes.entry(key.clone()).or_insert(Change::Gone);
    }

    let repair: BTreeSet<String> = faulty
        .iter()
        .filter(|name| manifest.files.contains_key(*name))
        .cloned()
        .collect();
    let retire: BTreeSet<String> = manifest
        .files
        .iter()
        .filter(|(name, data)| {
            repair.contains(*name) || data.sources.iter().any(|s| changed.contains(s))
        })
        .map(|(name, _)| name.clone())
        .collect();
    for name in &retire {
        for source in &manifest.files[name].sources {
            if let Some(source) = unchanged.remove(source) {
                to_read.push(source);
            }
        }
    }
    let unrecoverable = repair
        .iter()
        .flat_map(|name| &manifest.files[name].sources)
        .filter(|source| changes.get(*source) == Some(&Change::Gone))
        .cloned()
        .collect();
    Plan {
        changes,
        to_read,
        retire,
        repair,
        unrecoverable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DataFile;

    fn source(path: &str, size: u64) -> SourceFile {
        SourceFile::for_test(path, size)
    }

    fn entry(size: u64, status: SourceStatus) -> SourceEntry {
        SourceEntry {
            size,
            modified_ms: 1_000,
            etag: None,
            status,
            records: 1,
            reason: None,
        }
    }

    /// A manifest holding sources `a` to `e` (size 10; `e` damaged) in three data files:
    /// `f1` holds `a` and `b`, `f2` holds `b` and `c`, `f3` holds `d`.
    fn manifest() -> Manifest {
        let mut manifest = Manifest {
            version: Manifest::VERSION,
            run: 1,
            ..Manifest::default()
        };
        for key in ["/t/a", "/t/b", "/t/c", "/t/d"] {
            manifest
                .sources
                .insert(key.into(), entry(10, SourceStatus::Ingested));
        }
        manifest
            .sources
            .insert("/t/e".into(), entry(10, SourceStatus::Damaged));
        for (name, sources) in [
            ("f1", &["/t/a", "/t/b"][..]),
            ("f2", &["/t/b", "/t/c"]),
            ("f3", &["/t/d"]),
        ] {
            manifest.files.insert(
                name.into(),
                DataFile {
                    rows: 2,
                    sources: sources
                        .iter()
                        .map(std::string::ToString::to_string)
                        .collect(),
                    bytes: None,
                },
            );
        }
        manifest
    }

    fn keys(sources: &[SourceFile]) -> Vec<String> {
        sources.iter().map(SourceFile::key).collect()
    }

    fn all(sizes: &[(&str, u64)]) -> Vec<SourceFile> {
        sizes.iter().map(|&(p, s)| source(p, s)).collect()
    }

    #[test]
    fn a_new_store_reads_every_source_in_listing_order() {
        let plan = plan(
            &Manifest::default(),
            all(&[("/t/b", 1), ("/t/a", 2)]),
            false,
            &BTreeSet::new(),
        );
        assert_eq!(keys(&plan.to_read), ["/t/b", "/t/a"]);
        assert_eq!(plan.count(Change::New), 2);
        assert!(plan.retire.is_empty());
        assert!(!plan.is_empty());
    }

    #[test]
    fn unchanged_sources_are_not_read_and_nothing_is_retired() {
        let listed = all(&[("/t/a", 10), ("/t/b", 10), ("/t/c", 10), ("/t/d", 10)]);
        let plan = plan(&manifest(), listed, false, &BTreeSet::new());
        assert!(plan.is_empty(), "{plan:?}");
        assert_eq!(plan.count(Change::Unchanged), 4);
    }

    #[test]
    fn a_new_source_is_read_alone() {
        let listed = all(&[("/t/a", 10), ("/t/new", 5), ("/t/d", 10)]);
        let plan = plan(&manifest(), listed, false, &BTreeSet::new());
        assert_eq!(keys(&plan.to_read), ["/t/new"]);
        assert_eq!(plan.changes["/t/new"], Change::New);
        assert!(plan.retire.is_empty());
    }

    #[test]
    fn another_modification_time_or_etag_is_a_change() {
        let mut touched = source("/t/d", 10);
        touched.version.modified_ms += 1;
        let plan = super::plan(&manifest(), vec![touched], false, &BTreeSet::new());
        assert_eq!(plan.changes["/t/d"], Change::Changed);
        assert_eq!(plan.retire, BTreeSet::from(["f3".to_string()]));

        let mut tagged = source("/t/d", 10);
        tagged.version.etag = Some("\"abc\"".into());
        let plan = super::plan(&manifest(), vec![tagged], false, &BTreeSet::new());
        assert_eq!(plan.changes["/t/d"], Change::Changed);
    }

    #[test]
    fn a_changed_source_alone_in_its_file_retires_only_that_file() {
        let listed = all(&[("/t/a", 10), ("/t/b", 10), ("/t/c", 10), ("/t/d", 11)]);
        let plan = plan(&manifest(), listed, false, &BTreeSet::new());
        assert_eq!(keys(&plan.to_read), ["/t/d"]);
        assert_eq!(plan.count(Change::Changed), 1);
        assert_eq!(plan.count(Change::Unchanged), 3);
        assert_eq!(plan.retire, BTreeSet::from(["f3".to_string()]));
    }

    #[test]
    fn a_changed_source_sends_the_neighbours_in_its_files_back_to_be_read() {
        // `b` is in f1 (with `a`) and f2 (with `c`): both go, `a` and `c` are read again after
        // the changed and new sources; `d`, in f3, is not.
        let listed = all(&[
            ("/t/a", 10),
            ("/t/b", 12),
            ("/t/c", 10),
            ("/t/d", 10),
            ("/t/new", 1),
        ]);
        let plan = plan(&manifest(), listed, false, &BTreeSet::new());
        assert_eq!(keys(&plan.to_read), ["/t/b", "/t/new", "/t/a", "/t/c"]);
        assert_eq!(
            plan.retire,
            BTreeSet::from(["f1".to_string(), "f2".to_string()])
        );
        assert_eq!(plan.changes["/t/a"], Change::Unchanged);
        assert_eq!(plan.changes["/t/b"], Change::Changed);
        assert_eq!(plan.count(Change::Changed), 1);
    }

    #[test]
    fn a_neighbour_that_also_changed_is_read_once() {
        let listed = all(&[("/t/a", 11), ("/t/b", 12), ("/t/c", 10)]);
        let plan = plan(&manifest(), listed, false, &BTreeSet::new());
        assert_eq!(keys(&plan.to_read), ["/t/a", "/t/b", "/t/c"]);
        assert_eq!(plan.count(Change::Changed), 2);
    }

    #[test]
    fn a_source_no_longer_listed_keeps_its_entry_and_rows() {
        let listed = all(&[("/t/a", 10), ("/t/b", 10), ("/t/c", 10)]);
        let plan = plan(&manifest(), listed, false, &BTreeSet::new());
        assert_eq!(plan.changes["/t/d"], Change::Gone);
        assert_eq!(plan.count(Change::Gone), 2, "d and the damaged e");
        assert!(plan.is_empty(), "nothing read, no file retired");
    }

    #[test]
    fn damaged_sources_are_retried_only_when_asked() {
        let listed = all(&[("/t/e", 10)]);
        let left = plan(&manifest(), listed.clone(), false, &BTreeSet::new());
        assert_eq!(left.changes["/t/e"], Change::Unchanged);
        assert!(left.is_empty());
        let plan = plan(&manifest(), listed, true, &BTreeSet::new());
        assert_eq!(keys(&plan.to_read), ["/t/e"]);
        assert_eq!(plan.changes["/t/e"], Change::Retried);
        assert!(plan.retire.is_empty());
    }

    #[test]
    fn a_faulty_data_file_is_retired_and_its_sources_read_again() {
        // f1 holds `a` and `b`; `b` also has rows in f2, which stays: rows `b` writes again
        // there are dropped as events already stored.
        let listed = all(&[("/t/a", 10), ("/t/b", 10), ("/t/c", 10), ("/t/d", 10)]);
        let faulty = BTreeSet::from(["f1".to_string(), "not-listed".to_string()]);
        let plan = plan(&manifest(), listed, false, &faulty);
        assert_eq!(keys(&plan.to_read), ["/t/a", "/t/b"]);
        assert_eq!(plan.retire, BTreeSet::from(["f1".to_string()]));
        assert_eq!(plan.repair, BTreeSet::from(["f1".to_string()]));
        assert!(plan.unrecoverable.is_empty());
        assert!(!plan.is_empty());
    }

    #[test]
    fn a_faulty_data_file_whose_source_is_gone_is_unrecoverable() {
        let listed = all(&[("/t/a", 10), ("/t/b", 10), ("/t/c", 10)]);
        let faulty = BTreeSet::from(["f3".to_string()]);
        let plan = plan(&manifest(), listed, false, &faulty);
        assert_eq!(plan.unrecoverable, BTreeSet::from(["/t/d".to_string()]));
        assert!(plan.to_read.is_empty());
    }
}
