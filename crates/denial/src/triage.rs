//! Grouping a window's denials into the few problems behind them.
//!
//! Hundreds of denial events are usually a handful of causes repeated: one principal, one action,
//! one resource, refused for one reason. [`Triage`] takes denial events one at a time (in any
//! order), drops duplicate deliveries and what the caller chose to ignore, and folds the rest into
//! [`Group`]s with counts, first and last sighting, where the calls came from, sample event IDs, and
//! the [`Advice`] for the group.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::advice::{Advice, Context, advise, with_article};
use crate::{Arn, Decision, Denial, ErrorClass, PolicyType, error_class, parse_message};

/// The parts of one CloudTrail record the triage reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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

/// What a group of denials has in common: the values of the [`GroupBy`] dimensions, `None` for
/// the dimensions left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct GroupKey {
    principal: Option<String>,
    action: Option<String>,
    /// Keyed on, an unnamed resource or account is the empty string.
    resource: Option<String>,
    cause: Option<CauseKey>,
    account: Option<String>,
}

/// Why a request was refused, without the policy ARN: an organization has a handful of SCPs, and
/// one cause is one fix even when its denials name different statements' policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct CauseKey {
    decision: DecisionOrder,
    policy_type: Option<PolicyType>,
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

/// Denials that share the values of the [`GroupBy`] dimensions; by default principal, action,
/// folded resource and cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    /// The principal, or `(N principals)` when the group is not keyed on it and holds several.
    pub principal: String,
    /// The account of the principal (else of the resource), when the ARNs name one.
    pub account: Option<String>,
    /// The action, or `(N actions)` when the group is not keyed on it and holds several.
    pub action: String,
    /// The resource folded to what a person grants ([`fold_resource`]), or `(N resources)`.
    pub resource: Option<String>,
    pub decision: Decision,
    pub policy_type: Option<PolicyType>,
    /// The denying policy named by the earliest event.
    pub policy_arn: Option<String>,
    /// Every denying policy the group's messages named, at most [`SAMPLE_VALUES`].
    pub policy_arns: Vec<String>,
    pub transitive_through: Option<PolicyType>,
    /// One line naming the cause, such as `explicit deny in a service control policy (SCP)`, or
    /// `(N causes)`.
    pub cause_summary: String,
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// How many distinct values of each dimension the group holds.
    pub distinct: Distinct,
    /// A few of the exact resources folded into [`Group::resource`], smallest first.
    pub sample_resources: Vec<String>,
    /// The dimensions whose values differ inside the group: its advice is then that of its
    /// earliest event only.
    pub mixed: Vec<Dimension>,
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
    earliest: (Option<String>, Option<String>, u64),
    /// (time, event ID) of the earliest events seen so far, trimmed as it grows.
    #[serde(skip)]
    samples: Vec<(Option<String>, String)>,
    #[serde(skip)]
    earliest_event: Event,
    #[serde(skip)]
    seen: Seen,
}

/// Exact resources and policy ARNs shown per group.
pub const SAMPLE_VALUES: usize = 3;

/// Counts of distinct values inside a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Distinct {
    pub principals: u64,
    pub actions: u64,
    /// Exact resources, before folding.
    pub resources: u64,
    pub causes: u64,
    pub accounts: u64,
    pub policy_arns: u64,
}

/// The values a group has seen, to count them at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Seen {
    principals: Values,
    actions: Values,
    resources: Values,
    folded: Values,
    causes: Values,
    accounts: Values,
    policy_arns: Values,
}

/// The distinct values of one dimension of a group, in order. Nearly every group holds one value
/// of each (it is keyed on most of them, and most groups are a denial or a few of the same
/// call), so that value is kept without a set: seven sets a group, each allocating a node for its
/// first value, were a large part of the triage's allocating and freeing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Values {
    #[default]
    None,
    One(String),
    Many(BTreeSet<String>),
}

impl Values {
    fn insert(&mut self, value: &str) {
        match self {
            Values::None => *self = Values::One(value.to_owned()),
            Values::One(one) if one == value => {}
            Values::One(one) => {
                let one = std::mem::take(one);
                *self = Values::Many(BTreeSet::from([one, value.to_owned()]));
            }
            Values::Many(set) => {
                if !set.contains(value) {
                    set.insert(value.to_owned());
                }
            }
        }
    }

