//! Command lines that ask for the impossible exit 2 before reading anything: an output onto or
//! among the input (`-o` onto a trail file would destroy it; one inside a source folder or the
//! store would be read back by the next run), and a window whose `--from` is not before `--to`.

use std::path::{Path, PathBuf};

use crate::support::*;

/// A copy of the sample trail in a fresh temporary folder, and the path of one of its files.
fn sample_copy() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    ctq_testkit::copy_tree(&repo().join("sample-logs"), &trail, |_| false);
    let file = ctq_testkit::walk(&trail)
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with(".json.gz"))
        .unwrap();
    (dir, trail, file)
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn output_onto_a_trail_file_is_refused_and_leaves_it_unchanged() {
    let (_dir, trail, file) = sample_copy();
    let before = std::fs::read(&file).unwrap();
    let runs = [
        ctq(&["denials", "-s", text(&trail), "-o", text(&file)]),
        ctq(&["denials", "-s", text(&file), "-o", text(&file)]),
        ctq(&["query", "SELECT 1", "-s", text(&file), "-o", text(&file)]),
        ctq(&["explain", "-s", text(&file), "--output", text(&file)]),
    ];
    for run in runs {
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert!(err.contains(text(&file)), "{err}");
        assert!(err.contains("write the output elsewhere"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), before);
    }
    let err = stderr(&ctq(&["denials", "-s", text(&file), "-o", text(&file)]));
    assert_eq!(
        err,
        format!(
            "ctq: error: --output {0} is the --source file {0}, which ctq reads; write the output elsewhere\n",
            text(&file)
        )
    );
}

#[test]
fn output_inside_a_source_folder_or_the_store_is_refused_and_nothing_written() {
    let (dir, trail, _) = sample_copy();
    let files_before = ctq_testkit::walk(&trail);
    let inside = trail.join("AWSLogs").join("denials.json");
    let run = ctq(&["denials", "-s", text(&trail), "-o", text(&inside)]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert_eq!(
        stderr(&run),
        format!(
            "ctq: error: --output {} is inside the --source folder {}, which ctq reads; write the output elsewhere\n",
            text(&inside),
            text(&trail)
        )
    );
    for command in ["query", "explain"] {
        let mut args = vec![command, "-s", text(&trail), "-o", text(&inside)];
        if command == "query" {
            args.insert(1, "SELECT 1");
        }
        let run = ctq(&args);
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    }
    assert_eq!(ctq_testkit::walk(&trail), files_before);

    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let run = ctq(&[
        "denials",
        "--store",
        text(&store),
        "-o",
        text(&store.join("d.csv")),
    ]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("is inside the --store folder"), "{err}");
    assert!(ctq_testkit::walk(&store).is_empty());
}

#[test]
fn report_out_inside_the_source_or_the_store_is_refused() {
    let (dir, trail, _) = sample_copy();
    let files_before = ctq_testkit::walk(&trail);
    let out = trail.join("report");
    let window = ["--from", "2019-10-28", "--to", "2019-10-31"];
    let mut args = vec!["report", "-s", text(&trail), "--out", text(&out)];
    args.extend(window);
    let run = ctq(&args);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        format!(
            "ctq: error: --out {} is inside the --source folder {}, which ctq reads; write the output elsewhere\n",
            text(&out),
            text(&trail)
        )
    );
    assert_eq!(ctq_testkit::walk(&trail), files_before);

    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let out = store.join("report");
    let mut args = vec!["report", "--store", text(&store), "--out", text(&out)];
    args.extend(window);
    let run = ctq(&args);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(!out.exists());
}

#[test]
fn output_elsewhere_is_written() {
    let (dir, trail, file) = sample_copy();
    // A CSV inside the source folder is not a trail file: the next run does not read it.
    let inside = trail.join("denials.csv");
    let run = ctq(&[
        "denials",
        "-q",
        "-s",
        text(&trail),
        "--format",
        "csv",
        "-o",
        text(&inside),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(inside.is_file());
    let output = dir.path().join("denials.csv");
    let run = ctq(&[
        "denials",
        "-q",
        "-s",
        text(&trail),
        "--format",
        "csv",
        "-o",
        text(&output),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(std::fs::read_to_string(&output).unwrap().lines().count() > 1);

    // A source file's sibling is no part of the input when only the file is read.
    let sibling = file.with_file_name("explain.txt");
    let run = ctq(&["explain", "-q", "-s", text(&file), "-o", text(&sibling)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(sibling.is_file());

    let out = dir.path().join("report");
    let run = ctq(&[
        "report",
        "-q",
        "-s",
        text(&trail),
        "--out",
        text(&out),
        "--from",
        "2019-10-28",
        "--to",
        "2019-10-31",
    ]);
    assert!(
        matches!(run.status.code(), Some(0 | 3 | 4)),
        "{}",
        stderr(&run)
    );
    assert!(out.join("report.html").is_file());
}

#[test]
fn a_window_with_from_not_before_to_is_a_usage_error() {
    let (dir, trail, _) = sample_copy();
    let out = dir.path().join("report");
    let message = |from: &str, to: &str| {
        format!("ctq: error: the window {from} to {to} is empty; --from must come before --to\n")
    };
    let inverted = [
        "--from",
        "2019-10-30T00:00:00Z",
        "--to",
        "2019-10-29T00:00:00Z",
    ];
    let equal = [
        "--from",
        "2019-10-29T00:00:00Z",
        "--to",
        "2019-10-29T00:00:00Z",
    ];
    for (window, (from, to)) in [
        (
            inverted,
            ("2019-10-30T00:00:00.000Z", "2019-10-29T00:00:00.000Z"),
        ),
        (
            equal,
            ("2019-10-29T00:00:00.000Z", "2019-10-29T00:00:00.000Z"),
        ),
    ] {
        for command in ["denials", "explain", "report"] {
            let mut args = vec![command, "-s", text(&trail)];
            args.extend(window);
            if command == "report" {
                args.extend(["--out", text(&out)]);
            }
            let run = ctq(&args);
            assert_eq!(run.status.code(), Some(2), "{command}: {}", stderr(&run));
            assert_eq!(stderr(&run), message(from, to), "{command}");
            assert!(stdout(&run).is_empty(), "{command}");
        }
    }
    assert!(!out.exists());
}
