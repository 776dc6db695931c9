//! `--fail-on`: the thresholds past which a run needs a human, and the verdict on each.
//!
//! Rules, combinable (the run fails when any is crossed):
//! - `any`: at least one denial in the window;
//! - `explicit-deny`: at least one denial whose message says an explicit deny matched (an SCP,
//!   RCP, boundary or identity policy `Deny`: someone decided it, so someone should look);
//! - `denials>N`: more than N denials in the window;
//! - `principal>N`: more than N denials for any one principal;
//! - `damaged`: at least one input file could not be read;
//! - `no-data`: the window holds no event at all (no log file delivered for it, or none
//!   readable): a quiet report that is quiet because nothing was read;
//! - `min-files=N`: fewer than N log files read (a store has none: use `min-records`);
//! - `min-records=N`: fewer than N events in the window;
//! - `finding`: a hunting rule found something (`ctq hunt`); `finding=high` (or `medium`,
//!   `low`) only counts findings of that severity or above.
//!
//! `--fail-on` takes one rule or several separated by commas (`no-data,min-files=10`), and may be
//! repeated.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::{Report, ReportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Any,
    ExplicitDeny,
    DenialsOver(u64),
    PrincipalOver(u64),
    Damaged,
    NoData,
    MinFiles(u64),
    MinRecords(u64),
    /// A hunting finding of this severity or above (any severity when `None`).
    Finding(Option<ctq_hunt::Severity>),
}

/// A rule and whether this run crossed it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub rule: String,
    pub crossed: bool,
    /// What was found, in a sentence: "3 explicit denials (arn:…: 2, …)".
    pub detail: String,
}

impl FromStr for Rule {
    type Err = ReportError;

    fn from_str(text: &str) -> Result<Self, ReportError> {
        let invalid = |reason: &str| ReportError::FailOn {
            rule: text.to_string(),
            reason: reason.to_string(),
        };
        let threshold = |n: &str| {
            n.trim()
                .parse::<u64>()
                .map_err(|_| invalid("the threshold must be a whole number, as in denials>10"))
        };
        let floor = |n: &str| {
            n.trim()
                .parse::<u64>()
                .map_err(|_| invalid("the floor must be a whole number, as in min-files=10"))
        };
        let trimmed = text.trim();
        match trimmed {
            "any" => return Ok(Rule::Any),
            "explicit-deny" => return Ok(Rule::ExplicitDeny),
            "damaged" => return Ok(Rule::Damaged),
            "no-data" => return Ok(Rule::NoData),
            "finding" => return Ok(Rule::Finding(None)),
            _ => {}
        }
        if let Some(n) = trimmed.strip_prefix("denials>") {
            return Ok(Rule::DenialsOver(threshold(n)?));
        }
        if let Some(n) = trimmed.strip_prefix("principal>") {
            return Ok(Rule::PrincipalOver(threshold(n)?));
        }
        if let Some(n) = trimmed.strip_prefix("min-files=") {
            return Ok(Rule::MinFiles(floor(n)?));
        }
        if let Some(n) = trimmed.strip_prefix("min-records=") {
            return Ok(Rule::MinRecords(floor(n)?));
        }
        if let Some(severity) = trimmed.strip_prefix("finding=") {
            return ctq_hunt::Severity::parse(severity)
                .map(|s| Rule::Finding(Some(s)))
                .ok_or_else(|| {
                    invalid("the severity must be low, medium or high, as in finding=high")
                });
        }
        Err(invalid(
            "expected any, explicit-deny, damaged, no-data, finding, finding=SEVERITY, denials>N, principal>N, min-files=N or min-records=N",
        ))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Any => write!(f, "any"),
            Rule::ExplicitDeny => write!(f, "explicit-deny"),
            Rule::DenialsOver(n) => write!(f, "denials>{n}"),
            Rule::PrincipalOver(n) => write!(f, "principal>{n}"),
            Rule::Damaged => write!(f, "damaged"),
            Rule::NoData => write!(f, "no-data"),
            Rule::MinFiles(n) => write!(f, "min-files={n}"),
            Rule::MinRecords(n) => write!(f, "min-records={n}"),
            Rule::Finding(None) => write!(f, "finding"),
            Rule::Finding(Some(severity)) => write!(f, "finding={}", severity.as_str()),
        }
    }
}

