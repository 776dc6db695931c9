//! Grouping a window's denials into the few problems behind them.
//!
//! Hundreds of denial events are usually a handful of causes repeated: one principal, one action,
//! one resource, refused for one reason. [`Triage`] takes denial events one at a time (in any
//! order), drops duplicate deliveries and what the caller chose to ignore, and folds the rest into
//! [`Group`]s with counts, first and last sighting, where the calls came from, sample event IDs, and
//! the [`Advice`] for the group.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::advice::{Advice, Context, advise};
use crate::{Decision, Denial, ErrorClass, PolicyType, error_class, parse_message};

/// The parts of one CloudTrail record the triage reads.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub event_time: Option<String>,
    pub event_id: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// `userIdentity.type`: `AWSService` marks a service principal.
    pub identity_type: Option<String>,
    pub principal_arn: Option<String>,
    /// `userIdentity.invokedBy`: set when a service called on the principal's behalf.
    pub invoked_by: Option<String>,
    pub session_issuer_arn: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_parameters: Option<String>,
    /// The first `resources[].arn`, a fallback when the message names no resource.
    pub resource_arn: Option<String>,
}

impl Event {
    /// Who made the call, as a person would name them: the ARN, else the service that invoked it.
    pub fn principal(&self) -> String {
        self.principal_arn
            .clone()
            .or_else(|| self.invoked_by.clone())
            .or_else(|| self.identity_type.clone().map(|t| format!("({t})")))
            .unwrap_or_else(|| "(unknown principal)".to_string())
    }

    /// The IAM action, from the message when it names one, else from the event itself
    /// (`cloudtrail.amazonaws.com` + `LookupEvents` is `cloudtrail:LookupEvents`).
    fn action(&self, denial: &Denial) -> String {
        if let Some(action) = &denial.action {
            return action.clone();
        }
        let service = self
            .event_source
            .as_deref()
            .map_or("?", |s| s.split('.').next().unwrap_or(s));
        format!("{service}:{}", self.event_name.as_deref().unwrap_or("?"))
    }

    /// Calls made by AWS services, which the principal's owner rarely controls.
    pub fn is_service_call(&self) -> bool {
        self.identity_type.as_deref() == Some("AWSService") || self.invoked_by.is_some()
    }

    /// The read-only calls the AWS console makes while a page loads, which fail routinely for
    /// users allowed to see only part of the page.
    pub fn is_console_browsing(&self) -> bool {
        let from_console = self.user_agent.as_deref().is_some_and(|ua| {
            ua.contains("console.amazonaws.com")
                || ua.contains("signin.amazonaws.com")
                || ua == "AWS Internal"
        });
        let read_only = self.event_name.as_deref().is_some_and(|name| {
            ["Get", "List", "Describe", "Lookup", "Head"]
                .iter()
                .any(|verb| name.starts_with(verb))
        });
        from_console && read_only
    }
}

/// What a group of denials has in common: who, what, on what, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct GroupKey {
    principal: String,
    action: String,
    resource: Option<String>,
    decision: DecisionOrder,
    policy_type: Option<PolicyType>,
    policy_arn: Option<String>,
    transitive_through: Option<PolicyType>,
}

/// [`Decision`] with an order, for sorting groups deterministically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct DecisionOrder(u8);

impl From<Decision> for DecisionOrder {
    fn from(decision: Decision) -> Self {
        DecisionOrder(match decision {
            Decision::Explicit => 0,
            Decision::Implicit => 1,
            Decision::NotStated => 2,
        })
    }
}