    fn insert_some(&mut self, value: Option<&str>) {
        if let Some(value) = value {
            self.insert(value);
        }
    }

    fn len(&self) -> usize {
        match self {
            Values::None => 0,
            Values::One(_) => 1,
            Values::Many(set) => set.len(),
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self {
            Values::None => false,
            Values::One(one) => one == value,
            Values::Many(set) => set.contains(value),
        }
    }

    /// The values, smallest first.
    fn iter(&self) -> impl Iterator<Item = &String> {
        let (one, many) = match self {
            Values::None => (None, None),
            Values::One(one) => (Some(one), None),
            Values::Many(set) => (None, Some(set.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// A dimension denials can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Principal,
    Action,
    Resource,
    Cause,
    Account,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Principal,
        Dimension::Action,
        Dimension::Resource,
        Dimension::Cause,
        Dimension::Account,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Dimension::Principal => "principal",
            Dimension::Action => "action",
            Dimension::Resource => "resource",
            Dimension::Cause => "cause",
            Dimension::Account => "account",
        }
    }
}

/// A name on the command line that is none of the accepted ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not one of {expected}")]
pub struct UnknownName {
    pub name: String,
    pub expected: String,
}

fn parse_name<T: Copy>(
    text: &str,
    all: &[T],
    name: impl Fn(&T) -> &'static str,
) -> Result<T, UnknownName> {
    let text = text.trim();
    all.iter()
        .find(|v| name(v).eq_ignore_ascii_case(text))
        .copied()
        .ok_or_else(|| UnknownName {
            name: text.to_owned(),
            expected: all.iter().map(&name).collect::<Vec<_>>().join(", "),
        })
}

impl std::str::FromStr for Dimension {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name(s, &Dimension::ALL, Dimension::as_str)
    }
}

/// The dimensions groups are keyed on, in the order given, each once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct GroupBy(Vec<Dimension>);

impl Default for GroupBy {
    /// Principal, action, folded resource and cause.
    fn default() -> Self {
        GroupBy(vec![
            Dimension::Principal,
            Dimension::Action,
            Dimension::Resource,
            Dimension::Cause,
        ])
    }
}

impl GroupBy {
    /// The dimensions without repeats; none gives the default.
    pub fn new(dimensions: impl IntoIterator<Item = Dimension>) -> Self {
        let mut kept = Vec::new();
        for dimension in dimensions {
            if !kept.contains(&dimension) {
                kept.push(dimension);
            }
        }
        if kept.is_empty() {
            return GroupBy::default();
        }
        GroupBy(kept)
    }

    pub fn has(&self, dimension: Dimension) -> bool {
        self.0.contains(&dimension)
    }

    pub fn dimensions(&self) -> &[Dimension] {
        &self.0
    }
}

/// The kinds of policy `--cause` selects, as a person names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    Scp,
    Rcp,
    Boundary,
    Session,
    Identity,
    Resource,
    Vpce,
    /// A role's trust policy, including the resource-based denials of `sts:AssumeRole*`.
    Trust,
}

impl CauseKind {
    pub const ALL: [CauseKind; 8] = [
        CauseKind::Scp,
        CauseKind::Rcp,
        CauseKind::Boundary,
        CauseKind::Session,
        CauseKind::Identity,
        CauseKind::Resource,
        CauseKind::Vpce,
        CauseKind::Trust,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            CauseKind::Scp => "scp",
            CauseKind::Rcp => "rcp",
            CauseKind::Boundary => "boundary",
            CauseKind::Session => "session",
            CauseKind::Identity => "identity",
            CauseKind::Resource => "resource",
            CauseKind::Vpce => "vpce",
            CauseKind::Trust => "trust",
        }
    }

    /// The kind of a policy type, for the action denied (a resource policy refusing
    /// `sts:AssumeRole` is the role's trust policy).
    fn of(policy_type: PolicyType, action: &str) -> CauseKind {
        let assume = action
            .get(..14)
            .is_some_and(|a| a.eq_ignore_ascii_case("sts:AssumeRole"));
        match policy_type {
            PolicyType::ServiceControlPolicy => CauseKind::Scp,
            PolicyType::ResourceControlPolicy => CauseKind::Rcp,
            PolicyType::PermissionsBoundary => CauseKind::Boundary,
            PolicyType::SessionPolicy => CauseKind::Session,
            PolicyType::IdentityBased => CauseKind::Identity,
            PolicyType::ResourceBased if assume => CauseKind::Trust,
            PolicyType::ResourceBased => CauseKind::Resource,
            PolicyType::VpcEndpointPolicy => CauseKind::Vpce,
            PolicyType::RoleTrustPolicy => CauseKind::Trust,
        }
    }

