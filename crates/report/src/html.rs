//! `report.html`: one page that opens anywhere, offline, and prints.
//!
//! Everything is inline (CSS and SVG) and nothing runs: the page is mailed, archived and opened
//! from build artifacts, where scripts are blocked and the network may be out of reach.
//!
//! The page is a maud template, which escapes whatever is spliced into it. Only two splices are
//! not escaped, each marked `PreEscaped` with why it is safe: the page's own CSS and the SVG of
//! [`chart`], which escapes the labels it draws.

use std::collections::BTreeSet;

use ctq_denial::triage::{Excluded, Group};
use maud::{DOCTYPE, Markup, PreEscaped, Render, html};

#[cfg(test)]
use crate::chart::escape;
use crate::chart::{self, plural};
use crate::{Files, MAX_TABLE_ROWS, QueryTable, Report, fail_on::Verdict};

/// Series in the charts over time; the rest are counted in a note under the chart, not drawn.
const TOP_SERIES: usize = 8;
/// AWS service principals drawn in the chart by principal, in a group of their own.
const TOP_SERVICE_PRINCIPALS: usize = 3;
const TOP_ACTIONS: usize = 10;
/// Triage groups on the page: a window of thousands of distinct denials would make a page no one
/// reads and no browser opens quickly; `triage.json` has every group.
const MAX_GROUPS: usize = 100;