/// Denials that share principal, action, resource and cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    pub principal: String,
    pub action: String,
    pub resource: Option<String>,
    pub decision: Decision,
    pub policy_type: Option<PolicyType>,
    pub policy_arn: Option<String>,
    pub transitive_through: Option<PolicyType>,
    /// One line naming the cause, such as `explicit deny in a service control policy (SCP)`.
    pub cause_summary: String,
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub error_codes: BTreeSet<String>,
    pub services: BTreeSet<String>,
    pub source_ips: BTreeSet<String>,
    pub user_agents: BTreeSet<String>,
    /// The earliest event IDs of the group, at most [`Triage::samples`].
    pub sample_event_ids: Vec<String>,
    /// Whether EC2 attached an encoded authorization message to any event of the group.
    pub encoded_message: bool,
    pub advice: Advice,
    /// The earliest event, whose context the advice was drawn from.
    #[serde(skip)]
    earliest: (Option<String>, Option<String>),
    /// (time, event ID) of the earliest events seen so far, trimmed as it grows.
    #[serde(skip)]
    samples: Vec<(Option<String>, String)>,
}

/// Why an event was not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Excluded {
    /// Not a denial at all (another error, or a failed sign-in).
    pub not_denials: u64,
    /// The same eventID seen before: CloudTrail may deliver an event more than once.
    pub duplicates: u64,
    /// Calls by AWS service principals, under [`Noise::service_calls`].
    pub service_calls: u64,
    /// Console page loads, under [`Noise::console_browsing`].
    pub console_browsing: u64,
    /// Matched a line of the suppression file.
    pub suppressed: u64,
}

/// Which kinds of routine denial to leave out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Noise {
    pub service_calls: bool,
    pub console_browsing: bool,
}

/// Folds denial events into groups. Feed events with [`Triage::add`], then take
/// [`Triage::groups`].
#[derive(Debug)]
pub struct Triage {
    noise: Noise,
    suppressions: Suppressions,
    samples: usize,
    seen_event_ids: HashSet<String>,
    groups: BTreeMap<GroupKey, Group>,
    excluded: Excluded,
}

impl Triage {
    pub fn new(noise: Noise, suppressions: Suppressions, samples: usize) -> Self {
        Triage {
            noise,
            suppressions,
            samples,
            seen_event_ids: HashSet::new(),
            groups: BTreeMap::new(),
            excluded: Excluded::default(),
        }
    }