    /// Every kind a denial counts under: the deciding policy's, and the one it was applied
    /// through. A `VpceAccessDenied` without a stated type is the endpoint's policy.
    pub fn of_denial(denial: &Denial, action: &str, error_code: &str) -> Vec<CauseKind> {
        let mut kinds: Vec<CauseKind> = [denial.policy_type, denial.transitive_through]
            .into_iter()
            .flatten()
            .map(|t| CauseKind::of(t, action))
            .collect();
        if kinds.is_empty() && crate::contains_ignore_case(error_code, "vpceaccessdenied") {
            kinds.push(CauseKind::Vpce);
        }
        kinds
    }
}

impl std::str::FromStr for CauseKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name(s, &CauseKind::ALL, CauseKind::as_str)
    }
}

/// What one principal was denied, for the summary that heads the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrincipalSummary {
    pub principal: String,
    pub denials: u64,
    /// Distinct actions denied.
    pub actions: u64,
    /// Short cause labels ([`cause_label`]) with their counts, most frequent first.
    pub causes: Vec<CauseCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CauseCount {
    pub cause: String,
    pub count: u64,
}

#[derive(Debug, Default)]
struct PrincipalTally {
    denials: u64,
    actions: BTreeSet<String>,
    causes: BTreeMap<String, u64>,
}

/// The triage's result: the groups (most frequent first), what was left out, and the summary
/// per principal (most denials first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub groups: Vec<Group>,
    pub excluded: Excluded,
    pub principals: Vec<PrincipalSummary>,
}

/// Why an event was not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Excluded {
    /// Not a denial at all (another error, or a failed sign-in).
    pub not_denials: u64,
    /// The same event seen before (its ID, time and name): CloudTrail may deliver an event more
    /// than once.
    pub duplicates: u64,
    /// Calls by AWS service principals, under [`Noise::service_calls`].
    pub service_calls: u64,
    /// Console page loads, under [`Noise::console_browsing`].
    pub console_browsing: u64,
    /// Matched a line of the suppression file.
    pub suppressed: u64,
    /// Denied by a kind of policy the cause filter ([`Triage::only_causes`]) left out.
    pub other_causes: u64,
}

/// Which kinds of routine denial to leave out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Noise {
    pub service_calls: bool,
    pub console_browsing: bool,
}

/// Folds denial events into groups. Feed events with [`Triage::add`], then take
/// [`Triage::finish`].
#[derive(Debug)]
pub struct Triage {
    noise: Noise,
    suppressions: Suppressions,
    samples: usize,
    group_by: GroupBy,
    fold: bool,
    causes: Vec<CauseKind>,
    /// (ID, time, name, fingerprint of every field) of the events counted. A second delivery is a
    /// copy, while hand-written trails reuse IDs, times and names for different events (the
    /// panther-analysis fixtures hold two events with ID `1`, the same time and name, and other
    /// source addresses): keyed on less than the whole event, which of those is counted would
    /// depend on the order they are read in, and files are read in parallel.
    seen_events: HashSet<(String, Option<String>, Option<String>, u64)>,
    /// Each group's place in `groups`: a group is large (its earliest event, its advice), and a
    /// map holding the groups themselves moved them about on every insertion.
    group_index: HashMap<GroupKey, usize>,
    groups: Vec<Group>,
    principals: BTreeMap<String, PrincipalTally>,
    excluded: Excluded,
}

impl Triage {
    pub fn new(noise: Noise, suppressions: Suppressions, samples: usize) -> Self {
        Triage {
            noise,
            suppressions,
            samples,
            group_by: GroupBy::default(),
            fold: false,
            causes: Vec::new(),
            seen_events: HashSet::new(),
            group_index: HashMap::new(),
            groups: Vec::new(),
            principals: BTreeMap::new(),
            excluded: Excluded::default(),
        }
    }

    /// Groups by these dimensions instead of the default.
    #[must_use]
    pub fn group_by(mut self, group_by: GroupBy) -> Self {
        self.group_by = group_by;
        self
    }

