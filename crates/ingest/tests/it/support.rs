//! A scan that collects everything it produced; the builders of small trails on disk are
//! [`ctq_testkit`]'s.

use std::path::PathBuf;
use std::sync::Mutex;

use arrow_array::{Array, RecordBatch, StringArray, StructArray};
use ctq_ingest::{FileOutcomes, ScanOptions, discover, scan_files};
pub use ctq_testkit::{gzip, record, records_file, skip, write};

pub struct Scanned {
    pub batches: Vec<RecordBatch>,
    pub report: FileOutcomes,
}

impl Scanned {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Values of a top-level string column, or of `struct.field`, across all batches, sorted.
    pub fn strings(&self, column: &str) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for batch in &self.batches {
            let mut parts = column.split('.');
            let mut array = batch.column_by_name(parts.next().unwrap()).unwrap().clone();
            for part in parts {
                let s = array.as_any().downcast_ref::<StructArray>().unwrap();
                let child = s.column_by_name(part).unwrap().clone();
                // A null struct makes its fields null too.
                let nulls = arrow_buffer::NullBuffer::union(s.nulls(), child.nulls());
                array = arrow_array::make_array(
                    child.to_data().into_builder().nulls(nulls).build().unwrap(),
                );
            }
            let strings = array.as_any().downcast_ref::<StringArray>().unwrap();
            out.extend(strings.iter().map(|v| v.map(str::to_owned)));
        }
        out.sort();
        out
    }
}

pub fn scan_with(
    sources: &[PathBuf],
    options: &ScanOptions,
) -> Result<Scanned, ctq_ingest::IngestError> {
    let discovery = discover(sources, &ctq_ingest::Pruning::default())?;
    let batches = Mutex::new(Vec::new());
    let mut report = scan_files(&discovery.files, options, &|batch| {
        batches.lock().unwrap().push(batch);
        true
    })?;
    report.merge(discovery.report);
    Ok(Scanned {
        batches: batches.into_inner().unwrap(),
        report,
    })
}

pub fn scan(sources: &[PathBuf]) -> Scanned {
    scan_with(sources, &ScanOptions::default()).unwrap()
}