/// The verdict on each rule, in the order given.
pub fn evaluate(rules: &[Rule], report: &Report) -> Vec<Verdict> {
    let mut by_principal: BTreeMap<&str, u64> = BTreeMap::new();
    let mut explicit_by_principal: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &report.denials {
        *by_principal.entry(&row.principal).or_default() += 1;
        if row.explicit {
            *explicit_by_principal.entry(&row.principal).or_default() += 1;
        }
    }
    let denials = report.denials.len() as u64;
    rules
        .iter()
        .map(|rule| {
            let (crossed, detail) = match *rule {
                Rule::Any => (denials > 0, format!("{denials} denials")),
                Rule::ExplicitDeny => {
                    let explicit: u64 = explicit_by_principal.values().sum();
                    (
                        explicit > 0,
                        format!(
                            "{explicit} explicit denials{}",
                            listed(&explicit_by_principal, 0)
                        ),
                    )
                }
                Rule::DenialsOver(limit) => {
                    (denials > limit, format!("{denials} denials, limit {limit}"))
                }
                Rule::PrincipalOver(limit) => {
                    let over = by_principal.values().filter(|&&n| n > limit).count();
                    (
                        over > 0,
                        format!(
                            "{over} principals over {limit} denials{}",
                            listed(&by_principal, limit)
                        ),
                    )
                }
                Rule::Damaged => {
                    let damaged = report.files.damaged.len();
                    (damaged > 0, format!("{damaged} damaged input files"))
                }
                Rule::NoData => match report.no_data() {
                    Some(reason) => (true, format!("no data: {reason}")),
                    None => (
                        false,
                        format!("{} events in the window", report.files.events_in_window),
                    ),
                },
                Rule::MinFiles(floor) => {
                    let read = report.files.read;
                    let store = if report.files.store.is_some() {
                        " (a store has no log files: use min-records)"
                    } else {
                        ""
                    };
                    (
                        read < floor,
                        format!("{read} log files read, floor {floor}{store}"),
                    )
                }
                Rule::Finding(floor) => {
                    let floor = floor.unwrap_or(ctq_hunt::Severity::Low);
                    let found: Vec<&ctq_hunt::Finding> = report
                        .findings
                        .iter()
                        .filter(|f| f.severity >= floor)
                        .collect();
                    let named: Vec<String> = found
                        .iter()
                        .take(5)
                        .map(|f| format!("{} {}", f.rule, f.principal))
                        .collect();
                    (
                        !found.is_empty(),
                        format!(
                            "{} of severity {} or above{}",
                            crate::plural(found.len() as u64, "finding", "findings"),
                            floor.as_str(),
                            if named.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", named.join(", "))
                            }
                        ),
                    )
                }
                Rule::MinRecords(floor) => {
                    let records = report.files.events_in_window;
                    (
                        records < floor,
                        format!("{records} events in the window, floor {floor}"),
                    )
                }
            };
            Verdict {
                rule: rule.to_string(),
                crossed,
                detail,
            }
        })
        .collect()
}