    pub fn add(&mut self, event: &Event) {
        let class = error_class(
            event.error_code.as_deref(),
            event.error_message.as_deref(),
            event.event_name.as_deref(),
        );
        if class != ErrorClass::Denial {
            self.excluded.not_denials += 1;
            return;
        }
        if let Some(id) = &event.event_id
            && !self.seen_event_ids.insert(id.clone())
        {
            self.excluded.duplicates += 1;
            return;
        }
        if self.noise.service_calls && event.is_service_call() {
            self.excluded.service_calls += 1;
            return;
        }
        if self.noise.console_browsing && event.is_console_browsing() {
            self.excluded.console_browsing += 1;
            return;
        }
        let denial = parse_message(event.error_message.as_deref().unwrap_or(""));
        let principal = event.principal();
        let action = event.action(&denial);
        let resource = denial
            .resource
            .clone()
            .or_else(|| event.resource_arn.clone());
        if self
            .suppressions
            .matches(&principal, &action, resource.as_deref().unwrap_or(""))
        {
            self.excluded.suppressed += 1;
            return;
        }
        let key = GroupKey {
            principal: principal.clone(),
            action: action.clone(),
            resource: resource.clone(),
            decision: denial.decision.into(),
            policy_type: denial.policy_type,
            policy_arn: denial.policy_arn.clone(),
            transitive_through: denial.transitive_through,
        };
        let advice_for = |event: &Event| {
            let context = Context {
                event_source: event.event_source.as_deref(),
                event_name: event.event_name.as_deref(),
                principal_arn: event.principal_arn.as_deref(),
                session_issuer_arn: event.session_issuer_arn.as_deref(),
                request_parameters: event.request_parameters.as_deref(),
            };
            let mut denial = denial.clone();
            // The message may name no resource while the record's resources list does.
            denial.resource = denial.resource.or_else(|| event.resource_arn.clone());
            advise(
                &denial,
                event.error_code.as_deref().unwrap_or_default(),
                &context,
            )
        };
        let ordering = (event.event_time.clone(), event.event_id.clone());
        let group = self.groups.entry(key).or_insert_with(|| Group {
            principal,
            action,
            resource,
            decision: denial.decision,
            policy_type: denial.policy_type,
            policy_arn: denial.policy_arn.clone(),
            transitive_through: denial.transitive_through,
            cause_summary: cause_summary(&denial),
            count: 0,
            first_seen: None,
            last_seen: None,
            error_codes: BTreeSet::new(),
            services: BTreeSet::new(),
            source_ips: BTreeSet::new(),
            user_agents: BTreeSet::new(),
            sample_event_ids: Vec::new(),
            encoded_message: false,
            advice: advice_for(event),
            earliest: ordering.clone(),
            samples: Vec::new(),
        });
        group.count += 1;
        // Events arrive in any order (files are read in parallel): keep the advice of the
        // earliest event, so the same trail always gives the same report.
        if ordering < group.earliest {
            group.advice = advice_for(event);
            group.earliest = ordering;
        }
        if let Some(time) = &event.event_time {
            if group.first_seen.as_ref().is_none_or(|t| time < t) {
                group.first_seen = Some(time.clone());
            }
            if group.last_seen.as_ref().is_none_or(|t| time > t) {
                group.last_seen = Some(time.clone());
            }
        }
        group.error_codes.extend(event.error_code.clone());
        group.services.extend(event.event_source.clone());
        group.source_ips.extend(event.source_ip.clone());
        group.user_agents.extend(event.user_agent.clone());
        group.encoded_message |= denial.encoded_message.is_some();
        if let Some(id) = &event.event_id {
            group.samples.push((event.event_time.clone(), id.clone()));
            // Keep memory bounded by the sample size, not by the group's size.
            if group.samples.len() > 4 * self.samples.max(1) {
                group.samples.sort();
                group.samples.truncate(self.samples);
            }
        }
    }

    /// The groups, most frequent first, ties in a fixed order, each with its earliest event IDs;
    /// and what was left out.
    pub fn finish(self) -> (Vec<Group>, Excluded) {
        let mut groups: Vec<Group> = self.groups.into_values().collect();
        for group in &mut groups {
            group.samples.sort();
            group.samples.truncate(self.samples);
            group.sample_event_ids = group.samples.iter().map(|(_, id)| id.clone()).collect();
        }
        groups.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.principal.cmp(&b.principal))
                .then_with(|| a.action.cmp(&b.action))
        });
        (groups, self.excluded)
    }

    pub fn excluded(&self) -> Excluded {
        self.excluded
    }
}

/// `explicit deny in a service control policy (SCP)`, `no identity-based policy allows it`, ...
pub fn cause_summary(denial: &Denial) -> String {
    let kind = denial.policy_type.map(|t| t.describe());
    let mut text = match (denial.decision, kind) {
        (Decision::Explicit, Some(kind)) => format!("explicit deny in a {kind}"),
        (Decision::Explicit, None) => "explicit deny (policy type not stated)".to_string(),
        (Decision::Implicit, Some(kind)) => format!("no {kind} allows it"),
        (Decision::Implicit, None) => "no policy allows it".to_string(),
        (Decision::NotStated, Some(kind)) => format!("denied by a {kind}"),
        (Decision::NotStated, None) if denial.encoded_message.is_some() => {
            "not stated; EC2 encoded the reason".to_string()
        }
        (Decision::NotStated, None) => "not stated in the message".to_string(),
    };
    if let Some(through) = denial.transitive_through {
        text.push_str(&format!(", transitively through a {}", through.describe()));
    }
    text
}