    /// Folds resources to what a person grants ([`fold_resource`]) before grouping; without it a
    /// group holds one exact resource.
    #[must_use]
    pub fn fold_resources(mut self, fold: bool) -> Self {
        self.fold = fold;
        self
    }

    /// Counts only denials by these kinds of policy; none means all.
    #[must_use]
    pub fn only_causes(mut self, causes: &[CauseKind]) -> Self {
        self.causes = causes.to_vec();
        self
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
        let fingerprint = fingerprint(event);
        if let Some(id) = &event.event_id
            && !self.seen_events.insert((
                id.clone(),
                event.event_time.clone(),
                event.event_name.clone(),
                fingerprint,
            ))
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
        if !self.causes.is_empty() {
            let kinds = CauseKind::of_denial(
                &denial,
                &action,
                event.error_code.as_deref().unwrap_or_default(),
            );
            if !kinds.iter().any(|k| self.causes.contains(k)) {
                self.excluded.other_causes += 1;
                return;
            }
        }
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
        let folded = if self.fold {
            resource.as_deref().map(fold_resource)
        } else {
            resource.clone()
        };
        let account = account_of(&principal)
            .or_else(|| resource.as_deref().and_then(account_of))
            .map(str::to_owned);
        let cause = CauseKey {
            decision: denial.decision.into(),
            policy_type: denial.policy_type,
            transitive_through: denial.transitive_through,
        };
        let summary = cause_summary(&denial);
        let by = |d: Dimension| self.group_by.has(d);
        let key = GroupKey {
            principal: by(Dimension::Principal).then(|| principal.clone()),
            action: by(Dimension::Action).then(|| action.clone()),
            resource: by(Dimension::Resource).then(|| folded.clone().unwrap_or_default()),
            cause: by(Dimension::Cause).then_some(cause),
            account: by(Dimension::Account).then(|| account.clone().unwrap_or_default()),
        };
        if !self.principals.contains_key(&principal) {
            self.principals
                .insert(principal.clone(), PrincipalTally::default());
        }
        let tally = self.principals.get_mut(&principal).expect("inserted above");
        tally.denials += 1;
        insert_new(&mut tally.actions, Some(&action));
        *tally.causes.entry(cause_label(&denial)).or_default() += 1;

        // Time, then ID, then the fingerprint: two different events sharing a time and an ID are
        // still ordered the same way whichever is read first.
        let ordering = (
            event.event_time.clone(),
            event.event_id.clone(),
            fingerprint,
        );
        let next = self.groups.len();
        let at = *self.group_index.entry(key).or_insert(next);
        if at == next {
            self.groups.push(Group {
                principal: principal.clone(),
                account: account.clone(),
                action: action.clone(),
                resource: folded.clone(),
                decision: denial.decision,
                policy_type: denial.policy_type,
                policy_arn: denial.policy_arn.clone(),
                policy_arns: Vec::new(),
                transitive_through: denial.transitive_through,
                cause_summary: summary.clone(),
                count: 0,
                first_seen: None,
                last_seen: None,
                distinct: Distinct::default(),
                sample_resources: Vec::new(),
                mixed: Vec::new(),
                error_codes: BTreeSet::new(),
                services: BTreeSet::new(),
                source_ips: BTreeSet::new(),
                user_agents: BTreeSet::new(),
                sample_event_ids: Vec::new(),
                encoded_message: false,
                advice: advice_for(event, &denial, None),
                earliest_event: event.clone(),
                earliest: ordering.clone(),
                samples: Vec::new(),
                seen: Seen::default(),
            });
        }
        let group = &mut self.groups[at];
        group.count += 1;
        // Events arrive in any order (files are read in parallel): keep the advice and the
        // ungrouped values of the earliest event, so the same trail always gives the same report.
        if ordering < group.earliest {
            group.advice = advice_for(event, &denial, None);
            group.earliest_event = event.clone();
            group.earliest = ordering;
            group.principal.clone_from(&principal);
            group.account.clone_from(&account);
            group.action.clone_from(&action);
            group.resource.clone_from(&folded);
            group.decision = denial.decision;
            group.policy_type = denial.policy_type;
            group.policy_arn.clone_from(&denial.policy_arn);
            group.transitive_through = denial.transitive_through;
            group.cause_summary.clone_from(&summary);
        }
        if let Some(time) = &event.event_time {
            if group.first_seen.as_ref().is_none_or(|t| time < t) {
                group.first_seen = Some(time.clone());
            }
            if group.last_seen.as_ref().is_none_or(|t| time > t) {
                group.last_seen = Some(time.clone());
            }
        }
        let seen = &mut group.seen;
        seen.principals.insert(&principal);
        seen.actions.insert(&action);
        seen.resources.insert_some(resource.as_deref());
        seen.folded.insert_some(folded.as_deref());
        seen.causes.insert(&summary);
        seen.accounts.insert_some(account.as_deref());
        seen.policy_arns.insert_some(denial.policy_arn.as_deref());
        insert_new(&mut group.error_codes, event.error_code.as_deref());
        insert_new(&mut group.services, event.event_source.as_deref());
        insert_new(&mut group.source_ips, event.source_ip.as_deref());
        insert_new(&mut group.user_agents, event.user_agent.as_deref());
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
        let finished = self.finish_with_summary();
        (finished.groups, finished.excluded)
    }

