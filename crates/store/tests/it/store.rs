//! Ingest runs over a copy of the sample trail: first run, re-runs, changed and damaged files,
//! and what an interrupted run leaves behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ctq_store::{IngestOptions, Manifest, SourceStatus, ingest};
use ctq_testkit::{copy_tree, gunzip, sample_logs, walk};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn copy_sample(to: &Path) {
    copy_tree(&sample_logs(), to, |_| false);
}

/// eventID -> how many times the source files hold it.
fn source_event_ids(trail: &Path) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for file in walk(trail) {
        let name = file.to_string_lossy();
        if !name.contains("/CloudTrail/") || !name.ends_with(".json.gz") {
            continue;
        }
        let Ok(text) = gunzip(&std::fs::read(&file).unwrap()) else {
            continue;
        };
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        for record in doc["Records"].as_array().into_iter().flatten() {
            *ids.entry(record["eventID"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    ids
}

/// eventID -> how many rows of the store's data files hold it.
fn stored_event_ids(store: &Path) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for file in walk(store) {
        if file.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let column = batch
                .column_by_name("eventid")
                .unwrap()
                .as_any()
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap()
                .clone();
            for id in column.iter().flatten() {
                *ids.entry(id.to_string()).or_default() += 1;
            }
        }
    }
    ids
}

fn once_each(ids: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    ids.keys().map(|k| (k.clone(), 1)).collect()
}

#[test]
fn a_trail_is_stored_once_and_a_rerun_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let first = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    let expected = source_event_ids(&sample_logs());
    assert!(
        expected.values().any(|&n| n == 2),
        "the sample has a redelivery"
    );
    assert_eq!(stored_event_ids(&store), once_each(&expected));
    assert_eq!(first.duplicates_dropped, 1);
    assert_eq!(first.records_written as usize, expected.len());
    let manifest = Manifest::load(&store).unwrap();
    assert_eq!(manifest.rows() as usize, expected.len());
    for name in manifest.files.keys() {
        assert!(name.starts_with("event_account="), "{name}");
        assert!(name.contains("/event_region=") && name.contains("/event_date=2019-10-"));
    }

    let second = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    assert_eq!(second.read, 0);
    assert_eq!(second.unchanged, first.sources);
    assert_eq!(second.files_written, 0);
    assert_eq!(Manifest::load(&store).unwrap(), manifest);
}

#[test]
fn a_changed_file_replaces_its_rows_and_keeps_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let (trail, store) = (dir.path().join("trail"), dir.path().join("store"));
    copy_sample(&trail);
    ingest(
        std::slice::from_ref(&trail),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();

    // Replace one delivered file with another's content: its old events go, the new ones come.
    let files: Vec<PathBuf> = walk(&trail)
        .into_iter()
        .filter(|f| {
            f.to_string_lossy()
                .contains("/CloudTrail/us-east-1/2019/10/29/")
        })
        .collect();
    let (changed, donor) = (&files[0], &files[files.len() - 1]);
    std::fs::copy(donor, changed).unwrap();
    let bytes = std::fs::read(changed).unwrap();
    std::fs::write(changed, [bytes.as_slice(), bytes.as_slice()].concat()).unwrap();

    let report = ingest(
        std::slice::from_ref(&trail),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(report.changed, 1);
    assert!(report.damaged.is_empty(), "{:?}", report.damaged);
    assert_eq!(
        stored_event_ids(&store),
        once_each(&source_event_ids(&trail))
    );
    let manifest = Manifest::load(&store).unwrap();
    for name in manifest.files.keys() {
        assert!(store.join(name).exists(), "{name} is listed but missing");
    }
    let on_disk = walk(&store)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert_eq!(on_disk, manifest.files.len(), "replaced files are removed");
}

#[test]
fn a_damaged_file_is_recorded_not_retried_until_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (trail, store) = (dir.path().join("trail"), dir.path().join("store"));
    copy_sample(&trail);
    let victim = walk(&trail)
        .into_iter()
        .find(|f| f.to_string_lossy().contains("/CloudTrail/eu-west-1/"))
        .unwrap();
    let good = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &good[..good.len() / 2]).unwrap();

    let first = ingest(
        std::slice::from_ref(&trail),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(first.damaged.len(), 1);
    assert_eq!(first.damaged[0].0, victim);
    let key = victim.to_string_lossy().into_owned();
    let manifest = Manifest::load(&store).unwrap();
    assert_eq!(manifest.sources[&key].status, SourceStatus::Damaged);
    assert!(manifest.sources[&key].reason.is_some());
    // Every other file's records are stored.
    assert_eq!(
        stored_event_ids(&store),
        once_each(&source_event_ids(&trail))
    );

    let again = ingest(
        std::slice::from_ref(&trail),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!((again.read, again.damaged.len()), (0, 0));
    let retry = IngestOptions {
        retry_damaged: true,
        ..IngestOptions::default()
    };
    let retried = ingest(std::slice::from_ref(&trail), &store, &retry).unwrap();
    assert_eq!((retried.read, retried.damaged.len()), (1, 1));

    // Repaired (a new size): read again on the next run, its records join the others.
    std::fs::write(&victim, &good).unwrap();
    let repaired = ingest(
        std::slice::from_ref(&trail),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!((repaired.changed, repaired.damaged.len()), (1, 0));
    assert_eq!(
        stored_event_ids(&store),
        once_each(&source_event_ids(&trail))
    );
    assert_eq!(
        Manifest::load(&store).unwrap().sources[&key].status,
        SourceStatus::Ingested
    );
}

#[test]
fn files_an_interrupted_run_left_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    let manifest = Manifest::load(&store).unwrap();
    let listed = manifest.files.keys().next().unwrap();
    let partition = store.join(listed).parent().unwrap().to_path_buf();
    // A finished file renamed into place before its manifest commit, and a half-written one.
    std::fs::copy(
        store.join(listed),
        partition.join("part-999999-00001.parquet"),
    )
    .unwrap();
    std::fs::write(partition.join(".part-999999-00002.parquet.tmp"), b"half").unwrap();

    let report = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    assert_eq!(report.leftovers_removed, 2);
    assert_eq!(
        stored_event_ids(&store),
        once_each(&source_event_ids(&sample_logs()))
    );
}

#[test]
fn a_folder_of_other_files_is_not_made_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let (trail, stray) = (
        dir.path().join("trail"),
        dir.path().join("trail/notes.parquet"),
    );
    copy_sample(&trail);
    std::fs::write(&stray, b"not ours").unwrap();
    let error = ingest(&[sample_logs()], &trail, &IngestOptions::default()).unwrap_err();
    assert!(error.to_string().contains("new or empty folder"), "{error}");
    assert_eq!(std::fs::read(&stray).unwrap(), b"not ours");
    assert_eq!(source_event_ids(&trail), source_event_ids(&sample_logs()));

    // Inside a store, files ingest did not write are left alone too.
    let store = dir.path().join("store");
    ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    let readme = store.join("README.txt");
    std::fs::write(&readme, b"ours, not ctq's").unwrap();
    let report = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    assert_eq!(report.leftovers_removed, 0);
    assert!(readme.exists());
}

