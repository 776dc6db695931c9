//! `ctq report` as a newcomer reads it: an empty window says "no data" (and fails under
//! `--fail-on no-data` and its floors), summary.json names only files that exist, and the page,
//! measured in a real browser at a wide and a narrow width, names the top principals in its
//! chart and never runs wider than the screen.

use std::path::Path;
use std::process::Output;

use crate::support::*;

fn report(out: &Path, source: &str, window: (&str, &str), extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    ctq(&[
        &[
            "report", "-s", source, "--from", window.0, "--to", window.1, "--out", out,
        ][..],
        extra,
    ]
    .concat())
}

const SAMPLE_WINDOW: (&str, &str) = ("2019-10-28T00:00:00Z", "2019-10-31T00:00:00Z");
/// No file of the sample trail was delivered in it.
const EMPTY_WINDOW: (&str, &str) = ("2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z");

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_window_without_data_says_so_and_fails_under_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("empty");
    let quiet = report(&out, "sample-logs", EMPTY_WINDOW, &[]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert!(
        stderr(&quiet).contains("ctq: warning: no data: no log file"),
        "{}",
        stderr(&quiet)
    );
    let empty = summary(&out);
    assert_eq!(empty["no_data"], true);
    assert!(
        empty["no_data_reason"]
            .as_str()
            .unwrap()
            .contains("no log file"),
        "{empty}"
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("id=\"no-data\""));
    assert!(page.contains("No data: no log file"));

    let failing = report(&out, "sample-logs", EMPTY_WINDOW, &["--fail-on", "no-data"]);
    assert_eq!(failing.status.code(), Some(4), "{}", stderr(&failing));
    let err = stderr(&failing);
    assert!(err.contains("--fail-on no-data crossed: no data:"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line, not a warning too: {err}");
    assert_eq!(summary(&out)["needs_attention"], true);

    // The same rule over a window with data: not crossed, and no_data is false.
    let full = report(
        &out,
        "sample-logs",
        SAMPLE_WINDOW,
        &["--fail-on", "no-data"],
    );
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    let full_summary = summary(&out);
    assert_eq!(full_summary["no_data"], false);
    assert!(full_summary["no_data_reason"].is_null());
    assert!(
        !std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("id=\"no-data\"")
    );
}

#[test]
fn min_files_and_min_records_are_floors_comma_separated_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let first = report(&out, "sample-logs", SAMPLE_WINDOW, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let read = summary(&out)["files"]["read"].as_u64().unwrap();
    let records = summary(&out)["files"]["records"].as_u64().unwrap();
    assert!(read > 1 && records > 1);

    let at_floor = format!("no-data,min-files={read},min-records={records}");
    let run = report(
        &out,
        "sample-logs",
        SAMPLE_WINDOW,
        &["--fail-on", &at_floor],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let rules: Vec<String> = summary(&out)["fail_on"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        rules,
        [
            "no-data".to_string(),
            format!("min-files={read}"),
            format!("min-records={records}")
        ]
    );

    let files_short = format!("min-files={}", read + 1);
    let run = report(
        &out,
        "sample-logs",
        SAMPLE_WINDOW,
        &["--fail-on", &files_short],
    );
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(&format!("{read} log files read, floor {}", read + 1)),
        "{}",
        stderr(&run)
    );
    let records_short = format!("min-records={}", records + 1);
    let run = report(
        &out,
        "sample-logs",
        SAMPLE_WINDOW,
        &["--fail-on", "no-data", "--fail-on", &records_short],
    );
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    let verdicts = summary(&out)["fail_on"].clone();
    assert_eq!(verdicts[0]["crossed"], false);
    assert_eq!(verdicts[1]["crossed"], true);

    let bad = report(
        &out,
        "sample-logs",
        SAMPLE_WINDOW,
        &["--fail-on", "min-files=ten"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("min-files=10"), "{}", stderr(&bad));
}

#[test]
fn summary_json_names_only_files_that_exist_and_triage_json_is_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let run = report(&out, "sample-logs", SAMPLE_WINDOW, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let summary = summary(&out);
    let mut named = 0;
    for query in summary["queries"].as_array().unwrap() {
        match query.get("csv_file") {
            Some(csv) => {
                named += 1;
                assert!(
                    out.join(csv.as_str().unwrap()).is_file(),
                    "{csv} is missing"
                );
                assert!(query.get("not_run").is_none(), "{query}");
            }
            None => assert!(query["not_run"].is_string(), "{query}"),
        }
    }
    assert!(named > 2);
    // The article's query needs $arn: not run, so no CSV, and none named.
    assert!(!out.join("access-denied.csv").exists());

    let triage: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("triage.json")).unwrap()).unwrap();
    let explain = ctq(&[
        "explain",
        "-q",
        "--format",
        "json",
        "-s",
        "sample-logs",
        "--from",
        SAMPLE_WINDOW.0,
        "--to",
        SAMPLE_WINDOW.1,
    ]);
    assert_eq!(explain.status.code(), Some(0), "{}", stderr(&explain));
    let explain: serde_json::Value = serde_json::from_str(&stdout(&explain)).unwrap();
    for key in ["window", "denials", "excluded", "damaged_files"] {
        assert_eq!(triage[key], explain[key], "{key}");
    }
    // explain may show only the largest groups; triage.json has every one.
    let shown = explain["groups"].as_array().unwrap();
    let all = triage["groups"].as_array().unwrap();
    assert!(!shown.is_empty() && all.len() >= shown.len());
    let counted: u64 = all.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(triage["denials"].as_u64(), Some(counted));
    assert_eq!(
        triage["groups"].as_array().unwrap().len() as u64,
        summary["triage_groups"].as_u64().unwrap()
    );
}

/// Written into a test-only copy of the page (the page itself has no script): measures the
/// layout and leaves the result on `<body data-measured>` for `--dump-dom`.
const MEASURE: &str = r"<script>
const root = document.documentElement;
const width = root.clientWidth;
const wide = [...document.querySelectorAll('body *')]
  .filter(e => !e.parentElement.closest('.table-wrap, svg'))
  .filter(e => e.getBoundingClientRect().right > width + 0.5)
  .map(e => e.tagName + '#' + e.id + '.' + e.getAttribute('class'));
const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const labels = [...svg.querySelectorAll('.x-label')].map(t => {
    const r = t.getBoundingClientRect();
    return { text: t.textContent, left: r.left, right: r.right };
  });
  return { id: svg.id, left: box.left, right: box.right, labels };
});
const legend = [...document.querySelectorAll('#chart-principals .legend-item')]
  .map(g => g.getAttribute('data-series'));
