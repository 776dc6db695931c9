//! `ctq explain`'s output: the triage of a window's denials as text for a terminal, or as JSON.
//!
//! The text shows control characters in trail fields (a user agent, an ARN, an error message)
//! escaped, as the query table does ([`printable`]); the JSON keeps them as they were.

use std::fmt::Write as _;

use ctq_denial::triage::{
    CauseKind, Dimension, Event, Excluded, Finished, Group, PrincipalSummary, Triage,
};
use ctq_sql::canned::DenialFilter;
use ctq_sql::events::each_denial_event_batch;
use ctq_sql::output::printable;
use ctq_sql::{Instant, SqlError, TrailSession};

use crate::chart::plural;

/// Principals listed in the summary that heads the text.
const SUMMARY_PRINCIPALS: usize = 20;

/// What was explained: the window, either end open, and the principal, if only one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub from: Option<Instant>,
    pub to: Option<Instant>,
    pub principal: Option<&'a str>,
}

/// How it is shown: the kinds of policy selected, the grouping and how many groups.
#[derive(Debug, Clone, Copy, Default)]
pub struct View<'a> {
    /// Only denials by these kinds of policy; empty for all.
    pub causes: &'a [CauseKind],
    /// The dimensions groups are keyed on; empty for the default.
    pub group_by: &'a [Dimension],
    /// Show only this many of the largest groups; `None` for all.
    pub top: Option<usize>,
}

impl View<'_> {
    /// The groups shown, and how many were left out.
    fn shown<'g>(&self, groups: &'g [Group]) -> (&'g [Group], usize) {
        let shown = self.top.map_or(groups.len(), |top| top.min(groups.len()));
        (&groups[..shown], groups.len() - shown)
    }
}

/// Reads the denials `filter` selects and folds them into `triage` on a thread of its own, a
/// batch at a time as the scan yields them, rather than after the scan (a 3-day explanation of the
/// benchmark trail went from 1.25 to 1.16 s). The triage does not depend on the order of its
/// events. Returns its result and how many denials were read.
pub async fn triage_denials(
    session: &TrailSession,
    filter: &DenialFilter,
    mut triage: Triage,
) -> Result<(Finished, usize), SqlError> {
    let (sender, batches) = std::sync::mpsc::channel::<Vec<Event>>();
    let (done, finished) = futures::channel::oneshot::channel();
    let folding = std::thread::spawn(move || {
        for events in batches {
            for event in &events {
                triage.add(event);
            }
        }
        // The receiver is gone only if the caller was dropped meanwhile.
        let _ = done.send(triage.finish_with_summary());
    });
    // A send fails only if the fold panicked, which is passed on below.
    let read = each_denial_event_batch(session, filter, |events| {
        let _ = sender.send(events);
    })
    .await;
    drop(sender);
    let Ok(finished) = finished.await else {
        // The fold ended without its result: it panicked, and its panic goes on here.
        let panic = folding
            .join()
            .expect_err("the fold sends its result before it ends");
        std::panic::resume_unwind(panic)
    };
    Ok((finished, read?))
}

/// The terminal report: a header, the denials per principal, then one block per group, most
/// frequent first.
pub fn explain_text(scope: &Scope, view: &View, finished: &Finished) -> String {
    let (groups, excluded) = (&finished.groups, &finished.excluded);
    let mut out = String::new();
    let denials: u64 = groups.iter().map(|g| g.count).sum();
    let span = match (scope.from, scope.to) {
        (None, None) => "the whole trail".to_string(),
        (from, to) => format!(
            "{} to {}",
            from.map_or("the beginning".to_string(), |t| t.to_string()),
            to.map_or("the end".to_string(), |t| t.to_string())
        ),
    };
    let _ = writeln!(
        out,
        "{} in {}, {span}{}",
        plural(denials, "denial", "denials"),
        plural(groups.len() as u64, "group", "groups"),
        scope
            .principal
            .map(|p| format!(", principal {}", printable(p)))
            .unwrap_or_default()
    );
    let mut selection = Vec::new();
    if !view.causes.is_empty() {
        let names: Vec<&str> = view.causes.iter().map(CauseKind::as_str).collect();
        selection.push(format!("only causes {}", names.join(", ")));
    }
    if !view.group_by.is_empty() {
        let names: Vec<&str> = view.group_by.iter().map(Dimension::as_str).collect();
        selection.push(format!("grouped by {}", names.join(", ")));
    }
    if !selection.is_empty() {
        let _ = writeln!(out, "{}", selection.join("; "));
    }
    let left_out: Vec<String> = [
        (excluded.duplicates, "duplicate deliveries"),
        (excluded.service_calls, "calls by AWS services"),
        (excluded.console_browsing, "console page loads"),
        (excluded.suppressed, "suppressed"),
        (excluded.other_causes, "other causes"),
        (excluded.not_denials, "not denials"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !left_out.is_empty() {
        let _ = writeln!(out, "left out: {}", left_out.join(", "));
    }
    principal_summary(&mut out, &finished.principals);
    let (shown, hidden) = view.shown(groups);
    if hidden > 0 {
        let _ = writeln!(
            out,
            "\nThe {} largest groups of {} (--top N shows more, --top 0 all, --format csv a table of all):",
            shown.len(),
            groups.len()
        );
    }
    for (index, group) in shown.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n[{}] {} ({})",
            index + 1,
            printable(&group.principal),
            plural(group.count, "denial", "denials")
        );
        group_block(&mut out, group);
    }
    if hidden > 0 {
        let rest: u64 = groups[shown.len()..].iter().map(|g| g.count).sum();
        let _ = writeln!(
            out,
            "\n{hidden} more {} with {} not shown: --top N shows more, --top 0 all",
            if hidden == 1 { "group" } else { "groups" },
            plural(rest, "denial", "denials")
        );
    }
    out
}