    /// [`Triage::finish`] with the summary per principal.
    pub fn finish_with_summary(self) -> Finished {
        let samples = self.samples;
        // In the order of their keys, which the sort below keeps among equals.
        let mut keyed: Vec<(GroupKey, usize)> = self.group_index.into_iter().collect();
        keyed.sort_unstable();
        let mut by_key: Vec<Option<Group>> = self.groups.into_iter().map(Some).collect();
        let mut groups: Vec<Group> = keyed
            .into_iter()
            .map(|(_, at)| by_key[at].take().expect("each group has one key"))
            .collect();
        for group in &mut groups {
            group.samples.sort();
            group.samples.truncate(samples);
            group.sample_event_ids = group.samples.iter().map(|(_, id)| id.clone()).collect();
            settle(group);
            // A group of many resources folded into one is fixed on the folded resource (a
            // bucket's prefix, an instance type), not on its earliest event's.
            if self.fold
                && group.distinct.resources > 1
                && !group.mixed.contains(&Dimension::Resource)
            {
                let event = &group.earliest_event;
                let denial = parse_message(event.error_message.as_deref().unwrap_or(""));
                group.advice = advice_for(event, &denial, group.resource.clone());
            }
        }
        // Sorted as places, then moved once: a group is too large to move about while sorting.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&groups[a], &groups[b]);
            b.count
                .cmp(&a.count)
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.principal.cmp(&b.principal))
                .then_with(|| a.action.cmp(&b.action))
                .then_with(|| a.resource.cmp(&b.resource))
                .then_with(|| a.cause_summary.cmp(&b.cause_summary))
        });
        let mut slots: Vec<Option<Group>> = groups.into_iter().map(Some).collect();
        let groups: Vec<Group> = order
            .into_iter()
            .map(|at| slots[at].take().expect("each place once"))
            .collect();
        let mut principals: Vec<PrincipalSummary> = self
            .principals
            .into_iter()
            .map(|(principal, tally)| {
                let mut causes: Vec<CauseCount> = tally
                    .causes
                    .into_iter()
                    .map(|(cause, count)| CauseCount { cause, count })
                    .collect();
                causes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.cause.cmp(&b.cause)));
                PrincipalSummary {
                    principal,
                    denials: tally.denials,
                    actions: tally.actions.len() as u64,
                    causes,
                }
            })
            .collect();
        principals.sort_by(|a, b| {
            b.denials
                .cmp(&a.denials)
                .then_with(|| a.principal.cmp(&b.principal))
        });
        Finished {
            groups,
            excluded: self.excluded,
            principals,
        }
    }

    pub fn excluded(&self) -> Excluded {
        self.excluded
    }
}

/// A hash of every field of `event`, the same in every run (`DefaultHasher::new` has fixed keys).
fn fingerprint(event: &Event) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    event.hash(&mut hasher);
    hasher.finish()
}

/// Adds `value` to `set` unless it is there: a copy only of what is new.
fn insert_new(set: &mut BTreeSet<String>, value: Option<&str>) {
    if let Some(value) = value
        && !set.contains(value)
    {
        set.insert(value.to_owned());
    }
}

