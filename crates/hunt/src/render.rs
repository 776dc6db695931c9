//! A hunt's findings as text for a terminal, or as the JSON of `ctq hunt --format json`.
//!
//! The text shows control characters of trail fields escaped ([`printable`]); the JSON keeps
//! them as they were.

use std::fmt::Write as _;

use ctq_sql::Instant;
use ctq_sql::output::printable;

use crate::Hunt;

/// Values of a list shown before "(+N more)".
const SHOWN: usize = 6;

/// The terminal view: a header, then one block per finding, most severe first.
pub fn findings_text(hunt: &Hunt, from: Option<Instant>, to: Option<Instant>) -> String {
    let mut out = String::new();
    let count = hunt.findings.len();
    let _ = writeln!(
        out,
        "{} {}, {} ({} rules over {} events{})",
        count,
        if count == 1 { "finding" } else { "findings" },
        span(from, to),
        hunt.rules.len(),
        hunt.events,
        if hunt.suppressed > 0 {
            format!(", {} suppressed denials left out", hunt.suppressed)
        } else {
            String::new()
        }
    );
    for (index, finding) in hunt.findings.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n[{}] {} {}  {}",
            index + 1,
            finding.severity.as_str().to_ascii_uppercase(),
            finding.rule,
            printable(&finding.principal)
        );
        let mut field = |name: &str, value: &str| {
            if !value.is_empty() {
                let _ = writeln!(out, "    {name:<10} {}", printable(value));
            }
        };
        field("what", &finding.detail);
        if let Some(issuer) = &finding.issuer {
            field("issuer", issuer);
        }
        let seen = if finding.first_seen == finding.last_seen {
            finding.first_seen.clone()
        } else {
            format!("{} to {}", finding.first_seen, finding.last_seen)
        };
        field(
            "seen",
            &format!(
                "{seen}, {} events ({} denied)",
                finding.events, finding.denied
            ),
        );
        field("actions", &list(&finding.actions));
        field("regions", &list(&finding.regions));
        field("source ip", &list(&finding.source_ips));
        field("agent", &list(&finding.user_agents));
        field("key", &list(&finding.access_keys));
        field("events", &finding.sample_event_ids.join(", "));
        field("next step", &finding.next_step);
    }
    out
}

fn span(from: Option<Instant>, to: Option<Instant>) -> String {
    match (from, to) {
        (None, None) => "the whole trail".to_string(),
        (from, to) => format!(
            "{} to {}",
            from.map_or("the beginning".to_string(), |t| t.to_string()),
            to.map_or("the end".to_string(), |t| t.to_string())
        ),
    }
}

/// The first values of a finding's list, comma-separated, and how many more there are: as the
/// text view and the report page show them.
pub fn list(values: &[String]) -> String {
    let mut text = values
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > SHOWN {
        let _ = write!(text, " (+{} more)", values.len() - SHOWN);
    }
    text
}

/// `{"window":…,"rules":[…],"events":N,"findings":[{"rule","severity","principal",…}]}`.
pub fn findings_json(hunt: &Hunt, from: Option<Instant>, to: Option<Instant>) -> serde_json::Value {
    let text = |t: Option<Instant>| t.map(|t| t.to_string());
    serde_json::json!({
        "window": { "from": text(from), "to": text(to) },
        "rules": hunt.rules,
        "events": hunt.events,
        "suppressed": hunt.suppressed,
        "duplicates": hunt.duplicates,
        "findings": hunt.findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Finding, Severity};

    #[test]
    fn trail_fields_print_escaped_and_lists_are_cut() {
        let hunt = Hunt {
            findings: vec![Finding {
                rule: "offensive-tooling".into(),
                severity: Severity::High,
                principal: "arn:aws:iam::111122223333:user/\u{1b}]0;pwned\u{7}".into(),
                user_agents: vec!["kali\u{1b}[2J".into()],
                actions: (0..9).map(|i| format!("s3:Get{i}")).collect(),
                first_seen: "2019-10-28T10:00:00Z".into(),
                last_seen: "2019-10-28T10:00:00Z".into(),
                events: 1,
                denied: 1,
                detail: "calls: 1".into(),
                next_step: "Look.".into(),
                ..Finding::default()
            }],
            rules: vec!["offensive-tooling".into()],
            events: 10,
            suppressed: 0,
            duplicates: 0,
        };
        let text = findings_text(&hunt, None, None);
        assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
        assert!(text.starts_with("1 finding, the whole trail (1 rules over 10 events)\n"));
        assert!(
            text.contains(
                "[1] HIGH offensive-tooling  arn:aws:iam::111122223333:user/\\x1b]0;pwned\\x07\n"
            ),
            "{text}"
        );
        assert!(text.contains("    agent      kali\\x1b[2J\n"), "{text}");
        assert!(text.contains("s3:Get5 (+3 more)\n"), "{text}");
        assert!(text.contains("    seen       2019-10-28T10:00:00Z, 1 events (1 denied)\n"));
        let json = findings_json(&hunt, None, None);
        assert_eq!(json["findings"][0]["user_agents"][0], "kali\u{1b}[2J");
    }
}
