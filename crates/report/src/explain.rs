//! `ctq explain`'s output: the triage of a window's denials as text for a terminal, or as JSON.
//!
//! The text shows control characters in trail fields (a user agent, an ARN, an error message)
//! escaped, as the query table does ([`printable`]); the JSON keeps them as they were.

use std::fmt::Write as _;

use ctq_denial::triage::{Excluded, Group};
use ctq_sql::Instant;
use ctq_sql::output::printable;

use crate::chart::plural;

/// What was explained: the window, either end open, and the principal, if only one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub from: Option<Instant>,
    pub to: Option<Instant>,
    pub principal: Option<&'a str>,
}

/// The terminal report: a header, then one block per group, most frequent first.
pub fn explain_text(scope: &Scope, groups: &[Group], excluded: &Excluded) -> String {
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
    let left_out: Vec<String> = [
        (excluded.duplicates, "duplicate deliveries"),
        (excluded.service_calls, "calls by AWS services"),
        (excluded.console_browsing, "console page loads"),
        (excluded.suppressed, "suppressed"),
        (excluded.not_denials, "not denials"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !left_out.is_empty() {
        let _ = writeln!(out, "left out: {}", left_out.join(", "));
    }
    for (index, group) in groups.iter().enumerate() {
        let _ = writeln!(out, "\n[{}] {}", index + 1, printable(&group.principal));
        group_block(&mut out, group);
    }
    out
}

fn group_block(out: &mut String, group: &Group) {
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "    {name:<10} {}", printable(value));
    };
    field("action", &group.action);
    field(
        "resource",
        group.resource.as_deref().unwrap_or("(not named)"),
    );
    let mut cause = group.cause_summary.clone();
    if let Some(arn) = &group.policy_arn {
        cause.push_str(&format!(": {arn}"));
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
        field("source ip", &join(&group.source_ips));
    }
    if !group.user_agents.is_empty() {
        field("agent", &join(&group.user_agents));
    }
    if !group.sample_event_ids.is_empty() {
        field("events", &group.sample_event_ids.join(", "));
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

/// The JSON document of `ctq explain --format json`; `files_read` and `damaged_files` describe
/// the scan behind it.
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

    fn triage(events: &[Event]) -> (Vec<Group>, Excluded) {
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
        for event in events {
            triage.add(event);
        }
        triage.finish()
    }

    #[test]
    fn the_header_counts_in_words() {
        let (groups, excluded) = triage(&[]);
        assert_eq!(
            explain_text(&Scope::default(), &groups, &excluded),
            "0 denials in 0 groups, the whole trail\n"
        );
        let one = denial("e1", "2019-10-29T06:40:00Z");
        let (groups, excluded) = triage(&[one.clone(), one]);
        let scope = Scope {
            from: Instant::parse_iso8601("2019-10-29T06:00:00Z"),
            to: None,
            principal: Some("arn:aws:iam::111122223333:user/alice"),
        };
        let text = explain_text(&scope, &groups, &excluded);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "1 denial in 1 group, 2019-10-29T06:00:00.000Z to the end, principal arn:aws:iam::111122223333:user/alice"
        );
        assert_eq!(lines.next().unwrap(), "left out: 1 duplicate deliveries");
        assert_eq!(lines.next().unwrap(), "");
        assert_eq!(
            lines.next().unwrap(),
            "[1] arn:aws:iam::111122223333:user/alice"
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
        let (groups, excluded) = triage(&[
            denial("e1", "2019-10-29T06:40:00Z"),
            denial("e2", "2019-10-29T06:50:00Z"),
        ]);
        let text = explain_text(&Scope::default(), &groups, &excluded);
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
        let (groups, excluded) = triage(&[event]);
        let text = explain_text(&Scope::default(), &groups, &excluded);
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
            "{text:?}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "[1] arn:aws:iam::111122223333:user/\\x1b]0;pwned\\x07"
        );
        for line in [
            "    source ip  192.0.2.1\\n    fake       line\\r\\x9b",
            "    agent      \\x1b]0;pwned\\x07curl\\x1b[2J",
            "    events     e1\\x1b[2J",
        ] {
            assert!(lines.contains(&line), "{line:?} not in {text}");
        }
        let json = explain_json(&Scope::default(), &groups, &excluded, 1, 0);
        assert_eq!(
            json["groups"][0]["user_agents"][0],
            "\u{1b}]0;pwned\u{7}curl\u{1b}[2J"
        );
    }

    #[test]
    fn the_json_holds_the_window_as_text() {
        let (groups, excluded) = triage(&[denial("e1", "2019-10-29T06:40:00Z")]);
        let scope = Scope {
            from: None,
            to: Instant::parse_iso8601("2019-10-30"),
            principal: None,
        };
        let json = explain_json(&scope, &groups, &excluded, 7, 1);
        assert_eq!(json["window"]["from"], serde_json::Value::Null);
        assert_eq!(json["window"]["to"], "2019-10-30T00:00:00.000Z");
        assert_eq!(json["principal"], serde_json::Value::Null);
        assert_eq!(json["denials"], 1);
        assert_eq!(json["files_read"], 7);
        assert_eq!(json["damaged_files"], 1);
        assert_eq!(json["groups"].as_array().unwrap().len(), 1);
    }
}