/// Denials to ignore, from a suppression file.
///
/// One rule per line: `PRINCIPAL [ACTION [RESOURCE]]`, separated by whitespace, where each field
/// is a pattern in which `*` matches any run of characters (including none) and a missing field
/// matches everything. `#` starts a comment; blank lines are ignored. Matching is exact otherwise
/// (IAM action names are compared without regard to case, as IAM does).
///
/// ```text
/// # The config recorder probes roles it may not read; expected.
/// config.amazonaws.com  iam:GetRole
/// arn:aws:sts::111122223333:assumed-role/ReadOnly/*  *:Describe*
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressions {
    rules: Vec<[String; 3]>,
}

/// A suppression file line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}; a rule is PRINCIPAL [ACTION [RESOURCE]] with * as a wildcard")]
pub struct SuppressionError {
    pub line: usize,
    pub reason: String,
}

impl Suppressions {
    pub fn parse(text: &str) -> Result<Self, SuppressionError> {
        let mut rules = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 3 {
                return Err(SuppressionError {
                    line: number + 1,
                    reason: format!("{} fields, at most 3 expected", fields.len()),
                });
            }
            let field = |i: usize| fields.get(i).copied().unwrap_or("*").to_string();
            rules.push([field(0), field(1).to_ascii_lowercase(), field(2)]);
        }
        Ok(Suppressions { rules })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn matches(&self, principal: &str, action: &str, resource: &str) -> bool {
        let action = action.to_ascii_lowercase();
        self.rules.iter().any(|[p, a, r]| {
            glob_match(p, principal) && glob_match(a, &action) && glob_match(r, resource)
        })
    }
}

