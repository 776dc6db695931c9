//! Whether the data files a manifest lists are as they were written: present, of their size,
//! and (when verified) with a readable footer holding their row count. Queries check presence
//! and size, which a listing gives for free; `ctq ingest` repairs what fails, and under
//! `--verify` reads every footer first.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use parquet::file::metadata::ParquetMetaDataReader;
use parquet::file::reader::ChunkReader;

use crate::StoreError;
use crate::files::Store;
use crate::manifest::Manifest;

/// What is wrong with a data file the manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataFileProblem {
    Missing,
    /// Its size is not the one it was published with (truncated, or overwritten).
    WrongSize {
        expected: u64,
        found: u64,
    },
    /// Its Parquet footer cannot be read: what the reader said.
    Unreadable(String),
    /// Its footer counts other rows than the manifest.
    WrongRows {
        expected: u64,
        found: u64,
    },
}

impl fmt::Display for DataFileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataFileProblem::Missing => f.write_str("missing"),
            DataFileProblem::WrongSize { expected, found } => {
                write!(f, "{found} bytes, written as {expected}")
            }
            DataFileProblem::Unreadable(reason) => write!(f, "not readable Parquet: {reason}"),
            DataFileProblem::WrongRows { expected, found } => {
                write!(f, "holds {found} rows, written with {expected}")
            }
        }
    }
}

/// A data file the manifest lists that is not as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFileFault {
    /// Relative to the store, as the manifest names it.
    pub name: String,
    /// The rows the manifest says it holds: what a query over the store lacks.
    pub rows: u64,
    pub problem: DataFileProblem,
}

impl fmt::Display for DataFileFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} rows): {}", self.name, self.rows, self.problem)
    }
}

/// The data files `manifest` lists that `present` (the store's files with their sizes, as
/// [`Store::list`] gives them) lacks, or holds at another size.
pub fn check_listed(manifest: &Manifest, present: &[(String, u64)]) -> Vec<DataFileFault> {
    let sizes: HashMap<&str, u64> = present.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    manifest
        .files
        .iter()
        .filter_map(|(name, data)| {
            let problem = match (sizes.get(name.as_str()), data.bytes) {
                (None, _) => DataFileProblem::Missing,
                (Some(&found), Some(expected)) if found != expected => {
                    DataFileProblem::WrongSize { expected, found }
                }
                _ => return None,
            };
            Some(DataFileFault {
                name: name.clone(),
                rows: data.rows,
                problem,
            })
        })
        .collect()
}

/// Reads the footer of every data file `manifest` lists, but those in `skip`, and checks its row
/// count. Reads each file whole on S3 (one GET each).
pub(crate) fn verify_footers(
    store: &Store,
    manifest: &Manifest,
    skip: &BTreeSet<String>,
) -> Result<Vec<DataFileFault>, StoreError> {
    let mut faults = Vec::new();
    for (name, data) in &manifest.files {
        if skip.contains(name) {
            continue;
        }
        let rows = match store {
            // Locally only the footer is read, from the end of the file.
            Store::Local(root) => match std::fs::File::open(root.join(name)) {
                Ok(file) => Some(footer_rows(&file)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => Err(crate::io_error("read", &root.join(name))(e))?,
            },
            Store::S3 { .. } => store
                .read(name)?
                .map(|bytes| footer_rows(&bytes::Bytes::from(bytes))),
        };
        let problem = match rows {
            None => Some(DataFileProblem::Missing),
            Some(Err(reason)) => Some(DataFileProblem::Unreadable(reason)),
            Some(Ok(found)) if found != data.rows => Some(DataFileProblem::WrongRows {
                expected: data.rows,
                found,
            }),
            Some(Ok(_)) => None,
        };
        faults.extend(problem.map(|problem| DataFileFault {
            name: name.clone(),
            rows: data.rows,
            problem,
        }));
    }
    Ok(faults)
}

/// The row count a Parquet file's footer gives, or why it cannot be read.
pub(crate) fn footer_rows(file: &impl ChunkReader) -> Result<u64, String> {
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(file)
        .map_err(|e| e.to_string())?;
    u64::try_from(metadata.file_metadata().num_rows()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DataFile;

    fn manifest(files: &[(&str, u64, Option<u64>)]) -> Manifest {
        let mut manifest = Manifest::empty();
        for &(name, rows, bytes) in files {
            manifest.files.insert(
                name.into(),
                DataFile {
                    rows,
                    sources: vec![],
                    bytes,
                },
            );
        }
        manifest
    }

    #[test]
    fn a_missing_file_and_one_of_another_size_are_faults_and_unlisted_files_are_not() {
        let manifest = manifest(&[
            ("a", 5, Some(100)),
            ("b", 7, Some(200)),
            ("c", 9, Some(300)),
        ]);
        let present = [
            ("a".to_string(), 100),
            ("c".to_string(), 0),
            ("x".into(), 1),
        ];
        let faults = check_listed(&manifest, &present);
        assert_eq!(
            faults,
            [
                DataFileFault {
                    name: "b".into(),
                    rows: 7,
                    problem: DataFileProblem::Missing
                },
                DataFileFault {
                    name: "c".into(),
                    rows: 9,
                    problem: DataFileProblem::WrongSize {
                        expected: 300,
                        found: 0
                    }
                }
            ]
        );
        assert_eq!(faults[1].to_string(), "c (9 rows): 0 bytes, written as 300");
    }

    #[test]
    fn a_file_listed_without_a_size_is_checked_for_presence_only() {
        let manifest = manifest(&[("a", 5, None)]);
        assert!(check_listed(&manifest, &[("a".into(), 3)]).is_empty());
        assert_eq!(check_listed(&manifest, &[]).len(), 1);
    }

    #[test]
    fn a_footer_that_is_not_parquet_is_named_so() {
        assert!(footer_rows(&bytes::Bytes::from_static(b"garbage, not parquet")).is_err());
    }
}