/// One line per principal, most denials first: denials, distinct actions, causes.
fn principal_summary(out: &mut String, principals: &[PrincipalSummary]) {
    if principals.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nDenials by principal:");
    let width = principals
        .first()
        .map_or(1, |p| p.denials.to_string().len());
    for summary in principals.iter().take(SUMMARY_PRINCIPALS) {
        let mut causes: Vec<String> = summary
            .causes
            .iter()
            .take(3)
            .map(|c| format!("{} {}", c.cause, c.count))
            .collect();
        if summary.causes.len() > 3 {
            causes.push(format!("{} more", summary.causes.len() - 3));
        }
        let _ = writeln!(
            out,
            "  {:>width$}  {}  {}; {}",
            summary.denials,
            printable(&summary.principal),
            plural(summary.actions, "action", "actions"),
            causes.join(", ")
        );
    }
    if principals.len() > SUMMARY_PRINCIPALS {
        let rest = &principals[SUMMARY_PRINCIPALS..];
        let _ = writeln!(
            out,
            "  {} more {} with {}",
            rest.len(),
            if rest.len() == 1 {
                "principal"
            } else {
                "principals"
            },
            plural(rest.iter().map(|p| p.denials).sum(), "denial", "denials")
        );
    }
}

fn group_block(out: &mut String, group: &Group) {
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "    {name:<10} {}", printable(value));
    };
    field("action", &group.action);
    let mut resource = group
        .resource
        .clone()
        .unwrap_or_else(|| "(not named)".to_owned());
    let mixed = |d: Dimension| group.mixed.contains(&d);
    if group.distinct.resources > 1 && !mixed(Dimension::Resource) {
        let _ = write!(resource, " ({} distinct)", group.distinct.resources);
    }
    field("resource", &resource);
    if !group.sample_resources.is_empty() {
        let samples = with_count_of_rest(&group.sample_resources, group.distinct.resources);
        field("e.g.", &samples);
    }
    let mut cause = group.cause_summary.clone();
    if !group.policy_arns.is_empty() && !mixed(Dimension::Cause) {
        let arns = with_count_of_rest(&group.policy_arns, group.distinct.policy_arns);
        let _ = write!(cause, ": {arns}");
    }
    field("cause", &cause);
    let seen = match (&group.first_seen, &group.last_seen) {
        (Some(first), Some(last)) if first != last => {
            format!("{} times, {first} to {last}", group.count)
        }
        (Some(first), _) => format!("{}, {first}", plural(group.count, "time", "times")),
        _ => plural(group.count, "time", "times"),
    };
    field("seen", &seen);
    field(
        "error",
        &format!(
            "{} from {}",
            join(&group.error_codes),
            join(&group.services)
        ),
    );
    if !group.source_ips.is_empty() {
        field("source ip", &join_few(&group.source_ips));
    }
    if !group.user_agents.is_empty() {
        field("agent", &join_few(&group.user_agents));
    }
    if !group.sample_event_ids.is_empty() {
        field("events", &group.sample_event_ids.join(", "));
    }
    if let Some(note) = mixed_note(group) {
        field("next step", &note);
        return;
    }
    field("diagnosis", &group.advice.cause);
    field("next step", &group.advice.next_step);
    if let Some(draft) = &group.advice.draft_policy {
        let _ = writeln!(
            out,
            "    draft policy (a draft to review, not to apply as is):"
        );
        for line in draft.lines() {
            let _ = writeln!(out, "        {}", printable(line));
        }
    }
}