const STYLE: &str = r#"
:root {
  color-scheme: light;
  --ink: #1f2328;
  --muted: #59636e;
  --line: #d1d9e0;
  --panel: #f6f8fa;
  --accent: #0b5cad;
  --alert: #b42318;
  --alert-bg: #fdecea;
  --ok: #1a7f37;
  --next: #fff8c5;
  --next-line: #d4a72c;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  color: var(--ink);
  background: #fff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px;
  line-height: 1.5;
}
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 {
  font-size: 1.05rem;
  font-variant: small-caps;
  letter-spacing: 0.06em;
  text-transform: lowercase;
  color: var(--muted);
  border-bottom: 1px solid var(--line);
  padding-bottom: 4px;
  margin: 36px 0 12px;
}
h3 { font-size: 1.05rem; margin: 0 0 8px; }
code, pre, .mono {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.88em;
}
code { overflow-wrap: anywhere; }
a { color: var(--accent); }
header .meta { color: var(--muted); margin: 2px 0; }
.banner {
  background: var(--alert-bg);
  border: 2px solid var(--alert);
  color: var(--alert);
  border-radius: 6px;
  padding: 12px 16px;
  margin: 0 0 20px;
  font-weight: 600;
  font-size: 1.1rem;
}
.banner ul { margin: 6px 0 0; font-weight: 400; font-size: 0.95rem; }
.banner.no-data { background: var(--next); border-color: var(--next-line); color: #5c4300; }
.banner .why { display: block; font-weight: 400; font-size: 0.95rem; }
nav#contents {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 6px;
  padding: 8px 14px;
  margin: 20px 0 0;
}
nav#contents h2 { margin: 0 0 4px; border: none; padding: 0; }
nav#contents ol { margin: 0; padding-left: 20px; }
nav#contents ol.sub {
  list-style: none;
  padding-left: 0;
  display: flex;
  flex-wrap: wrap;
  gap: 0 16px;
  font-size: 0.88rem;
}
nav#contents li { overflow-wrap: anywhere; }
dl#figures {
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 10px;
  margin: 0;
}
dl#figures > div {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 6px;
  padding: 10px 12px;
}
dl#figures dt {
  font-size: 0.78rem;
  font-variant: small-caps;
  text-transform: lowercase;
  letter-spacing: 0.05em;
  color: var(--muted);
}
dl#figures dd {
  margin: 2px 0 0;
  font-size: 1.5rem;
  font-weight: 600;
  font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere;
}
dl#figures dd.text { font-size: 0.95rem; font-weight: 500; }
.note { color: var(--muted); font-size: 0.9rem; }
ul#verdicts { list-style: none; padding: 0; margin: 0; }
ul#verdicts li {
  border-left: 4px solid var(--line);
  padding: 4px 10px;
  margin: 4px 0;
  background: var(--panel);
}
ul#verdicts li.crossed { border-left-color: var(--alert); background: var(--alert-bg); }
ul#verdicts li.ok { border-left-color: var(--ok); }
.status { font-weight: 600; margin-right: 6px; }
li.crossed .status { color: var(--alert); }
li.ok .status { color: var(--ok); }
ul#damaged-files li { margin: 2px 0; }
figure { margin: 0 0 24px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg.chart { width: 100%; height: auto; display: block; }
details.cause, details.principal {
  border: 1px solid var(--line);
  border-radius: 6px;
  margin: 0 0 10px;
}
details.principal { margin: 8px 12px; }
details > summary {
  cursor: pointer;
  padding: 8px 12px;
  overflow-wrap: anywhere;
}
details.cause > summary { background: var(--panel); font-weight: 600; }
details.cause[open] > summary { border-bottom: 1px solid var(--line); }
summary .count { color: var(--muted); font-weight: 400; font-variant-numeric: tabular-nums; }
.shared-advice { margin: 0 12px 10px; }
.shared-advice .diagnosis { margin: 0 0 6px; }
article.group {
  border-top: 1px solid var(--line);
  padding: 10px 12px;
  margin: 0;
  break-inside: avoid;
}
article.group h3 .number { color: var(--muted); font-weight: 500; margin-right: 6px; }
article.group h3 .count { float: right; font-variant-numeric: tabular-nums; }
dl.facts {
  display: grid;
  grid-template-columns: max-content 1fr;
  gap: 2px 14px;
  margin: 0 0 10px;
}
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
.next-step {
  background: var(--next);
  border-left: 4px solid var(--next-line);
  padding: 8px 12px;
  margin: 10px 0;
  /* Commands carry long unbroken tokens (EC2's encoded authorization messages, ARNs). */
  overflow-wrap: anywhere;
}
.draft-label { margin: 10px 0 4px; font-size: 0.9rem; color: var(--muted); }
pre {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 4px;
  padding: 10px;
  overflow-x: auto;
  margin: 0;
}
section.query { margin: 0 0 28px; }
details.finding { border: 1px solid #ddd; border-left: 4px solid #999; border-radius: 4px; padding: 6px 10px; margin: 0 0 10px; }
details.finding.high { border-left-color: #b3261e; }
details.finding.medium { border-left-color: #c77700; }
details.finding summary { cursor: pointer; overflow-wrap: anywhere; }
details.finding .severity { text-transform: uppercase; font-weight: 600; font-size: 0.85em; }
details.finding dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; margin: 8px 0 0; }
details.finding dt { color: #555; }
details.finding dd { margin: 0; overflow-wrap: anywhere; }
/* A table scrolls inside its own box, never the page: at most most of a screen tall, with its
   header and first column held in place while it scrolls. */
.table-wrap {
  overflow: auto;
  max-width: 100%;
  max-height: 70vh;
  border: 1px solid var(--line);
  border-radius: 4px;
}
table.query { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
table.query th, table.query td {
  padding: 4px 10px;
  text-align: left;
  vertical-align: top;
  white-space: nowrap;
}
table.query thead th {
  background: var(--panel);
  border-bottom: 1px solid var(--line);
  font-variant: small-caps;
  text-transform: lowercase;
  letter-spacing: 0.04em;
  position: sticky;
  top: 0;
}
table.query thead th { z-index: 2; }
table.query th:first-child, table.query td:first-child {
  position: sticky;
  left: 0;
  z-index: 1;
  background: #fff;
  box-shadow: inset -1px 0 0 var(--line);
  /* A long ARN wraps here rather than holding most of a narrow screen. */
  white-space: normal;
  overflow-wrap: anywhere;
  min-width: 12em;
  max-width: 24em;
}
table.query thead th:first-child { z-index: 3; background: var(--panel); }
table.query tbody tr:nth-child(even), table.query tbody tr:nth-child(even) td:first-child {
  background: #f9fafb;
}
table.query td.null { background: repeating-linear-gradient(135deg, transparent 0 4px, #eef0f2 4px 5px); }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85rem; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .banner, ul#verdicts li, .next-step, table.query tbody tr:nth-child(even) {
    -webkit-print-color-adjust: exact;
    print-color-adjust: exact;
  }
  .table-wrap { overflow: visible; max-height: none; border: none; }
  nav#contents { display: none; }
  table.query th:first-child, table.query td:first-child { position: static; }
  table.query th, table.query td { white-space: normal; overflow-wrap: anywhere; }
  table.query thead th { position: static; }
  figure, section.query h3 { break-inside: avoid; break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The whole page, as UTF-8 text.
pub fn render_html(report: &Report) -> String {
    // The line breaks between elements keep the page's source readable; they are not shown.
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8";
                "\n"
                meta name="viewport" content="width=device-width, initial-scale=1";
                "\n"
                title {
                    "ctq report: " (Text(&report.window.from)) " to " (Text(&report.window.to))
                }
                "\n"
                // Safe unescaped: STYLE is this file's own constant CSS, no data in it; escaping
                // would break it, since a style element's text is not decoded (`"`, `>`).
                style { (PreEscaped(STYLE)) }
                "\n"
            }
            "\n"
            body {
                "\n"
                main {
                    "\n"
                    (no_data_banner(report))
                    (attention_banner(&report.verdicts))
                    (header(report))
                    (contents(report))
                    (figures(report))
                    (verdicts(&report.verdicts))
                    (suspicious_activity(report))
                    (damaged_files(&report.files))
                    (charts(report))
                    (triage(&report.triage, &report.excluded))
                    (queries(&report.queries))
                    footer {
                        "Made by ctq. Times are UTC. Every figure comes from the records read; \
                         the CSV files next to this page hold the full query results."
                    }
                    "\n"
                }
                "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// Text from the data (principals, ARNs, messages, file names, cells), escaped by maud (`&`, `<`,
/// `>`, `"`) with `'` written as `&#39;` too, as the SVG of [`chart`] writes it: the same text is
/// spelled the same way in the charts and the rest of the page. A value spliced without it is
/// still escaped by maud, its `'` aside (harmless: maud quotes attributes with `"`).
struct Text<'a>(&'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        let mut parts = self.0.split('\'');
        if let Some(first) = parts.next() {
            first.render_to(buffer);
        }
        for part in parts {
            buffer.push_str("&#39;");
            part.render_to(buffer);
        }
    }
}

fn attention_banner(verdicts: &[Verdict]) -> Markup {
    let crossed: Vec<&Verdict> = verdicts.iter().filter(|v| v.crossed).collect();
    html! {
        @if !crossed.is_empty() {
            div class="banner" id="needs-attention" role="alert" {
                "Needs attention: "
                (plural(crossed.len() as u64, "--fail-on rule", "--fail-on rules"))
                " crossed\n"
                ul {
                    @for verdict in crossed {
                        li { code { (Text(&verdict.rule)) } ": " (Text(&verdict.detail)) }
                    }
                }
            }
            "\n"
        }
    }
}

fn header(report: &Report) -> Markup {
    let time = |time: &str| html! { time datetime=(Text(time)) { (Text(time)) } };
    html! {
        header {
            "\n"
            h1 { "ctq report" }
            "\n"
            p class="meta" id="window" {
                "Window: " (time(&report.window.from)) " to " (time(&report.window.to))
                " (UTC, end excluded)"
            }
            "\n"
            p class="meta" id="source" { "Source: " code { (Text(&report.source)) } }
            "\n"
            p class="meta" id="generated-at" { "Generated at " (time(&report.generated_at)) }
            "\n"
        }
        "\n"
    }
}

fn figure(id: &str, label: &str, value: &str) -> Markup {
    html! {
        div { dt { (Text(label)) } dd id=(Text(id)) { (Text(value)) } }
        "\n"
    }
}

fn figures(report: &Report) -> Markup {
    let principals: BTreeSet<&str> = report
        .denials
        .iter()
        .map(|d| d.principal.as_str())
        .collect();
    let explicit = report.denials.iter().filter(|d| d.explicit).count();
    let files = &report.files;
    html! {
        section id="summary" {
            "\n"
            h2 { "Key figures" }
            "\n"
            dl id="figures" {
                "\n"
                (figure("denials", "Denials", &report.denials.len().to_string()))
                (figure("explicit-denials", "Explicit denials", &explicit.to_string()))
                (figure("principals", "Principals", &principals.len().to_string()))
                (figure("triage-groups", "Triage groups", &report.triage.len().to_string()))
                @match &files.store {
                    // A store has no log files: its name says what was read, and the file figures
                    // stay for whoever reads the page by id, at zero.
                    Some(store) => {
                        div { dt { "Store" } dd id="store" class="text" { code { (Text(store)) } } }
                        "\n"
                        (figure("files-read", "Files read", "0"))
                        (figure("files-skipped", "Files skipped", "0"))
                        (figure("files-damaged", "Files damaged", "0"))
                    }
                    None => {
                        (figure("files-read", "Files read", &files.read.to_string()))
                        (figure("files-skipped", "Files skipped", &files.skipped.to_string()))
                        (figure("files-damaged", "Files damaged", &files.damaged.len().to_string()))
                    }
                }
                (figure("records", "Events in the window", &files.events_in_window.to_string()))
                (figure("duration", "Duration", &duration(report.duration_ms)))
            }
            "\n"
            p class="note" {
                "Denials counts every denial record read, duplicate deliveries included, as the \
                 saved queries do; the triage groups count each event once."
            }
            "\n"
        }
        "\n"
    }
}

fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

fn verdicts(verdicts: &[Verdict]) -> Markup {
    html! {
        section id="fail-on" {
            "\n"
            h2 { "--fail-on rules" }
            "\n"
            @if verdicts.is_empty() {
                p id="no-verdicts" { "No --fail-on rule set." }
                "\n"
            } @else {
                ul id="verdicts" {
                    "\n"
                    @for verdict in verdicts {
                        @let status = if verdict.crossed { "crossed" } else { "ok" };
                        li class=(status) data-rule=(Text(&verdict.rule)) {
                            span class="status" { (status) }
                            code { (Text(&verdict.rule)) }
                            ": " (Text(&verdict.detail))
                        }
                        "\n"
                    }
                }
                "\n"
            }
        }
        "\n"
    }
}

/// The hunting rules' findings: one collapsible block each, the high ones open.
fn suspicious_activity(report: &Report) -> Markup {
    html! {
        section id="suspicious" {
            "\n"
            h2 { "Suspicious activity" }
            "\n"
            @if let Some(reason) = &report.hunt_not_run {
                p id="hunt-not-run" { "Not run: " (Text(reason)) }
                "\n"
            } @else if report.findings.is_empty() {
                p id="no-findings" {
                    "No finding: none of the " (report.hunt_rules.len())
                    " hunting rules matched in this window (see docs/hunt.md)."
                }
                "\n"
            } @else {
                p class="note" {
                    "Patterns of denials that attackers leave (ctq hunt). Each says what was seen, \
                     the evidence, and what to check first."
                }
                "\n"
                @for finding in &report.findings {
                    @let severity = finding.severity.as_str();
                    details class={ "finding " (severity) } open[finding.severity == ctq_hunt::Severity::High]
                        data-rule=(Text(&finding.rule)) {
                        summary {
                            span class="severity" { (severity) }
                            " " code { (Text(&finding.rule)) } " "
                            span class="principal" { (Text(&finding.principal)) }
                        }
                        dl {
                            dt { "What" } dd { (Text(&finding.detail)) }
                            @if let Some(issuer) = &finding.issuer {
                                dt { "Issued by" } dd { code { (Text(issuer)) } }
                            }
                            dt { "Seen" }
                            dd {
                                (Text(&finding.first_seen)) " to " (Text(&finding.last_seen))
                                ", " (finding.events) " events (" (finding.denied) " denied)"
                            }
                            dt { "Actions" } dd { (Text(&ctq_hunt::list(&finding.actions))) }
                            dt { "Source IPs" } dd { (Text(&ctq_hunt::list(&finding.source_ips))) }
                            dt { "User agents" } dd { (Text(&ctq_hunt::list(&finding.user_agents))) }
                            dt { "Events" } dd { code { (Text(&finding.sample_event_ids.join(", "))) } }
                            dt { "Next step" } dd { (Text(&finding.next_step)) }
                        }
                    }
                    "\n"
                }
            }
        }
        "\n"
    }
}

fn damaged_files(files: &Files) -> Markup {
    html! {
        @if !files.damaged.is_empty() {
            section id="damaged" {
                "\n"
                h2 { "Damaged files" }
                "\n"
                p {
                    (plural(files.damaged.len() as u64, "file", "files"))
                    " could not be read; "
                    (if files.damaged.len() == 1 { "its" } else { "their" })
                    " records are missing from every figure in this report."
                }
                "\n"
                ul id="damaged-files" {
                    "\n"
                    @for file in &files.damaged {
                        li { code { (Text(&file.path)) } ": " (Text(&file.reason)) }
                        "\n"
                    }
                }
                "\n"
            }
            "\n"
        }
    }
}

fn no_data_banner(report: &Report) -> Markup {
    html! {
        @if let Some(reason) = report.no_data() {
            div class="banner no-data" id="no-data" role="alert" {
                "No data: " (Text(&reason)) "."
                span class="why" {
                    "Every figure below is zero because nothing was read, not because nothing \
                     was denied: check the source and the window."
                }
            }
            "\n"
        }
    }
}

/// Links to the sections, the causes of the triage and the saved queries.
fn contents(report: &Report) -> Markup {
    let causes = causes(&report.triage);
    html! {
        nav id="contents" aria-label="Contents" {
            "\n"
            h2 { "Contents" }
            "\n"
            ol {
                li { a href="#summary" { "Key figures" } }
                li { a href="#fail-on" { "--fail-on rules" } }
                li {
                    a href="#suspicious" { "Suspicious activity" }
                    " (" (report.findings.len()) ")"
                }
                @if !report.files.damaged.is_empty() {
                    li { a href="#damaged" { "Damaged files" } }
                }
                li { a href="#charts" { "Charts" } }
                li {
                    a href="#triage" { "Triage" }
                    @if !causes.is_empty() {
                        ol class="sub" {
                            @for (index, cause) in causes.iter().enumerate() {
                                li {
                                    a href={ "#cause-" (index + 1) } { (Text(cause.summary)) }
                                    " (" (cause.count) ")"
                                }
                            }
                        }
                    }
                }
                li {
                    a href="#queries" { "Saved queries" }
                    @if !report.queries.is_empty() {
                        ol class="sub" {
                            @for table in &report.queries {
                                li {
                                    a href=(Text(&format!("#section-query-{}", href(&table.name)))) {
                                        (Text(&table.name))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            "\n"
        }
        "\n"
    }
}

/// A principal AWS services act as (`invokedBy`, such as `ec2.amazonaws.com`), not a person or a
/// role of the account: drawn apart from the others.
pub(crate) fn is_service_principal(principal: &str) -> bool {
    !principal.starts_with("arn:")
        && (principal.ends_with(".amazonaws.com")
            || principal.ends_with(".amazonaws.com.cn")
            || principal == "AWS Internal")
}

fn charts(report: &Report) -> Markup {
    let rows = &report.denials;
    let by_principal = chart::stacked(
        rows,
        |row| row.principal.clone(),
        &report.window,
        chart::Selection {
            top: TOP_SERIES,
            top_apart: TOP_SERVICE_PRINCIPALS,
            apart: &is_service_principal,
        },
    );
    let by_service = chart::stacked(
        rows,
        |row| row.service.clone(),
        &report.window,
        chart::Selection::top(TOP_SERIES),
    );
    let actions = chart::top_actions(rows, TOP_ACTIONS);
    let per = by_principal.bucket.per();
    let over_time = [
        (
            "chart-principals",
            "Denials over time by principal",
            &by_principal,
            ("principal", "principals", "denials-by-principal.csv"),
        ),
        (
            "chart-services",
            "Denials over time by service",
            &by_service,
            ("service", "services", ""),
        ),
    ];
    let in_window = |time: i64| time >= report.window.from_ms && time < report.window.to_ms;
    let undrawn = rows
        .iter()
        .filter(|row| !row.time_ms.is_some_and(in_window))
        .count();
    html! {
        section id="charts" {
            "\n"
            h2 { "Charts" }
            "\n"
            @for (id, title, data, (one, many, csv)) in over_time {
                figure {
                    "\n"
                    figcaption { (title) ", " (per) }
                    "\n"
                    // Safe unescaped: ctq's own SVG markup, made by `chart`, which escapes every
                    // label, title and id it puts in it (`chart::escape`).
                    (PreEscaped(chart::stacked_bars_svg(id, title, data, "AWS service principals")))
                    "\n"
                    @if data.not_drawn.keys > 0 {
                        p class="note not-drawn" data-keys=(data.not_drawn.keys)
                            data-denials=(data.not_drawn.rows) {
                            (plural(data.not_drawn.keys as u64, &format!("more {one}"), &format!("more {many}")))
                            ", "
                            (plural(data.not_drawn.rows, "denial", "denials"))
                            ", not drawn"
                            @if !csv.is_empty() {
                                "; " a href=(csv) { (csv) } " has every " (one)
                            }
                            "."
                        }
                        "\n"
                    }
                }
                "\n"
            }
            figure {
                "\n"
                figcaption { "Top denied actions" }
                "\n"
                // Safe unescaped: as above.
                (PreEscaped(chart::horizontal_bars_svg("chart-actions", "Top denied actions", &actions)))
                "\n"
            }
            "\n"
            @if undrawn > 0 {
                p class="note" id="undrawn" {
                    (plural(undrawn as u64, "denial", "denials"))
                    " without a readable time inside the window "
                    (if undrawn == 1 { "is" } else { "are" })
                    " not drawn over time; the top actions count them."
                }
                "\n"
            }
        }
        "\n"
    }
}

/// The triage groups of one cause, by principal.
struct Cause<'a> {
    summary: &'a str,
    count: u64,
    principals: Vec<Principal<'a>>,
}

struct Principal<'a> {
    name: &'a str,
    count: u64,
    /// The groups, each with its rank in the whole triage (its number on the page).
    groups: Vec<(usize, &'a Group)>,
}

/// The groups shown on the page (the [`MAX_GROUPS`] most frequent) by cause, then principal,
/// most denials first; groups keep their rank, so `#group-1` is the most frequent wherever it
/// sits.
fn causes(groups: &[Group]) -> Vec<Cause<'_>> {
    let mut causes: Vec<Cause> = Vec::new();
    for (index, group) in groups.iter().take(MAX_GROUPS).enumerate() {
        let position = causes
            .iter()
            .position(|c| c.summary == group.cause_summary)
            .unwrap_or_else(|| {
                causes.push(Cause {
                    summary: &group.cause_summary,
                    count: 0,
                    principals: Vec::new(),
                });
                causes.len() - 1
            });
        let cause = &mut causes[position];
        cause.count += group.count;
        let position = cause
            .principals
            .iter()
            .position(|p| p.name == group.principal)
            .unwrap_or_else(|| {
                cause.principals.push(Principal {
                    name: &group.principal,
                    count: 0,
                    groups: Vec::new(),
                });
                cause.principals.len() - 1
            });
        let principal = &mut cause.principals[position];
        principal.count += group.count;
        principal.groups.push((index + 1, group));
    }
    // Stable: equal counts keep the order of their most frequent group.
    causes.sort_by_key(|c| std::cmp::Reverse(c.count));
    for cause in &mut causes {
        cause.principals.sort_by_key(|p| std::cmp::Reverse(p.count));
    }
    causes
}

fn triage(groups: &[Group], excluded: &Excluded) -> Markup {
    let causes = causes(groups);
    html! {
        section id="triage" {
            "\n"
            h2 { "Triage" }
            "\n"
            @if groups.is_empty() {
                p id="no-groups" { "No denials in this window." }
                "\n"
            } @else {
                p class="note" {
                    (plural(groups.len().min(MAX_GROUPS) as u64, "group", "groups"))
                    " of denials by cause, then principal, most denials first; open one to see \
                     what was denied and what to do."
                }
                "\n"
            }
            @for (index, cause) in causes.iter().enumerate() {
                details class="cause" id={ "cause-" (index + 1) } open[index == 0] {
                    "\n"
                    summary {
                        (Text(cause.summary))
                        " "
                        span class="count" {
                            (plural(cause.count, "denial", "denials")) ", "
                            (plural(cause.principals.len() as u64, "principal", "principals"))
                        }
                    }
                    "\n"
                    @for (rank, principal) in cause.principals.iter().enumerate() {
                        (principal_details(principal, index == 0 && rank == 0))
                    }
                }
                "\n"
            }
            @if groups.len() > MAX_GROUPS {
                p class="note" id="groups-cut" {
                    "The " (MAX_GROUPS) " most frequent of " (groups.len()) " groups are shown; "
                    a href="triage.json" { "triage.json" }
                    " has them all."
                }
                "\n"
            }
            (excluded_line(excluded))
        }
        "\n"
    }
}

/// One principal's groups under a cause. Advice the groups share is given once, above them.
fn principal_details(principal: &Principal, open: bool) -> Markup {
    let advice = |group: &Group| {
        (
            group.advice.cause.clone(),
            group.advice.next_step.clone(),
            group.advice.draft_policy.clone(),
        )
    };
    let first = principal.groups.first().map(|(_, g)| advice(g));
    let shared = first.filter(|first| principal.groups.iter().all(|(_, g)| advice(g) == *first));
    html! {
        details class="principal" data-principal=(Text(principal.name)) open[open] {
            "\n"
            summary {
                code { (Text(principal.name)) }
                " "
                span class="count" {
                    (plural(principal.count, "denial", "denials")) ", "
                    (plural(principal.groups.len() as u64, "group", "groups"))
                }
            }
            "\n"
            @if let Some((diagnosis, next_step, draft)) = &shared {
                div class="shared-advice" {
                    p class="diagnosis" { (Text(diagnosis)) }
                    (next_step_block(next_step, draft.as_deref()))
                }
                "\n"
            }
            @for (number, group) in &principal.groups {
                (group_article(*number, group, shared.is_none()))
            }
        }
        "\n"
    }
}

fn next_step_block(next_step: &str, draft: Option<&str>) -> Markup {
    html! {
        div class="next-step" {
            strong { "Next step:" } " " (Text(next_step))
        }
        "\n"
        @if let Some(draft) = draft {
            p class="draft-label" { "Draft policy: a draft to review, not to apply as is" }
            "\n"
            pre class="draft-policy" { (Text(draft)) }
            "\n"
        }
    }
}

/// Each item in `<code>`, comma-separated; `(none)` for none.
fn code_list<'a>(items: impl IntoIterator<Item = &'a String>) -> Markup {
    let mut items = items.into_iter().peekable();
    html! {
        @if items.peek().is_none() {
            "(none)"
        }
        @for (index, item) in items.enumerate() {
            @if index > 0 {
                ", "
            }
            code { (Text(item)) }
        }
    }
}

/// One group: what was denied, where, when; its advice unless its principal's block gives it.
fn group_article(number: usize, group: &Group, with_advice: bool) -> Markup {
    let seen = |time: &Option<String>| {
        html! {
            @match time {
                Some(time) => time datetime=(Text(time)) { (Text(time)) },
                None => "(unknown)",
            }
        }
    };
    html! {
        article class="group" id={ "group-" (number) } data-principal=(Text(&group.principal))
            data-count=(group.count) {
            "\n"
            h3 {
                span class="number" { "#" (number) }
                code { (Text(&group.action)) }
                span class="count" { (plural(group.count, "denial", "denials")) }
            }
            "\n"
            dl class="facts" {
                "\n"
                dt { "Principal" } dd { code { (Text(&group.principal)) } } "\n"
                dt { "Action" } dd { code { (Text(&group.action)) } } "\n"
                dt { "Resource" }
                dd {
                    @match &group.resource {
                        Some(resource) => code { (Text(resource)) },
                        None => "(not named)",
                    }
                }
                "\n"
                @if let Some(arn) = &group.policy_arn {
                    dt { "Policy" } dd { code { (Text(arn)) } } "\n"
                }
                dt { "Count" } dd class="count" { (group.count) } "\n"
                dt { "First seen" } dd { (seen(&group.first_seen)) } "\n"
                dt { "Last seen" } dd { (seen(&group.last_seen)) } "\n"
                dt { "Error codes" } dd { (code_list(&group.error_codes)) } "\n"
                dt { "Services" } dd { (code_list(&group.services)) } "\n"
                dt { "Sample event IDs" } dd { (code_list(&group.sample_event_ids)) } "\n"
                @if with_advice {
                    dt { "Diagnosis" } dd class="diagnosis" { (Text(&group.advice.cause)) } "\n"
                }
            }
            "\n"
            @if with_advice {
                (next_step_block(&group.advice.next_step, group.advice.draft_policy.as_deref()))
            }
        }
        "\n"
    }
}

fn excluded_line(excluded: &Excluded) -> Markup {
    let Excluded {
        not_denials,
        duplicates,
        service_calls,
        console_browsing,
        suppressed,
        ..
    } = *excluded;
    let nothing = [
        not_denials,
        duplicates,
        service_calls,
        console_browsing,
        suppressed,
    ]
    .iter()
    .all(|&n| n == 0);
    html! {
        @if !nothing {
            p class="note" id="excluded" {
                "Left out of the groups: "
                span data-excluded="duplicates" {
                    (plural(duplicates, "duplicate delivery", "duplicate deliveries"))
                }
                ", "
                span data-excluded="service-calls" {
                    (plural(service_calls, "AWS service call", "AWS service calls"))
                }
                ", "
                span data-excluded="console-page-loads" {
                    (plural(console_browsing, "console page load", "console page loads"))
                }
                ", "
                span data-excluded="suppressed" { (suppressed) " suppressed" }
                ", "
                span data-excluded="not-denials" {
                    (plural(
                        not_denials,
                        "record that was not a denial",
                        "records that were not denials",
                    ))
                }
                "."
            }
            "\n"
        }
    }
}

fn queries(tables: &[QueryTable]) -> Markup {
    html! {
        section id="queries" {
            "\n"
            h2 { "Saved queries" }
            "\n"
            @if tables.is_empty() {
                p { "No saved query was run." }
                "\n"
            }
            @for table in tables {
                (query_section(table))
            }
        }
        "\n"
    }
}

fn query_section(table: &QueryTable) -> Markup {
    let name = Text(&table.name);
    let shown = table.rows.len().min(MAX_TABLE_ROWS);
    html! {
        section class="query" id={ "section-query-" (name) } {
            "\n"
            h3 {
                code { (name) }
                @if !table.title.is_empty() {
                    ": " (Text(&table.title))
                }
            }
            "\n"
            @if let Some(reason) = &table.not_run {
                p class="not-run" { "Not run: " (Text(reason)) }
                "\n"
            } @else {
                p class="note" {
                    @if let Some(csv) = table.csv_file.as_deref().filter(|f| is_relative_file(f)) {
                        a href=(Text(&href(csv))) { (Text(csv)) }
                        ", "
                    }
                    @if shown < table.row_count {
                        span class="truncated" {
                            "first " (shown) " of " (table.row_count) " rows; the CSV has all"
                        }
                    } @else {
                        (plural(table.row_count as u64, "row", "rows"))
                    }
                }
                "\n"
                div class="table-wrap" {
                    table id={ "query-" (name) } class="query" {
                        "\n"
                        thead {
                            tr {
                                @for column in &table.columns {
                                    th scope="col" { (Text(column)) }
                                }
                            }
                        }
                        "\n"
                        tbody {
                            "\n"
                            @for row in table.rows.iter().take(shown) {
                                tr {
                                    @for cell in row {
                                        @match cell {
                                            Some(text) => td { (Text(text)) },
                                            None => td class="null" {},
                                        }
                                    }
                                }
                                "\n"
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
        }
        "\n"
    }
}

/// The CSV sits next to the page; anything that could point elsewhere is shown, not linked.
fn is_relative_file(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(':')
        && !name.starts_with('/')
        && !name.starts_with('\\')
        && !name.split(['/', '\\']).any(|part| part == "..")
}

/// Percent-encodes what would end a relative URL's path early or be read as an escape.
fn href(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '%' => encoded.push_str("%25"),
            ' ' => encoded.push_str("%20"),
            '#' => encoded.push_str("%23"),
            '?' => encoded.push_str("%3F"),
            c => encoded.push(c),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use ctq_denial::triage::{Event, Noise, Suppressions, Triage};

    use super::*;
    use crate::{DamagedFile, DenialRow, Window};

    const EVIL: &str = "arn:aws:iam::111122223333:user/<script>alert(1)</script>";
    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    fn event(id: &str, time: &str, who: &str, message: &str) -> Event {
        Event {
            event_time: Some(time.into()),
            event_id: Some(id.into()),
            event_source: Some("s3.amazonaws.com".into()),
            event_name: Some("GetObject".into()),
            error_code: Some("AccessDenied".into()),
            error_message: Some(message.into()),
            principal_arn: Some(who.into()),
            resource_arn: Some("arn:aws:s3:::bucket/key".into()),
            ..Event::default()
        }
    }

    fn row(time_ms: i64, principal: &str, explicit: bool) -> DenialRow {
        DenialRow {
            time_ms: Some(time_ms),
            principal: principal.to_string(),
            service: "s3.amazonaws.com".to_string(),
            action: "GetObject".to_string(),
            error_code: "AccessDenied".to_string(),
            explicit,
        }
    }

    /// 2019-10-29T00:00:00Z.
    const FROM_MS: i64 = 1_572_307_200_000;
    const HOUR_MS: i64 = 3_600_000;

    fn report() -> Report {
        let explicit = format!(
            "User: {EVIL} is not authorized to perform: s3:GetObject on resource: \
             arn:aws:s3:::bucket/key with an explicit deny in an identity-based policy"
        );
        let implicit = format!(
            "User: {ALICE} is not authorized to perform: s3:GetObject on resource: \
             arn:aws:s3:::bucket/key because no identity-based policy allows the s3:GetObject action"
        );
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
        triage.add(&event("e1", "2019-10-29T01:00:00Z", EVIL, &explicit));
        triage.add(&event("e2", "2019-10-29T02:00:00Z", EVIL, &explicit));
        triage.add(&event("e2", "2019-10-29T02:00:00Z", EVIL, &explicit));
        triage.add(&event("a1", "2019-10-29T03:00:00Z", ALICE, &implicit));
        let (groups, excluded) = triage.finish();
        assert_eq!(groups.len(), 2, "{groups:#?}");

        Report {
            generated_at: "2019-10-30T00:05:00Z".to_string(),
            window: Window {
                from: "2019-10-29T00:00:00Z".to_string(),
                to: "2019-10-30T00:00:00Z".to_string(),
                from_ms: FROM_MS,
                to_ms: FROM_MS + 24 * HOUR_MS,
            },
            source: "s3://trail-bucket/AWSLogs/".to_string(),
            files: Files {
                read: 7,
                skipped: 2,
                events_in_window: 120,
                damaged: vec![DamagedFile {
                    path: "logs/broken & <bad>.json.gz".to_string(),
                    reason: "unexpected end of file".to_string(),
                }],
                store: None,
            },
            denials: vec![
                row(FROM_MS + HOUR_MS, EVIL, true),
                row(FROM_MS + 2 * HOUR_MS, EVIL, true),
                row(FROM_MS + 2 * HOUR_MS, EVIL, true),
                row(FROM_MS + 3 * HOUR_MS, ALICE, false),
            ],
            triage: groups,
            excluded,
            findings: Vec::new(),
            hunt_rules: Vec::new(),
            hunt_not_run: None,
            queries: vec![
                QueryTable {
                    name: "denials-by-principal".to_string(),
                    title: "Denials by principal".to_string(),
                    csv_file: Some("denials-by-principal.csv".to_string()),
                    columns: vec!["principal".to_string(), "denials".to_string()],
                    rows: vec![
                        vec![Some(EVIL.to_string()), Some("3".to_string())],
                        vec![None, Some("1".to_string())],
                    ],
                    row_count: 2,
                    not_run: None,
                },
                QueryTable {
                    name: "by-principal".to_string(),
                    title: "One principal".to_string(),
                    csv_file: Some("by-principal.csv".to_string()),
                    columns: vec![],
                    rows: vec![],
                    row_count: 0,
                    not_run: Some("needs --param principal=ARN".to_string()),
                },
            ],
            verdicts: vec![
                Verdict {
                    rule: "explicit-deny".to_string(),
                    crossed: true,
                    detail: "3 explicit denials".to_string(),
                },
                Verdict {
                    rule: "denials>10".to_string(),
                    crossed: false,
                    detail: "4 denials".to_string(),
                },
            ],
            duration_ms: 1_250,
        }
    }

    /// The text of the element with `id`, up to its closing tag.
    fn text_of<'a>(page: &'a str, id: &str) -> &'a str {
        let start = page
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no element with id {id}"));
        let rest = &page[start..];
        let open_end = rest.find('>').expect("the tag closes") + 1;
        let rest = &rest[open_end..];
        &rest[..rest.find("</").expect("the element closes")]
    }

    #[test]
    fn a_script_in_a_principal_is_shown_as_text() {
        let page = render_html(&report());
        assert!(!page.to_ascii_lowercase().contains("<script"));
        assert!(
            page.contains("arn:aws:iam::111122223333:user/&lt;script&gt;alert(1)&lt;/script&gt;")
        );
        assert!(page.contains(
            "data-principal=\"arn:aws:iam::111122223333:user/&lt;script&gt;alert(1)&lt;/script&gt;\""
        ));
        assert!(page.contains("<code>logs/broken &amp; &lt;bad&gt;.json.gz</code>"));
    }

    #[test]
    fn the_page_reaches_for_nothing_on_the_network() {
        let page = render_html(&report());
        let svg_namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
        let without_namespace = page.replace(svg_namespace, "");
        assert_eq!(page.matches(svg_namespace).count(), 3);
        assert!(!without_namespace.contains("http://"));
        assert!(!without_namespace.contains("https://"));
        assert!(!without_namespace.contains("<link"));
        assert!(!without_namespace.contains("<img"));
        assert!(!without_namespace.contains("url("));
        assert!(!without_namespace.contains("@import"));
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<meta charset=\"utf-8\">"));
        assert!(page.contains("<meta name=\"viewport\""));
        assert!(
            page.contains(
                "<title>ctq report: 2019-10-29T00:00:00Z to 2019-10-30T00:00:00Z</title>"
            )
        );
    }

    #[test]
    fn the_figures_equal_the_inputs() {
        let report = report();
        let page = render_html(&report);
        assert_eq!(text_of(&page, "denials"), "4");
        assert_eq!(text_of(&page, "explicit-denials"), "3");
        assert_eq!(text_of(&page, "principals"), "2");
        assert_eq!(text_of(&page, "triage-groups"), "2");
        assert_eq!(text_of(&page, "files-read"), "7");
        assert_eq!(text_of(&page, "files-skipped"), "2");
        assert_eq!(text_of(&page, "files-damaged"), "1");
        assert_eq!(text_of(&page, "records"), "120");
        assert_eq!(text_of(&page, "duration"), "1.2 s");
        for id in [
            "figures",
            "verdicts",
            "needs-attention",
            "damaged-files",
            "chart-principals",
            "chart-services",
            "chart-actions",
            "triage",
            "query-denials-by-principal",
        ] {
            assert!(page.contains(&format!("id=\"{id}\"")), "no id {id}");
        }

        // The triage counts each delivery once: the duplicate e2 is left out.
        assert!(page.contains(&format!(
            "<article class=\"group\" id=\"group-1\" data-principal=\"{}\" data-count=\"2\">",
            escape(EVIL)
        )));
        assert!(page.contains(&format!(
            "<article class=\"group\" id=\"group-2\" data-principal=\"{ALICE}\" data-count=\"1\">"
        )));
        assert_eq!(page.matches("<article class=\"group\"").count(), 2);
        assert!(page.contains("<code>e1</code>, <code>e2</code>"));
        assert!(page.contains(&escape(&report.triage[0].advice.next_step)));
        assert!(page.contains("<span data-excluded=\"duplicates\">1 duplicate delivery</span>"));
        assert!(
            page.contains("Draft policy: a draft to review, not to apply as is")
                == report
                    .triage
                    .iter()
                    .any(|g| g.advice.draft_policy.is_some())
        );

        // Both series of the chart by principal, with every in-window row.
        assert!(page.contains(&format!(
            "<g class=\"legend-item\" data-series=\"{}\" data-total=\"3\">",
            escape(EVIL)
        )));
        assert!(page.contains(&format!(
            "<g class=\"legend-item\" data-series=\"{ALICE}\" data-total=\"1\">"
        )));
        assert!(page.contains("<rect class=\"bar\" data-label=\"s3:GetObject\" data-count=\"4\""));
    }

    /// Markup-like text in a field of the data, written with the field's name before it.
    fn hostile(field: &str) -> String {
        format!("{field}<script>alert(\"x\")</script>'q'&</textarea>")
    }

    /// [`hostile`] as the page must show it: as text.
    fn shown(field: &str) -> String {
        format!(
            "{field}&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;q&#39;&amp;&lt;/textarea&gt;"
        )
    }

    /// A report with [`hostile`] text in every field that comes from the data.
    fn hostile_report() -> Report {
        let principal = format!("arn:aws:iam::111122223333:user/{}", hostile("principal"));
        let resource = format!("arn:aws:s3:::bucket/{}", hostile("resource"));
        let message = format!(
            "User: {principal} is not authorized to perform: s3:{} on resource: {resource} \
             with an explicit deny in a service control policy: \
             arn:aws:organizations::111122223333:policy/{}",
            hostile("action"),
            hostile("message")
        );
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
        triage.add(&Event {
            event_name: Some(hostile("action")),
            resource_arn: Some(resource.clone()),
            ..event(
                &hostile("event-id"),
                "2019-10-29T01:00:00Z",
                &principal,
                &message,
            )
        });
        let (groups, excluded) = triage.finish();
        let mut report = report();
        report.triage = groups;
        report.excluded = excluded;
        report.source = hostile("source");
        report.files.damaged = vec![DamagedFile {
            path: hostile("file"),
            reason: hostile("reason"),
        }];
        report.denials = vec![DenialRow {
            action: hostile("action"),
            ..row(FROM_MS + HOUR_MS, &principal, true)
        }];
        report.verdicts = vec![Verdict {
            rule: hostile("rule"),
            crossed: true,
            detail: hostile("detail"),
        }];
        let mut finding = ctq_hunt::Finding::default();
        finding.rule = hostile("hunt-rule");
        finding.severity = ctq_hunt::Severity::High;
        finding.principal = hostile("hunt-principal");
        finding.user_agents = vec![hostile("hunt-agent")];
        finding.detail = hostile("hunt-detail");
        finding.next_step = hostile("hunt-next");
        report.findings = vec![finding];
        report.queries = vec![
            QueryTable {
                name: hostile("name"),
                title: hostile("title"),
                csv_file: Some(hostile("csv")),
                columns: vec![hostile("column")],
                rows: vec![vec![Some(hostile("cell"))]],
                row_count: 1,
                not_run: None,
            },
            QueryTable {
                name: "not-run".to_string(),
                title: String::new(),
                csv_file: None,
                columns: vec![],
                rows: vec![],
                row_count: 0,
                not_run: Some(hostile("not-run")),
            },
        ];
        report
    }

    #[test]
    fn markup_in_any_field_is_shown_as_text() {
        let report = hostile_report();
        let page = render_html(&report);
        let lower = page.to_ascii_lowercase();
        for raw in ["<script", "</script", "</textarea", "alert(\"x\")", "'q'"] {
            assert!(!lower.contains(raw), "{raw} unescaped in the page");
        }
        assert!(!page.contains("&</"), "a bare & from the data");

        let principal = format!("arn:aws:iam::111122223333:user/{}", shown("principal"));
        let resource = format!("arn:aws:s3:::bucket/{}", shown("resource"));
        let policy = format!(
            "arn:aws:organizations::111122223333:policy/{}",
            shown("message")
        );
        for expected in [
            format!("data-principal=\"{principal}\""),
            format!("<dd><code>{principal}</code></dd>"),
            format!("<dd><code>{resource}</code></dd>"),
            format!("<dt>Policy</dt><dd><code>{policy}</code></dd>"),
            format!("<code>{}</code>", shown("event-id")),
            format!(
                "<li><code>{}</code>: {}</li>",
                shown("file"),
                shown("reason")
            ),
            format!("Source: <code>{}</code>", shown("source")),
            format!("data-rule=\"{}\"", shown("rule")),
            format!("<code>{}</code>: {}</li>", shown("rule"), shown("detail")),
            format!("id=\"section-query-{}\"", shown("name")),
            format!("id=\"query-{}\"", shown("name")),
            format!(
                "<h3><code>{}</code>: {}</h3>",
                shown("name"),
                shown("title")
            ),
            format!("<a href=\"{0}\">{0}</a>", shown("csv")),
            format!("<th scope=\"col\">{}</th>", shown("column")),
            format!("<td>{}</td>", shown("cell")),
            format!("Not run: {}</p>", shown("not-run")),
            format!("data-rule=\"{}\"", shown("hunt-rule")),
            format!(
                "<span class=\"principal\">{}</span>",
                shown("hunt-principal")
            ),
            format!("<dt>User agents</dt><dd>{}</dd>", shown("hunt-agent")),
            format!("<dt>What</dt><dd>{}</dd>", shown("hunt-detail")),
            format!("<dt>Next step</dt><dd>{}</dd>", shown("hunt-next")),
        ] {
            assert!(page.contains(&expected), "no {expected}");
        }
        // The action, in the group's heading and facts, and in the chart of top actions.
        assert_eq!(report.triage[0].action, format!("s3:{}", hostile("action")));
        let action = format!("s3:{}", shown("action"));
        assert!(page.contains(&format!("<code>{action}</code><span class=\"count\">")));
        assert!(page.contains(&format!("<dt>Action</dt><dd><code>{action}</code></dd>")));
        assert!(page.contains(&format!("data-label=\"{action}\"")));
        // The advice (given once for the principal's groups) quotes the policy's ARN.
        let article = &page[page.find("<details class=\"principal\"").unwrap()..];
        let next_step = &article[article.find("<strong>Next step:</strong>").unwrap()..];
        let next_step = &next_step[..next_step.find("</div>").unwrap()];
        assert!(next_step.contains(&policy), "{next_step}");
    }

    #[test]
    fn verdicts_are_marked_crossed_or_ok() {
        let page = render_html(&report());
        assert!(page.contains("Needs attention: 1 --fail-on rule crossed"));
        assert!(page.contains("<li class=\"crossed\" data-rule=\"explicit-deny\">"));
        assert!(page.contains("<li class=\"ok\" data-rule=\"denials&gt;10\">"));

        let mut calm = report();
        calm.verdicts.retain(|v| !v.crossed);
        let page = render_html(&calm);
        assert!(!page.contains("Needs attention"));

        calm.verdicts.clear();
        let page = render_html(&calm);
        assert!(page.contains("No --fail-on rule set"));
        assert!(!page.contains("id=\"verdicts\""));
    }

    #[test]
    fn query_cells_are_shown_as_given_and_null_is_empty() {
        let page = render_html(&report());
        let table = text_of(&page, "section-query-denials-by-principal");
        assert!(table.contains("denials-by-principal"));
        assert!(
            page.contains(
                "<a href=\"denials-by-principal.csv\">denials-by-principal.csv</a>, 2 rows"
            )
        );
        assert!(page.contains(&format!(
            "<tr><td>{}</td><td>3</td></tr>\n<tr><td class=\"null\"></td><td>1</td></tr>",
            escape(EVIL)
        )));
        assert!(page.contains(
            "<thead><tr><th scope=\"col\">principal</th><th scope=\"col\">denials</th></tr></thead>"
        ));
        assert!(page.contains("<p class=\"not-run\">Not run: needs --param principal=ARN</p>"));
        assert!(!page.contains("id=\"query-by-principal\""));
    }

    #[test]
    fn long_tables_are_cut_at_500_rows() {
        let mut report = report();
        let table = &mut report.queries[0];
        table.rows = (0..750)
            .map(|i| vec![Some(format!("p{i}")), Some(i.to_string())])
            .collect();
        table.row_count = 750;
        let page = render_html(&report);
        assert!(page.contains("first 500 of 750 rows; the CSV has all"));
        let rows = page
            .split("id=\"query-denials-by-principal\"")
            .nth(1)
            .and_then(|rest| rest.split("</tbody>").next())
            .expect("the table is there");
        assert_eq!(rows.matches("<tr>").count(), 501, "the header and 500 rows");
        assert!(rows.contains("<td>p499</td>"));
        assert!(!rows.contains("<td>p500</td>"));
    }

    #[test]
    fn a_store_replaces_the_file_figures() {
        let mut report = report();
        report.files = Files {
            events_in_window: 40,
            store: Some("/data/store".to_string()),
            ..Files::default()
        };
        let page = render_html(&report);
        assert!(page.contains("<dd id=\"store\" class=\"text\"><code>/data/store</code></dd>"));
        assert_eq!(text_of(&page, "files-read"), "0");
        assert_eq!(text_of(&page, "files-skipped"), "0");
        assert_eq!(text_of(&page, "files-damaged"), "0");
        assert!(!page.contains("id=\"damaged-files\""));
    }

    #[test]
    fn an_empty_window_says_so() {
        let mut report = report();
        report.denials.clear();
        report.triage.clear();
        report.excluded = Excluded::default();
        report.verdicts.clear();
        let page = render_html(&report);
        assert!(page.contains("<p id=\"no-groups\">No denials in this window.</p>"));
        assert_eq!(page.matches(">No denials in this window</text>").count(), 3);
        assert!(!page.contains("id=\"excluded\""));
        assert_eq!(text_of(&page, "denials"), "0");
    }

    #[test]
    fn only_plain_relative_csv_names_are_linked() {
        assert!(is_relative_file("denials-by-principal.csv"));
        assert!(!is_relative_file("https://example.com/x.csv"));
        assert!(!is_relative_file("/etc/passwd"));
        assert!(!is_relative_file("../x.csv"));
        assert_eq!(href("a b#c?.csv"), "a%20b%23c%3F.csv");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(1_250), "1.2 s");
        assert_eq!(duration(125_000), "2 min 5 s");
    }
}