/// ` (principal: n, …)` for the principals over `limit`, most first, at most five.
fn listed(counts: &BTreeMap<&str, u64>, limit: u64) -> String {
    let mut over: Vec<(&str, u64)> = counts
        .iter()
        .filter(|(_, n)| **n > limit)
        .map(|(p, n)| (*p, *n))
        .collect();
    if over.is_empty() {
        return String::new();
    }
    over.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = over
        .iter()
        .take(5)
        .map(|(p, n)| format!("{p}: {n}"))
        .collect();
    let more = over.len().saturating_sub(5);
    format!(
        " ({}{})",
        shown.join(", "),
        if more > 0 {
            format!(", {more} more")
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DamagedFile, DenialRow, Files, Window};

    fn row(principal: &str, explicit: bool) -> DenialRow {
        DenialRow {
            time_ms: Some(0),
            principal: principal.to_string(),
            service: "s3.amazonaws.com".to_string(),
            action: "GetObject".to_string(),
            error_code: "AccessDenied".to_string(),
            explicit,
        }
    }

    fn report(denials: Vec<DenialRow>, damaged: usize) -> Report {
        Report {
            generated_at: String::new(),
            window: Window {
                from: String::new(),
                to: String::new(),
                from_ms: 0,
                to_ms: 1,
            },
            source: String::new(),
            files: Files {
                damaged: (0..damaged)
                    .map(|i| DamagedFile {
                        path: format!("f{i}"),
                        reason: "cut".into(),
                    })
                    .collect(),
                ..Files::default()
            },
            denials,
            triage: Vec::new(),
            excluded: ctq_denial::triage::Excluded::default(),
            findings: Vec::new(),
            hunt_rules: Vec::new(),
            hunt_not_run: None,
            queries: Vec::new(),
            verdicts: Vec::new(),
            duration_ms: 0,
        }
    }

    #[test]
    fn rules_parse_and_print_back() {
        for text in [
            "any",
            "explicit-deny",
            "damaged",
            "denials>10",
            "principal>3",
            "no-data",
            "min-files=10",
            "min-records=0",
            "finding",
            "finding=high",
            "finding=low",
        ] {
            assert_eq!(text.parse::<Rule>().unwrap().to_string(), text);
        }
        assert_eq!("min-files= 7".parse::<Rule>().unwrap(), Rule::MinFiles(7));
        assert_eq!("denials> 7".parse::<Rule>().unwrap(), Rule::DenialsOver(7));
        for bad in [
            "denials>",
            "principal>x",
            "explicit",
            "denials<3",
            "min-files>3",
            "min-records=-1",
            "no-data=1",
            "finding=urgent",
            "findings",
        ] {
            assert!(bad.parse::<Rule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn thresholds_cross_only_past_their_limit() {
        let rows = vec![
            row("a", false),
            row("a", true),
            row("a", false),
            row("b", false),
        ];
        let report = report(rows, 1);
        let rules: Vec<Rule> = [
            "any",
            "explicit-deny",
            "denials>4",
            "denials>3",
            "principal>3",
            "principal>2",
            "damaged",
        ]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
        let verdicts = evaluate(&rules, &report);
        let crossed: Vec<bool> = verdicts.iter().map(|v| v.crossed).collect();
        assert_eq!(crossed, [true, true, false, true, false, true, true]);
        assert_eq!(verdicts[1].detail, "1 explicit denials (a: 1)");
        assert_eq!(verdicts[5].detail, "1 principals over 2 denials (a: 3)");
        let quiet = evaluate(&rules, &report_without_denials());
        assert!(quiet.iter().all(|v| !v.crossed));
    }

    fn report_without_denials() -> Report {
        report(Vec::new(), 0)
    }

    #[test]
    fn a_finding_crosses_at_its_severity_or_above() {
        let finding = |severity| {
            let mut finding = ctq_hunt::Finding::default();
            finding.rule = "recon-burst".into();
            finding.severity = severity;
            finding.principal = "arn:aws:iam::111122223333:user/leaked".into();
            finding
        };
        let mut report = report(Vec::new(), 0);
        let rules: Vec<Rule> = ["finding", "finding=medium", "finding=high"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let crossed = |report: &Report| -> Vec<bool> {
            evaluate(&rules, report).iter().map(|v| v.crossed).collect()
        };
        assert_eq!(crossed(&report), [false, false, false]);
        report.findings = vec![finding(ctq_hunt::Severity::Medium)];
        assert_eq!(crossed(&report), [true, true, false]);
        let verdicts = evaluate(&rules, &report);
        assert_eq!(
            verdicts[1].detail,
            "1 finding of severity medium or above (recon-burst arn:aws:iam::111122223333:user/leaked)"
        );
        report.findings.push(finding(ctq_hunt::Severity::High));
        assert_eq!(crossed(&report), [true, true, true]);
    }

    #[test]
    fn no_data_and_the_floors_judge_what_was_read() {
        let rules: Vec<Rule> = ["no-data", "min-files=3", "min-records=100"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let mut empty = report_without_denials();
        let verdicts = evaluate(&rules, &empty);
        assert!(verdicts.iter().all(|v| v.crossed), "{verdicts:?}");
        assert_eq!(
            verdicts[0].detail,
            "no data: no log file under the source was delivered for the window"
        );
        assert_eq!(verdicts[1].detail, "0 log files read, floor 3");

        empty.files.read = 3;
        empty.files.events_in_window = 100;
        let verdicts = evaluate(&rules, &empty);
        assert!(verdicts.iter().all(|v| !v.crossed), "{verdicts:?}");

        // Files read but no event in the window is no data too; one short of a floor crosses it.
        empty.files.read = 2;
        empty.files.events_in_window = 0;
        let crossed: Vec<bool> = evaluate(&rules, &empty).iter().map(|v| v.crossed).collect();
        assert_eq!(crossed, [true, true, true]);
        assert_eq!(
            empty.no_data().as_deref(),
            Some("2 log files read, none holds an event in the window")
        );
    }
}