/// `*`-only glob matching, linear in practice: the last `*` is retried on a mismatch.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            retry = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star, matched)) = retry {
            pi = star + 1;
            ti = matched + 1;
            retry = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial_event(id: &str, time: &str, who: &str, message: &str) -> Event {
        Event {
            event_time: Some(time.into()),
            event_id: Some(id.into()),
            event_source: Some("cloudtrail.amazonaws.com".into()),
            event_name: Some("LookupEvents".into()),
            error_code: Some("AccessDenied".into()),
            error_message: Some(message.into()),
            principal_arn: Some(who.into()),
            source_ip: Some("192.0.2.1".into()),
            ..Event::default()
        }
    }

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    #[test]
    fn same_principal_action_and_cause_fold_into_one_group() {
        let explicit = format!(
            "User: {ALICE} is not authorized to perform: cloudtrail:LookupEvents with an explicit deny in an identity-based policy"
        );
        let bare = format!("User: {ALICE} is not authorized to perform: cloudtrail:LookupEvents");
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 2);
        triage.add(&denial_event("c", "2024-01-01T00:03:00Z", ALICE, &explicit));
        triage.add(&denial_event("a", "2024-01-01T00:01:00Z", ALICE, &explicit));
        triage.add(&denial_event("b", "2024-01-01T00:02:00Z", ALICE, &explicit));
        triage.add(&denial_event("d", "2024-01-01T00:04:00Z", ALICE, &bare));
        let (groups, excluded) = triage.finish();
        assert_eq!(groups.len(), 2, "{groups:#?}");
        assert_eq!(groups[0].count, 3);
        assert_eq!(groups[0].decision, Decision::Explicit);
        assert_eq!(
            groups[0].first_seen.as_deref(),
            Some("2024-01-01T00:01:00Z")
        );
        assert_eq!(groups[0].last_seen.as_deref(), Some("2024-01-01T00:03:00Z"));
        assert_eq!(groups[0].sample_event_ids, ["a", "b"]);
        assert_eq!(groups[1].count, 1);
        assert_eq!(groups[1].decision, Decision::NotStated);
        assert_eq!(excluded, Excluded::default());
    }

    #[test]
    fn duplicate_deliveries_count_once_and_other_errors_not_at_all() {
        let message =
            format!("User: {ALICE} is not authorized to perform: cloudtrail:LookupEvents");
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
        let event = denial_event("same", "2024-01-01T00:01:00Z", ALICE, &message);
        triage.add(&event);
        triage.add(&event);
        let mut throttled = event.clone();
        throttled.event_id = Some("other".into());
        throttled.error_code = Some("ThrottlingException".into());
        triage.add(&throttled);
        let (groups, excluded) = triage.finish();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, 1);
        assert_eq!(excluded.duplicates, 1);
        assert_eq!(excluded.not_denials, 1);
    }

    #[test]
    fn the_action_comes_from_the_event_when_the_message_is_silent() {
        let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
        let mut event = denial_event("x", "2024-01-01T00:01:00Z", ALICE, "Access Denied");
        event.event_source = Some("s3.amazonaws.com".into());
        event.event_name = Some("GetObject".into());
        event.resource_arn = Some("arn:aws:s3:::bucket/key".into());
        triage.add(&event);
        let (groups, _) = triage.finish();
        assert_eq!(groups[0].action, "s3:GetObject");
        assert_eq!(
            groups[0].resource.as_deref(),
            Some("arn:aws:s3:::bucket/key")
        );
        assert_eq!(groups[0].cause_summary, "not stated in the message");
    }

    #[test]
    fn noise_and_suppressions_are_counted_apart() {
        let suppressions = Suppressions::parse(
            "# expected\nconfig.amazonaws.com iam:getrole\n\narn:aws:iam::111122223333:user/* cloudtrail:Lookup*  # comment\n",
        )
        .unwrap();
        assert_eq!(suppressions.len(), 2);
        let mut triage = Triage::new(
            Noise {
                service_calls: true,
                console_browsing: true,
            },
            suppressions.clone(),
            3,
        );
        let mut service = denial_event("s", "2024-01-01T00:01:00Z", ALICE, "");
        service.principal_arn = None;
        service.identity_type = Some("AWSService".into());
        service.invoked_by = Some("config.amazonaws.com".into());
        triage.add(&service);
        let mut console = denial_event("c", "2024-01-01T00:01:00Z", ALICE, "");
        console.event_name = Some("DescribeInstances".into());
        console.user_agent = Some("console.amazonaws.com".into());
        triage.add(&console);
        triage.add(&denial_event("l", "2024-01-01T00:01:00Z", ALICE, ""));
        let mut kept = denial_event("k", "2024-01-01T00:01:00Z", ALICE, "");
        kept.event_name = Some("StartLogging".into());
        triage.add(&kept);
        let (groups, excluded) = triage.finish();
        assert_eq!(excluded.service_calls, 1);
        assert_eq!(excluded.console_browsing, 1);
        assert_eq!(excluded.suppressed, 1);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].action, "cloudtrail:StartLogging");

        // Without the noise flags, the service call reaches the suppression rule instead.
        let mut triage = Triage::new(Noise::default(), suppressions, 3);
        service.event_source = Some("iam.amazonaws.com".into());
        service.event_name = Some("GetRole".into());
        triage.add(&service);
        assert_eq!(triage.excluded().suppressed, 1);
    }

    #[test]
    fn a_bad_suppression_line_is_named() {
        let error = Suppressions::parse("a b\na b c d\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.to_string().contains("PRINCIPAL [ACTION [RESOURCE]]"));
    }

    #[test]
    fn globs_match_runs_of_characters() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a*c", "abbbc", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("abc", "abd", false),
            ("*:Describe*", "ec2:DescribeInstances", true),
            ("*:describe*", "ec2:DescribeInstances", false),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn every_cause_reads_as_a_phrase() {
        let mut denial = Denial {
            decision: Decision::Explicit,
            policy_type: Some(PolicyType::VpcEndpointPolicy),
            transitive_through: Some(PolicyType::ServiceControlPolicy),
            ..Denial::default()
        };
        assert_eq!(
            cause_summary(&denial),
            "explicit deny in a VPC endpoint policy, transitively through a service control policy (SCP)"
        );
        denial.transitive_through = None;
        denial.decision = Decision::Implicit;
        denial.policy_type = Some(PolicyType::SessionPolicy);
        assert_eq!(cause_summary(&denial), "no session policy allows it");
    }
}
