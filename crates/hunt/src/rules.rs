//! Hunting rules: `.sql` files over the `hunt_events` table, each saying in its leading comment
//! what it finds, how bad that is, where the idea comes from, when it misfires and what to do.
//!
//! A rule file starts with a comment: a first paragraph saying what the rule finds, then
//! `key: value` lines (`id`, `severity`, `source`, `false positives`, `next`), then a
//! `Parameters:` list of `$name  default  meaning` lines: the thresholds, which
//! `--threshold name=value` overrides and which are bound as values, never pasted into the SQL.
//! The query returns one row per finding: `principal`, `event_ids` (the events that show it) and
//! optionally `detail` (one sentence on what was seen).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The rules of `queries/hunt/`, built into ctq, by file stem.
const BUNDLED: [(&str, &str); 10] = [
    (
        "recon-burst",
        include_str!("../../../queries/hunt/recon-burst.sql"),
    ),
    (
        "key-validation-probing",
        include_str!("../../../queries/hunt/key-validation-probing.sql"),
    ),
    (
        "assume-role-spray",
        include_str!("../../../queries/hunt/assume-role-spray.sql"),
    ),
    (
        "bucket-guessing",
        include_str!("../../../queries/hunt/bucket-guessing.sql"),
    ),
    (
        "credential-harvest",
        include_str!("../../../queries/hunt/credential-harvest.sql"),
    ),
    (
        "offensive-tooling",
        include_str!("../../../queries/hunt/offensive-tooling.sql"),
    ),
    (
        "novel-source",
        include_str!("../../../queries/hunt/novel-source.sql"),
    ),
    (
        "new-principal-denied",
        include_str!("../../../queries/hunt/new-principal-denied.sql"),
    ),
    (
        "malformed-policy-enum",
        include_str!("../../../queries/hunt/malformed-policy-enum.sql"),
    ),
    (
        "passrole-burst",
        include_str!("../../../queries/hunt/passrole-burst.sql"),
    ),
];

/// How much a finding of a rule matters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// One threshold a rule declares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// Without the `$`.
    pub name: String,
    pub default: String,
    pub meaning: String,
}

/// One hunting rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    /// What the rule finds: the first paragraph of its comment.
    pub title: String,
    /// Where the idea comes from (detections of other tools, attack write-ups).
    pub source: String,
    /// When it fires on something benign, and how to tell.
    pub false_positives: String,
    /// What to check first when it fires.
    pub next: String,
    pub thresholds: Vec<Threshold>,
    #[serde(skip)]
    pub sql: String,
    /// The file it was read from; `None` for a bundled rule.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read the rules folder {}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} holds no .sql rule files; give --rules a folder of hunting rules, or leave it out for the bundled ones", path.display())]
    Empty { path: PathBuf },
    #[error("cannot read rule file {}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("rule {name}: {reason}; see docs/hunt.md for the header a rule file starts with")]
    Header { name: String, reason: String },
    #[error("two rules have the id {id}")]
    DuplicateId { id: String },
}

/// The rules built into ctq, in the order the docs list them.
pub fn bundled() -> Vec<Rule> {
    BUNDLED
        .iter()
        .map(|(name, sql)| parse(name, sql, None).expect("bundled rules have valid headers"))
        .collect()
}