#[test]
fn a_second_writer_is_turned_away_while_the_first_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    // What a running `ctq ingest` holds; the system drops it when that process ends.
    let running = std::fs::File::open(store.join("_ctq/writer.lock")).unwrap();
    running.lock().unwrap();
    let error = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains("another ctq ingest is writing"),
        "{error}"
    );
    drop(running);
    let report = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    assert_eq!(report.read, 0);
}

#[test]
fn a_store_a_newer_ctq_wrote_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    assert_eq!(Manifest::load(&store).unwrap().version, Manifest::VERSION);

    // A newer manifest, in a shape this ctq cannot parse.
    let manifest_path = Manifest::path(&store);
    let mut newer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    newer["version"] = (Manifest::VERSION + 1).into();
    newer["files"] = serde_json::json!([{ "renamed": true }]);
    let newer = serde_json::to_vec_pretty(&newer).unwrap();
    std::fs::write(&manifest_path, &newer).unwrap();
    let listed = Manifest::load(&store).unwrap_err();
    let data_file = walk(&store)
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let before = walk(&store);

    let expected = format!(
        "the store {} was written by a newer ctq: its manifest has version {}, and this ctq understands version {} at most; upgrade ctq to use this store",
        store.display(),
        Manifest::VERSION + 1,
        Manifest::VERSION
    );
    // Opening it to read.
    assert!(
        matches!(
            listed,
            ctq_store::StoreError::NewerManifest { found, supported, .. }
                if found == Manifest::VERSION + 1 && supported == Manifest::VERSION
        ),
        "{listed:?}"
    );
    assert_eq!(listed.to_string(), expected);
    let checked = Manifest::check_version(&newer, &store.display().to_string()).unwrap_err();
    assert_eq!(checked.to_string(), expected);
    // Ingesting into it, which would otherwise remove the files it does not understand.
    let error = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap_err();
    assert!(
        matches!(error, ctq_store::StoreError::NewerManifest { .. }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), expected);
    assert_eq!(std::fs::read(&manifest_path).unwrap(), newer);
    assert!(data_file.exists());
    assert_eq!(walk(&store), before);
}

#[test]
fn a_manifest_without_a_version_is_unreadable_not_newer() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(store.join("_ctq")).unwrap();
    std::fs::write(Manifest::path(&store), br#"{"run": 1}"#).unwrap();
    let error = Manifest::load(&store).unwrap_err();
    assert!(
        matches!(error, ctq_store::StoreError::Manifest { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("unreadable"), "{error}");
    assert!(error.to_string().contains("version"), "{error}");
}