/// The triage as JSON, as the report folder's triage.json holds it; `files_read` and
/// `damaged_files` describe the scan behind it.
pub fn explain_json(
    scope: &Scope,
    groups: &[Group],
    excluded: &Excluded,
    files_read: usize,
    damaged_files: usize,
) -> serde_json::Value {
    let text = |t: Option<Instant>| t.map(|t| t.to_string());
    serde_json::json!({
        "window": { "from": text(scope.from), "to": text(scope.to) },
        "principal": scope.principal,
        "denials": groups.iter().map(|g| g.count).sum::<u64>(),
        "groups": groups,
        "excluded": excluded,
        "files_read": files_read,
        "damaged_files": damaged_files,
    })
}

/// The JSON document of `ctq explain --format json`: [`explain_json`]'s keys, with `groups` the
/// groups shown, and the summary per principal, the selection and how many groups were left out.
pub fn explain_document(
    scope: &Scope,
    view: &View,
    finished: &Finished,
    files_read: usize,
    damaged_files: usize,
) -> serde_json::Value {
    let (shown, hidden) = view.shown(&finished.groups);
    let mut document = explain_json(scope, shown, &finished.excluded, files_read, damaged_files);
    document["denials"] = finished.groups.iter().map(|g| g.count).sum::<u64>().into();
    document["principals"] = serde_json::json!(finished.principals);
    document["group_by"] = serde_json::json!(view.group_by);
    document["causes"] = serde_json::json!(view.causes);
    document["groups_total"] = finished.groups.len().into();
    document["groups_left_out"] = hidden.into();
    document
}

/// The CSV of `ctq explain --format csv`: one row per group shown, for tickets and spreadsheets.
/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) starts with `'`.
pub fn explain_csv(view: &View, finished: &Finished) -> String {
    const HEADER: [&str; 15] = [
        "principal",
        "account",
        "action",
        "resource",
        "distinct_resources",
        "cause",
        "policy_arns",
        "count",
        "first_seen",
        "last_seen",
        "error_codes",
        "source_ips",
        "sample_event_ids",
        "diagnosis",
        "next_step",
    ];
    let mut out = String::new();
    csv_row(&mut out, HEADER.iter().map(|h| (*h).to_owned()));
    let (shown, _) = view.shown(&finished.groups);
    for group in shown {
        let row = [
            group.principal.clone(),
            group.account.clone().unwrap_or_default(),
            group.action.clone(),
            group.resource.clone().unwrap_or_default(),
            group.distinct.resources.to_string(),
            group.cause_summary.clone(),
            group.policy_arns.join(" "),
            group.count.to_string(),
            group.first_seen.clone().unwrap_or_default(),
            group.last_seen.clone().unwrap_or_default(),
            join(&group.error_codes),
            join(&group.source_ips),
            group.sample_event_ids.join(" "),
            if mixed_note(group).is_some() {
                String::new()
            } else {
                group.advice.cause.clone()
            },
            mixed_note(group).unwrap_or_else(|| group.advice.next_step.clone()),
        ];
        csv_row(&mut out, row.into_iter());
    }
    out
}

fn csv_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.map(|c| csv_cell(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled,
/// and a leading `'` before what a spreadsheet would evaluate.
fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Why a group that mixes actions or causes gets no advice: each of its denials may need
/// another fix. `None` when its advice holds for all of them.
fn mixed_note(group: &Group) -> Option<String> {
    let names: Vec<&str> = group
        .mixed
        .iter()
        .filter(|d| matches!(d, Dimension::Action | Dimension::Cause))
        .map(|d| match d {
            Dimension::Action => "actions",
            _ => "causes",
        })
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "(the group mixes {}: --group-by with action and cause gives each its advice)",
            names.join(" and ")
        )
    })
}

/// The `shown` values of `distinct` in all, then how many more there are.
fn with_count_of_rest(shown: &[String], distinct: u64) -> String {
    let mut text = shown.join(", ");
    let more = distinct.saturating_sub(shown.len() as u64);
    if more > 0 {
        let _ = write!(text, " and {more} more");
    }
    text
}

/// At most five values, then how many more.
fn join_few(values: &std::collections::BTreeSet<String>) -> String {
    let shown: Vec<String> = values.iter().take(5).cloned().collect();
    with_count_of_rest(&shown, values.len() as u64)
}