/// The `.sql` files of `folder`, in name order.
pub fn load_folder(folder: &Path) -> Result<Vec<Rule>, RuleError> {
    use ctq_sql::saved::{SavedQueryError, sql_files};
    let files = sql_files(folder).map_err(|e| match e {
        SavedQueryError::File { path, source } => RuleError::File { path, source },
        SavedQueryError::Folder { path, source } => RuleError::Folder { path, source },
        SavedQueryError::Empty { path } => RuleError::Empty { path },
    })?;
    if files.is_empty() {
        return Err(RuleError::Empty {
            path: folder.to_path_buf(),
        });
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(files.len());
    for (path, sql) in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rule = parse(&name, &sql, Some(path))?;
        if rules.iter().any(|r| r.id == rule.id) {
            return Err(RuleError::DuplicateId { id: rule.id });
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Reads a rule's header; `name` (the file stem) names it in errors and is its id when the
/// header gives none.
pub fn parse(name: &str, sql: &str, path: Option<PathBuf>) -> Result<Rule, RuleError> {
    let header: Vec<&str> = sql
        .lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("--"))
        .map(|l| l.trim_start_matches('-').trim())
        .collect();
    let title = header
        .iter()
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !is_key_line(l) && !l.starts_with("Parameters"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let value = |key: &str| {
        header.iter().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let bad = |reason: String| RuleError::Header {
        name: name.to_string(),
        reason,
    };
    let severity_text = value("severity").ok_or_else(|| bad("no `-- severity:` line".into()))?;
    let severity = Severity::parse(&severity_text).ok_or_else(|| {
        bad(format!(
            "severity {severity_text:?} is not low, medium or high"
        ))
    })?;
    let thresholds = header
        .iter()
        .skip_while(|l| !l.starts_with("Parameters"))
        .skip(1)
        .take_while(|l| l.starts_with('$'))
        .map(|l| {
            let mut words = l.splitn(3, char::is_whitespace);
            let name = words.next().unwrap_or_default().trim_start_matches('$');
            let rest = words.collect::<Vec<_>>().join(" ");
            let rest = rest.trim_start();
            let (default, meaning) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if default.is_empty() {
                return Err(bad(format!("parameter ${name} has no default value")));
            }
            Ok(Threshold {
                name: name.to_string(),
                default: default.to_string(),
                meaning: meaning.trim().to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rule {
        id: value("id").unwrap_or_else(|| name.to_string()),
        severity,
        title,
        source: value("source").unwrap_or_default(),
        false_positives: value("false positives").unwrap_or_default(),
        next: value("next").unwrap_or_default(),
        thresholds,
        sql: sql.to_string(),
        path,
    })
}

fn is_key_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(key, _)| {
        ["id", "severity", "source", "false positives", "next"]
            .iter()
            .any(|k| key.trim().eq_ignore_ascii_case(k))
    })
}

/// Threshold values given on the command line, checked against the rules that declare them.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    given: Vec<(String, String)>,
}

/// A `--threshold` no rule declares, or one without a number.
#[derive(Debug, thiserror::Error)]
pub enum ThresholdError {
    #[error("no rule has a threshold named {name}; the thresholds are: {known}")]
    Unknown { name: String, known: String },
    #[error("threshold {name}={value} is not a number")]
    NotANumber { name: String, value: String },
}

impl Thresholds {
    /// `given` as `name=value` pairs (a leading `$` is allowed); a name applies to every rule
    /// that declares it.
    pub fn new(given: &[(String, String)], rules: &[Rule]) -> Result<Self, ThresholdError> {
        let mut checked = Vec::new();
        for (name, value) in given {
            let name = name.trim_start_matches('$').to_string();
            if !rules
                .iter()
                .any(|r| r.thresholds.iter().any(|t| t.name == name))
            {
                let mut known: Vec<&str> = rules
                    .iter()
                    .flat_map(|r| r.thresholds.iter().map(|t| t.name.as_str()))
                    .collect();
                known.sort_unstable();
                known.dedup();
                return Err(ThresholdError::Unknown {
                    name,
                    known: known.join(", "),
                });
            }
            if value.trim().parse::<f64>().is_err() {
                return Err(ThresholdError::NotANumber {
                    name,
                    value: value.clone(),
                });
            }
            checked.push((name, value.trim().to_string()));
        }
        Ok(Thresholds { given: checked })
    }

    /// The values of `rule`'s thresholds: given ones win over its defaults.
    pub fn for_rule(&self, rule: &Rule) -> Vec<(String, String)> {
        rule.thresholds
            .iter()
            .map(|t| {
                let value = self
                    .given
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == t.name)
                    .map_or_else(|| t.default.clone(), |(_, v)| v.clone());
                (t.name.clone(), value)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_rules_are_the_files_of_queries_hunt() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries/hunt");
        let mut from_files = load_folder(&folder).unwrap();
        let mut built_in = bundled();
        from_files.sort_by(|a, b| a.id.cmp(&b.id));
        built_in.sort_by(|a, b| a.id.cmp(&b.id));
        let strip = |rules: Vec<Rule>| {
            rules
                .into_iter()
                .map(|r| Rule { path: None, ..r })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(from_files), strip(built_in));
    }

    #[test]
    fn every_bundled_rule_says_what_it_finds_and_what_to_do() {
        for rule in bundled() {
            assert!(!rule.title.is_empty(), "{}", rule.id);
            assert!(!rule.source.is_empty(), "{} has no source", rule.id);
            assert!(
                !rule.false_positives.is_empty(),
                "{} has no FP profile",
                rule.id
            );
            assert!(!rule.next.is_empty(), "{} has no next step", rule.id);
            assert!(!rule.thresholds.is_empty(), "{} has no thresholds", rule.id);
            for threshold in &rule.thresholds {
                assert!(
                    rule.sql.contains(&format!("${}", threshold.name)),
                    "{} declares ${} and does not use it",
                    rule.id,
                    threshold.name
                );
                assert!(threshold.default.parse::<f64>().is_ok(), "{}", rule.id);
            }
        }
    }

    #[test]
    fn docs_hunt_md_describes_every_bundled_rule() {
        let docs = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hunt.md"),
        )
        .unwrap();
        for rule in bundled() {
            assert!(
                docs.contains(&format!("### `{}` ({})", rule.id, rule.severity.as_str())),
                "docs/hunt.md has no section for {}",
                rule.id
            );
            for threshold in &rule.thresholds {
                assert!(
                    docs.contains(&format!("`{}={}`", threshold.name, threshold.default)),
                    "docs/hunt.md does not give {}'s default for {}",
                    threshold.name,
                    rule.id
                );
            }
        }
    }

    #[test]
    fn a_header_is_read_into_its_parts() {
        let rule = parse(
            "burst",
            "-- Finds bursts\n-- of denials.\n--\n-- id: my-burst\n-- severity: Medium\n-- next: look\n-- Parameters:\n--   $min_x  10  at least this many\n--   $y 0.5\nSELECT 1",
            None,
        )
        .unwrap();
        assert_eq!(rule.id, "my-burst");
        assert_eq!(rule.title, "Finds bursts of denials.");
        assert_eq!(rule.severity, Severity::Medium);
        assert_eq!(rule.next, "look");
        assert_eq!(
            rule.thresholds,
            [
                Threshold {
                    name: "min_x".into(),
                    default: "10".into(),
                    meaning: "at least this many".into()
                },
                Threshold {
                    name: "y".into(),
                    default: "0.5".into(),
                    meaning: String::new()
                }
            ]
        );
        let missing = parse("x", "-- no severity\nSELECT 1", None).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("rule x: no `-- severity:` line"),
            "{missing}"
        );
        let wrong = parse("x", "-- severity: urgent\nSELECT 1", None).unwrap_err();
        assert!(
            wrong
                .to_string()
                .contains("\"urgent\" is not low, medium or high")
        );
    }

    #[test]
    fn thresholds_override_defaults_and_unknown_names_are_refused() {
        let rules = bundled();
        let thresholds = Thresholds::new(&[("$min_actions".into(), "25".into())], &rules).unwrap();
        let recon = rules.iter().find(|r| r.id == "recon-burst").unwrap();
        let values = thresholds.for_rule(recon);
        assert!(values.contains(&("min_actions".into(), "25".into())));
        assert!(values.contains(&("burst_minutes".into(), "10".into())));
        let unknown = Thresholds::new(&[("min_action".into(), "3".into())], &rules).unwrap_err();
        assert!(unknown.to_string().contains("min_actions"), "{unknown}");
        let nan = Thresholds::new(&[("min_actions".into(), "ten".into())], &rules).unwrap_err();
        assert!(matches!(nan, ThresholdError::NotANumber { .. }));
    }
}