/// The advice for `event`, whose message says `denial`, on `resource` when given.
fn advice_for(event: &Event, denial: &Denial, resource: Option<String>) -> Advice {
    let context = Context {
        event_source: event.event_source.as_deref(),
        event_name: event.event_name.as_deref(),
        principal_arn: event.principal_arn.as_deref(),
        session_issuer_arn: event.session_issuer_arn.as_deref(),
        request_parameters: event.request_parameters.as_deref(),
        identity_type: event.identity_type.as_deref(),
        invoked_by: event.invoked_by.as_deref(),
    };
    let mut denial = denial.clone();
    // The message may name no resource while the record's resources list does.
    denial.resource = resource
        .or(denial.resource)
        .or_else(|| event.resource_arn.clone());
    advise(
        &denial,
        event.error_code.as_deref().unwrap_or_default(),
        &context,
    )
}

/// Counts what a group saw, and names a dimension it holds several values of by their number.
fn settle(group: &mut Group) {
    let seen = std::mem::take(&mut group.seen);
    let count = |values: &Values| values.len() as u64;
    group.distinct = Distinct {
        principals: count(&seen.principals),
        actions: count(&seen.actions),
        resources: count(&seen.resources),
        causes: count(&seen.causes),
        accounts: count(&seen.accounts),
        policy_arns: count(&seen.policy_arns),
    };
    group.policy_arns = seen
        .policy_arns
        .iter()
        .take(SAMPLE_VALUES)
        .cloned()
        .collect();
    if seen.resources.len() > 1 || seen.folded.iter().any(|f| !seen.resources.contains(f)) {
        group.sample_resources = seen.resources.iter().take(SAMPLE_VALUES).cloned().collect();
    }
    let mut mixed = Vec::new();
    if seen.principals.len() > 1 {
        group.principal = format!("({} principals)", seen.principals.len());
        mixed.push(Dimension::Principal);
    }
    if seen.actions.len() > 1 {
        group.action = format!("({} actions)", seen.actions.len());
        mixed.push(Dimension::Action);
    }
    if seen.folded.len() > 1 {
        group.resource = Some(format!("({} resources)", seen.resources.len()));
        mixed.push(Dimension::Resource);
    }
    if seen.causes.len() > 1 {
        group.cause_summary = format!("({} causes)", seen.causes.len());
        mixed.push(Dimension::Cause);
    }
    if seen.accounts.len() > 1 {
        group.account = Some(format!("({} accounts)", seen.accounts.len()));
        mixed.push(Dimension::Account);
    }
    group.mixed = mixed;
}

/// The 12-digit account of an ARN, when it names one.
fn account_of(arn: &str) -> Option<&str> {
    let account = Arn::parse(arn)?.account;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// What a person grants or acts on, for a resource a denial names.
///
/// An S3 object folds to its bucket and first prefix segment (`arn:aws:s3:::bucket/prefix/*`),
/// an EC2 instance, volume, snapshot or other EC2 resource to its type
/// (`arn:aws:ec2:region:account:instance/*`), a DynamoDB index or stream to its table, and any
/// resource whose last path segment is a number or a generated id (`thing/123`, `task/4f1c…`) to
/// its type with `*`. KMS keys, IAM users, roles and policies, and anything else are kept: each is
/// granted on its own.
pub fn fold_resource(resource: &str) -> String {
    let Some(Arn {
        partition,
        service,
        region,
        account,
        resource: name,
    }) = Arn::parse(resource)
    else {
        return resource.to_owned();
    };
    let arn = |name: &str| format!("arn:{partition}:{service}:{region}:{account}:{name}");
    match service {
        "s3" if region.is_empty() && account.is_empty() => match name.split_once('/') {
            Some((bucket, key)) => match key.split_once('/') {
                Some((first, _)) => arn(&format!("{bucket}/{first}/*")),
                None => arn(&format!("{bucket}/*")),
            },
            None => resource.to_owned(),
        },
        "iam" | "kms" => resource.to_owned(),
        "ec2" => match name.split_once('/') {
            Some((kind, _)) => arn(&format!("{kind}/*")),
            None => resource.to_owned(),
        },
        "dynamodb" => {
            let mut segments = name.splitn(3, '/');
            match (segments.next(), segments.next()) {
                (Some("table"), Some(table)) => arn(&format!("table/{table}")),
                _ => resource.to_owned(),
            }
        }
        _ => match name.rsplit_once('/') {
            Some((kind, last)) if !kind.is_empty() && is_generated_id(last) => {
                arn(&format!("{kind}/*"))
            }
            _ => resource.to_owned(),
        },
    }
}

/// A number, a UUID, or a `prefix-` and hexadecimal id as AWS generates them (`i-0abc…`).
fn is_generated_id(segment: &str) -> bool {
    if segment.is_empty() {
        return false;
    }
    if segment.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let hex = |s: &str| s.len() >= 8 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let uuid = segment.len() == 36
        && segment.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && segment.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit());
    let prefixed = segment.split_once('-').is_some_and(|(prefix, id)| {
        (1..=5).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && hex(id)
            && id.bytes().any(|b| b.is_ascii_digit())
    });
    uuid || prefixed || (hex(segment) && segment.bytes().any(|b| b.is_ascii_digit()))
}