fn join<'a>(values: impl IntoIterator<Item = &'a String>) -> String {
    values
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use ctq_denial::triage::{Event, Noise, Suppressions, Triage};

    use super::*;

    /// Folding beside the scan gives what folding the collected denials gives, on the sample trail
    /// and on every `../shared/realdata` folder present (among them hand-written fixtures that
    /// reuse event IDs, times and names for different events).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn folding_beside_the_scan_gives_the_collected_fold() {
        use ctq_sql::SessionOptions;
        use ctq_sql::events::denial_events;

        let triage =
            || Triage::new(Noise::default(), Suppressions::default(), 3).fold_resources(true);
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut sources = vec![repo.join("sample-logs")];
        if let Ok(folders) = std::fs::read_dir(repo.join("../shared/realdata")) {
            sources.extend(
                folders
                    .map(|entry| entry.unwrap().path())
                    .filter(|path| path.is_dir()),
            );
        } else {
            // Written to the handle, not with eprintln!, so that libtest does not capture it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "folding_beside_the_scan_gives_the_collected_fold: ../shared/realdata is not \
                 present; the sample trail only"
            );
        }
        let mut denials_seen = 0;
        for source in &sources {
            let session =
                TrailSession::open(std::slice::from_ref(source), &SessionOptions::default())
                    .await
                    .unwrap();
            let filter = DenialFilter::default();
            let (beside, count) = triage_denials(&session, &filter, triage()).await.unwrap();
            let events = denial_events(&session, &filter).await.unwrap();
            let mut collected = triage();
            for event in events.iter().rev() {
                collected.add(event);
            }
            assert_eq!(count, events.len(), "{}", source.display());
            let collected = collected.finish_with_summary();
            assert!(
                beside == collected,
                "{}: the two folds differ",
                source.display()
            );
            denials_seen += beside.groups.iter().map(|g| g.count).sum::<u64>();
        }
        assert!(denials_seen > 10, "{denials_seen} denials folded");
    }

    fn denial(id: &str, time: &str) -> Event {
        Event {
            event_time: Some(time.into()),
            event_id: Some(id.into()),
            event_source: Some("s3.amazonaws.com".into()),
            event_name: Some("GetObject".into()),
            error_code: Some("AccessDenied".into()),
            error_message: Some("User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::bucket/key\" because no identity-based policy allows the s3:GetObject action".into()),
            principal_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            source_ip: Some("192.0.2.1".into()),
            ..Event::default()
        }
    }

    fn triage(events: &[Event]) -> Finished {
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
        for event in events {
            triage.add(event);
        }
        triage.finish_with_summary()
    }

    #[test]
    fn the_header_counts_in_words() {
        let finished = triage(&[]);
        assert_eq!(
            explain_text(&Scope::default(), &View::default(), &finished),
            "0 denials in 0 groups, the whole trail\n"
        );
        let one = denial("e1", "2019-10-29T06:40:00Z");
        let finished = triage(&[one.clone(), one]);
        let scope = Scope {
            from: Instant::parse_iso8601("2019-10-29T06:00:00Z"),
            to: None,
            principal: Some("arn:aws:iam::111122223333:user/alice"),
        };
        let text = explain_text(&scope, &View::default(), &finished);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "1 denial in 1 group, 2019-10-29T06:00:00.000Z to the end, principal arn:aws:iam::111122223333:user/alice"
        );
        assert_eq!(lines.next().unwrap(), "left out: 1 duplicate deliveries");
        assert_eq!(lines.next().unwrap(), "");
        assert_eq!(lines.next().unwrap(), "Denials by principal:");
        assert_eq!(
            lines.next().unwrap(),
            "  1  arn:aws:iam::111122223333:user/alice  1 action; no identity allow 1"
        );
        assert_eq!(lines.next().unwrap(), "");
        assert_eq!(
            lines.next().unwrap(),
            "[1] arn:aws:iam::111122223333:user/alice (1 denial)"
        );
        assert!(text.contains("\n    action     s3:GetObject\n"), "{text}");
        assert!(
            text.contains("\n    seen       1 time, 2019-10-29T06:40:00Z\n"),
            "{text}"
        );
        assert!(text.contains("\n    source ip  192.0.2.1\n"), "{text}");
        assert!(text.contains("\n    events     e1\n"), "{text}");
    }

    #[test]
    fn a_group_seen_over_time_gives_its_span() {
        let finished = triage(&[
            denial("e1", "2019-10-29T06:40:00Z"),
            denial("e2", "2019-10-29T06:50:00Z"),
        ]);
        let text = explain_text(&Scope::default(), &View::default(), &finished);
        assert!(text.starts_with("2 denials in 1 group, the whole trail\n"));
        assert!(
            text.contains("    seen       2 times, 2019-10-29T06:40:00Z to 2019-10-29T06:50:00Z\n"),
            "{text}"
        );
    }

    #[test]
    fn control_characters_in_trail_fields_print_escaped() {
        let mut event = denial("e1\u{1b}[2J", "2019-10-29T06:40:00Z");
        event.principal_arn = Some("arn:aws:iam::111122223333:user/\u{1b}]0;pwned\u{7}".into());
        event.user_agent = Some("\u{1b}]0;pwned\u{7}curl\u{1b}[2J".into());
        event.source_ip = Some("192.0.2.1\n    fake       line\r\u{9b}".into());
        let finished = triage(&[event]);
        let text = explain_text(&Scope::default(), &View::default(), &finished);
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
            "{text:?}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[3],
            "  1  arn:aws:iam::111122223333:user/\\x1b]0;pwned\\x07  1 action; no identity allow 1"
        );
        assert_eq!(
            lines[5],
            "[1] arn:aws:iam::111122223333:user/\\x1b]0;pwned\\x07 (1 denial)"
        );
        for line in [
            "    source ip  192.0.2.1\\n    fake       line\\r\\x9b",
            "    agent      \\x1b]0;pwned\\x07curl\\x1b[2J",
            "    events     e1\\x1b[2J",
        ] {
            assert!(lines.contains(&line), "{line:?} not in {text}");
        }
        let json = explain_document(&Scope::default(), &View::default(), &finished, 1, 0);
        assert_eq!(
            json["groups"][0]["user_agents"][0],
            "\u{1b}]0;pwned\u{7}curl\u{1b}[2J"
        );
    }

    #[test]
    fn top_leaves_out_the_smallest_groups_and_says_so() {
        let mut other = denial("e3", "2019-10-29T06:45:00Z");
        other.event_name = Some("PutObject".into());
        other.error_message = None;
        let finished = triage(&[
            denial("e1", "2019-10-29T06:40:00Z"),
            denial("e2", "2019-10-29T06:50:00Z"),
            other,
        ]);
        let view = View {
            top: Some(1),
            ..View::default()
        };
        let text = explain_text(&Scope::default(), &view, &finished);
        assert!(text.contains("\n[1] "), "{text}");
        assert!(!text.contains("\n[2] "), "{text}");
        assert!(
            text.ends_with(
                "\n1 more group with 1 denial not shown: --top N shows more, --top 0 all\n"
            ),
            "{text}"
        );
        let json = explain_document(&Scope::default(), &view, &finished, 1, 0);
        assert_eq!(json["denials"], 3);
        assert_eq!(json["groups_total"], 2);
        assert_eq!(json["groups_left_out"], 1);
        assert_eq!(json["groups"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn csv_cells_are_quoted_and_guarded_against_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)"] {
            assert_eq!(csv_cell(formula), format!("'{formula}"));
        }
        assert_eq!(csv_cell("=a,b"), "\"'=a,b\"");
        let mut event = denial("e1", "2019-10-29T06:40:00Z");
        event.principal_arn = Some("=HYPERLINK(\"x\")".into());
        let csv = explain_csv(&View::default(), &triage(&[event]));
        let mut lines = csv.split("\r\n");
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("principal,account,action,resource,")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("\"'=HYPERLINK(\"\"x\"\")\",,s3:GetObject,"),
            "{csv}"
        );
    }

    #[test]
    fn the_json_holds_the_window_as_text() {
        let finished = triage(&[denial("e1", "2019-10-29T06:40:00Z")]);
        let scope = Scope {
            from: None,
            to: Instant::parse_iso8601("2019-10-30"),
            principal: None,
        };
        let json = explain_document(&scope, &View::default(), &finished, 7, 1);
        assert_eq!(json["window"]["from"], serde_json::Value::Null);
        assert_eq!(json["window"]["to"], "2019-10-30T00:00:00.000Z");
        assert_eq!(json["principal"], serde_json::Value::Null);
        assert_eq!(json["denials"], 1);
        assert_eq!(json["files_read"], 7);
        assert_eq!(json["damaged_files"], 1);
        assert_eq!(json["groups"].as_array().unwrap().len(), 1);
    }
}