document.body.setAttribute('data-measured', JSON.stringify({
  scrollWidth: root.scrollWidth, clientWidth: width, wide, charts, legend }));
</script>";

/// The page at `report` laid out `width` pixels wide, as measured by [`MEASURE`].
fn measure(browser: &Path, report: &Path, width: u32, scratch: &Path) -> serde_json::Value {
    let page = std::fs::read_to_string(report).unwrap();
    assert!(!page.to_ascii_lowercase().contains("<script"));
    let copy = scratch.join(format!("measured-{width}.html"));
    std::fs::write(&copy, page.replace("</body>", &format!("{MEASURE}</body>"))).unwrap();
    let output = headless(
        browser,
        &scratch.join("profile"),
        &[
            "--hide-scrollbars",
            &format!("--window-size={width},1200"),
            "--dump-dom",
            &format!("file://{}", copy.display()),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dom = stdout(&output);
    let start = dom.find("data-measured=\"").expect("the script ran") + "data-measured=\"".len();
    let value = &dom[start..start + dom[start..].find('"').unwrap()];
    let value = value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&value).unwrap()
}

/// Labels of one chart's x axis overlap, or leave the drawing.
fn label_trouble(chart: &serde_json::Value) -> Option<String> {
    let labels = chart["labels"].as_array().unwrap();
    let edge = |l: &serde_json::Value, k: &str| l[k].as_f64().unwrap();
    for label in labels {
        if edge(label, "left") < edge(chart, "left") - 0.5
            || edge(label, "right") > edge(chart, "right") + 0.5
        {
            return Some(format!("{label} leaves {}", chart["id"]));
        }
    }
    labels
        .windows(2)
        .find(|pair| edge(&pair[0], "right") > edge(&pair[1], "left"))
        .map(|pair| format!("{} overlaps {}", pair[0], pair[1]))
}

fn is_service(principal: &str) -> bool {
    !principal.starts_with("arn:") && principal.ends_with(".amazonaws.com")
}

#[test]
fn the_page_fits_a_wide_and_a_narrow_screen_and_names_the_top_principals() {
    let Some(browser) = chromium() else {
        skip("no chromium on PATH (apt-get install chromium): the page is not measured");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    ctq_trailgen::generate(&ctq_trailgen::Settings {
        out: trail.clone(),
        days: 1,
        files_per_hour: 2,
        mean_records: 60.0,
        denial_rate: 0.1,
        ..ctq_trailgen::Settings::default()
    })
    .unwrap();
    let out = dir.path().join("report");
    let run = report(
        &out,
        trail.to_str().unwrap(),
        ("2019-10-28T00:00:00Z", "2019-10-29T00:00:00Z"),
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let by_principal = std::fs::read_to_string(out.join("denials-by-principal.csv")).unwrap();
    let ranked: Vec<String> = by_principal
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .next()
                .unwrap()
                .trim_matches('"')
                .to_string()
        })
        .collect();
    assert!(ranked.len() > 12, "{by_principal}");
    let top: Vec<&String> = ranked.iter().filter(|p| !is_service(p)).take(3).collect();

    for width in [1400, 800] {
        let measured = measure(&browser, &out.join("report.html"), width, dir.path());
        assert!(
            measured["scrollWidth"].as_u64() <= measured["clientWidth"].as_u64(),
            "at {width} px the page scrolls sideways: {measured}"
        );
        assert_eq!(
            measured["wide"].as_array().unwrap().len(),
            0,
            "at {width} px: {}",
            measured["wide"]
        );
        let legend: Vec<&str> = measured["legend"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for principal in &top {
            assert!(
                legend.contains(&principal.as_str()),
                "{principal} not in {legend:?}"
            );
        }
        assert!(
            !legend.iter().any(|s| s.starts_with("other (")),
            "{legend:?}"
        );
        for chart in measured["charts"].as_array().unwrap() {
            assert_eq!(label_trouble(chart), None, "at {width} px");
        }
    }
}

/// The sixteen years of public trails in `../shared/realdata`: a time chart labelled by year,
/// labels apart, in a browser when there is one.
#[test]
fn a_sixteen_year_window_is_labelled_by_year() {
    let realdata = repo().join("../shared/realdata");
    if !realdata.is_dir() {
        skip("../shared/realdata is absent: the multi-year window is not rendered");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = report(
        &out,
        realdata.to_str().unwrap(),
        ("2009-01-01", "2026-01-01"),
        &["-q"],
    );
    assert!(matches!(run.status.code(), Some(0 | 3)), "{}", stderr(&run));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Denials over time by principal, per year"));
    let svg_start = page.find("<svg id=\"chart-principals\"").unwrap();
    let svg = &page[svg_start..svg_start + page[svg_start..].find("</svg>").unwrap()];
    let labels: Vec<&str> = svg
        .split("class=\"x-label\"")
        .skip(1)
        .map(|rest| {
            let text = &rest[rest.find('>').unwrap() + 1..];
            &text[..text.find('<').unwrap()]
        })
        .collect();
    assert!(labels.len() >= 3, "{labels:?}");
    assert!(
        labels
            .iter()
            .all(|l| l.len() == 4 && l.parse::<u16>().is_ok_and(|y| (2009..2026).contains(&y))),
        "{labels:?}"
    );
    let Some(browser) = chromium() else {
        skip("no chromium on PATH: the year labels are not measured");
        return;
    };
    for width in [1400, 800] {
        let measured = measure(&browser, &out.join("report.html"), width, dir.path());
        for chart in measured["charts"].as_array().unwrap() {
            assert_eq!(label_trouble(chart), None, "at {width} px");
        }
        assert!(
            measured["scrollWidth"].as_u64() <= measured["clientWidth"].as_u64(),
            "at {width} px: {}",
            measured["wide"]
        );
    }
}