/// `explicit deny in a service control policy (SCP)`, `no identity-based policy allows it`, ...
pub fn cause_summary(denial: &Denial) -> String {
    let kind = denial.policy_type.map(|t| t.describe());
    let mut text = match (denial.decision, kind) {
        (Decision::Explicit, Some(kind)) => format!("explicit deny in {}", with_article(kind)),
        (Decision::Explicit, None) => "explicit deny (policy type not stated)".to_string(),
        (Decision::Implicit, Some(kind)) => format!("no {kind} allows it"),
        (Decision::Implicit, None) => "no policy allows it".to_string(),
        (Decision::NotStated, Some(kind)) => format!("denied by {}", with_article(kind)),
        (Decision::NotStated, None) if denial.encoded_message.is_some() => {
            "not stated; EC2 encoded the reason".to_string()
        }
        (Decision::NotStated, None) => "not stated in the message".to_string(),
    };
    if let Some(through) = denial.transitive_through {
        text.push_str(&format!(
            ", transitively through {}",
            with_article(through.describe())
        ));
    }
    text
}

/// A few words for the summary per principal: `scp deny`, `no identity allow`, `not stated`.
pub fn cause_label(denial: &Denial) -> String {
    let Some(kind) = denial.policy_type else {
        return match denial.decision {
            Decision::Explicit => "deny, policy not stated",
            Decision::Implicit => "no allow, policy not stated",
            Decision::NotStated => "not stated",
        }
        .to_owned();
    };
    let short = match kind {
        PolicyType::ServiceControlPolicy => "SCP",
        PolicyType::ResourceControlPolicy => "RCP",
        PolicyType::IdentityBased => "identity",
        PolicyType::ResourceBased => "resource",
        PolicyType::PermissionsBoundary => "boundary",
        PolicyType::SessionPolicy => "session",
        PolicyType::VpcEndpointPolicy => "VPC endpoint",
        PolicyType::RoleTrustPolicy => "trust",
    };
    match denial.decision {
        Decision::Explicit => format!("{short} deny"),
        Decision::Implicit => format!("no {short} allow"),
        Decision::NotStated => format!("{short} policy"),
    }
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
    fn different_events_sharing_an_id_are_each_counted_in_any_order() {
        let message =
            format!("User: {ALICE} is not authorized to perform: cloudtrail:LookupEvents");
        let first = denial_event("reused", "2024-01-01T00:01:00Z", ALICE, &message);
        let mut second = denial_event("reused", "2024-01-01T00:05:00Z", ALICE, "Access Denied");
        second.event_name = Some("GetObject".into());
        let fold = |events: [&Event; 2]| {
            let mut triage = Triage::new(Noise::default(), Suppressions::default(), 3);
            for event in events {
                triage.add(event);
            }
            triage.finish()
        };
        let triaged = |events: [&Event; 2]| {
            let (groups, excluded) = fold(events);
            let groups: Vec<_> = groups.iter().map(|g| (g.action.clone(), g.count)).collect();
            (groups, excluded.duplicates)
        };
        let (groups, duplicates) = triaged([&first, &second]);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(duplicates, 0);
        assert_eq!(triaged([&second, &first]), (groups, 0));
        // The same ID, time and name, called from elsewhere: another event, not a copy.
        let mut elsewhere = first.clone();
        elsewhere.source_ip = Some("198.51.100.7".into());
        let ips = |events: [&Event; 2]| {
            let (groups, excluded) = fold(events);
            let group = &groups[0];
            (group.source_ips.clone(), group.count, excluded.duplicates)
        };
        let both = ips([&first, &elsewhere]);
        assert_eq!(both.0.len(), 2, "{both:?}");
        assert_eq!((both.1, both.2), (2, 0));
        assert_eq!(ips([&elsewhere, &first]), both);
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
    fn a_group_s_values_count_and_list_as_a_set_would() {
        let inputs = ["b", "a", "b", "c", "a", "", "c"];
        for start in 0..inputs.len() {
            let mut values = Values::default();
            let mut set = BTreeSet::new();
            assert_eq!(values.len(), 0);
            assert!(!values.contains("a"));
            for value in inputs.iter().cycle().skip(start).take(inputs.len()) {
                values.insert(value);
                set.insert((*value).to_string());
                assert_eq!(values.len(), set.len());
                assert!(values.iter().eq(set.iter()), "{values:?} against {set:?}");
                assert!(set.iter().all(|v| values.contains(v)));
                assert!(!values.contains("z"));
            }
        }
        let mut one = Values::default();
        one.insert("x");
        one.insert("x");
        one.insert_some(None);
        assert_eq!(one, Values::One("x".to_string()));
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
    fn resources_fold_to_what_a_person_grants() {
        for (resource, folded) in [
            (
                "arn:aws:s3:::bucket/raw/2019/part-1.parquet",
                "arn:aws:s3:::bucket/raw/*",
            ),
            ("arn:aws:s3:::bucket/top.csv", "arn:aws:s3:::bucket/*"),
            ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket"),
            (
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890",
                "arn:aws:ec2:us-east-1:123456789012:instance/*",
            ),
            (
                "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0",
                "arn:aws:ec2:us-east-1:123456789012:volume/*",
            ),
            (
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            (
                "arn:aws:iam::123456789012:role/ci/Deployer",
                "arn:aws:iam::123456789012:role/ci/Deployer",
            ),
            (
                "arn:aws:iam::123456789012:policy/ReadOnly",
                "arn:aws:iam::123456789012:policy/ReadOnly",
            ),
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/index/ByDate",
                "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
            ),
            (
                "arn:aws:sts:eu-west-1:123456789012:thing/123",
                "arn:aws:sts:eu-west-1:123456789012:thing/*",
            ),
            (
                "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db-password",
                "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db-password",
            ),
            ("my-example-widget", "my-example-widget"),
            ("*", "*"),
        ] {
            assert_eq!(fold_resource(resource), folded, "{resource}");
        }
    }

    #[test]
    fn folded_groups_count_their_resources_and_keep_samples() {
        let mut triage =
            Triage::new(Noise::default(), Suppressions::default(), 3).fold_resources(true);
        for i in 0..5 {
            let mut event = denial_event(
                &format!("e{i}"),
                "2024-01-01T00:01:00Z",
                ALICE,
                "Access Denied",
            );
            event.event_source = Some("s3.amazonaws.com".into());
            event.event_name = Some("GetObject".into());
            event.resource_arn = Some(format!("arn:aws:s3:::b/p/{i}"));
            triage.add(&event);
        }
        let (groups, _) = triage.finish();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].resource.as_deref(), Some("arn:aws:s3:::b/p/*"));
        assert_eq!(groups[0].distinct.resources, 5);
        assert!(
            groups[0].advice.cause.contains("arn:aws:s3:::b/p/*"),
            "{:?}",
            groups[0].advice
        );
        assert_eq!(
            groups[0].sample_resources,
            [
                "arn:aws:s3:::b/p/0",
                "arn:aws:s3:::b/p/1",
                "arn:aws:s3:::b/p/2"
            ]
        );
    }

    #[test]
    fn trust_is_the_role_trust_policy_and_assume_role_resource_denials() {
        let trust = parse_message(
            "User: a is not authorized to perform: sts:AssumeRole on resource: r because no resource-based policy allows the sts:AssumeRole action",
        );
        assert_eq!(
            CauseKind::of_denial(&trust, "sts:AssumeRole", "AccessDenied"),
            [CauseKind::Trust]
        );
        let bucket = parse_message(
            "User: a is not authorized to perform: s3:GetObject on resource: r because no resource-based policy allows the s3:GetObject action",
        );
        assert_eq!(
            CauseKind::of_denial(&bucket, "s3:GetObject", "AccessDenied"),
            [CauseKind::Resource]
        );
        assert_eq!(
            CauseKind::of_denial(&Denial::default(), "s3:GetObject", "VpceAccessDenied"),
            [CauseKind::Vpce]
        );
        assert_eq!("SCP".parse::<CauseKind>(), Ok(CauseKind::Scp));
        assert!(
            "x".parse::<Dimension>()
                .unwrap_err()
                .to_string()
                .contains("principal, action")
        );
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
