//! Findings: what a rule's rows become once their events are looked up, merged and given a next
//! step.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ctq_sql::SqlError;
use ctq_sql::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use ctq_sql::arrow::compute::cast;
use ctq_sql::arrow::datatypes::{DataType, Int64Type};
use serde::Serialize;

use crate::events::{bool_column, text_column};
use crate::rules::{Rule, Severity};

/// Event IDs a finding shows.
const SAMPLES: usize = 5;

/// One suspicious pattern of one principal.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    /// What the rule finds.
    pub title: String,
    /// The caller's ARN (or the service that called).
    pub principal: String,
    /// For a role session: the role that issued it.
    pub issuer: Option<String>,
    /// `userIdentity.type` (IAMUser, AssumedRole, Root, ...).
    pub principal_type: Option<String>,
    pub accounts: Vec<String>,
    pub access_keys: Vec<String>,
    /// Event time of the first and last event that shows it, as the trail wrote them.
    pub first_seen: String,
    pub last_seen: String,
    /// Events that show it, and how many of them were denied.
    pub events: usize,
    pub denied: usize,
    /// Distinct actions (`service:Action`), most frequent first.
    pub actions: Vec<String>,
    pub services: Vec<String>,
    pub regions: Vec<String>,
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    pub sample_event_ids: Vec<String>,
    /// What the rule saw, in one sentence.
    pub detail: String,
    /// What to check, then what to revoke.
    pub next_step: String,
    #[serde(skip)]
    pub(crate) event_ids: BTreeSet<String>,
    #[serde(skip)]
    pub(crate) first_s: i64,
    #[serde(skip)]
    pub(crate) last_s: i64,
}

/// One row a rule returned.
#[derive(Debug, Clone)]
pub(crate) struct RuleRow {
    pub principal: String,
    pub event_ids: Vec<String>,
    pub detail: String,
}

/// Reads a rule's result: `principal`, `event_ids` and optionally `detail`.
pub(crate) fn rule_rows(batches: &[RecordBatch]) -> Result<Vec<RuleRow>, String> {
    let mut rows = Vec::new();
    for batch in batches {
        let column = |name: &str| batch.column_by_name(name);
        let principal = column("principal")
            .ok_or("it returns no `principal` column")
            .and_then(|c| {
                cast(c, &DataType::Utf8)
                    .map(|c| c.as_string::<i32>().clone())
                    .map_err(|_| "its `principal` column is not text")
            })?;
        let ids = column("event_ids")
            .and_then(|c| c.as_list_opt::<i32>().cloned())
            .ok_or("it returns no `event_ids` column (array_agg(event_id) AS event_ids)")?;
        let detail = column("detail")
            .map(|c| cast(c, &DataType::Utf8).map(|c| c.as_string::<i32>().clone()))
            .transpose()
            .map_err(|_| "its `detail` column is not text")?;
        for row in 0..batch.num_rows() {
            if principal.is_null(row) || ids.is_null(row) {
                continue;
            }
            let list = ids.value(row);
            let list =
                cast(&list, &DataType::Utf8).map_err(|_| "`event_ids` is not a list of text")?;
            let list = list.as_string::<i32>();
            let event_ids: Vec<String> = list.iter().flatten().map(str::to_string).collect();
            if event_ids.is_empty() {
                continue;
            }
            rows.push(RuleRow {
                principal: principal.value(row).to_string(),
                event_ids,
                detail: detail
                    .as_ref()
                    .filter(|d| d.is_valid(row))
                    .map(|d| d.value(row).to_string())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(rows)
}

/// The fields of one event a finding shows. Ordered field by field, the time first.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Evidence {
    time: String,
    time_s: Option<i64>,
    action: String,
    service: String,
    region: Option<String>,
    source_ip: Option<String>,
    user_agent: Option<String>,
    denied: bool,
    principal_type: Option<String>,
    issuer: Option<String>,
    access_key: Option<String>,
    account: Option<String>,
    principal: Option<String>,
}

/// The events findings name, by ID. An ID names one event in a trail AWS wrote; hand-written
/// trails reuse IDs for different events, so each ID holds every event that has it, in order.
pub(crate) type EvidenceById = HashMap<String, Vec<Evidence>>;

/// The event `id` names in a finding about `principal`: of the events sharing the ID, the first of
/// that principal (or of the role it is a session of), else the first. The same whatever order
/// the scan returned them in.
fn event_of<'a>(evidence: &'a EvidenceById, id: &str, principal: &str) -> Option<&'a Evidence> {
    let events = evidence.get(id)?;
    events
        .iter()
        .find(|e| {
            e.principal.as_deref() == Some(principal) || e.issuer.as_deref() == Some(principal)
        })
        .or_else(|| events.first())
}

/// The events of `hunt_events` whose IDs are in `wanted`, by ID.
pub(crate) fn evidence(
    batches: &[RecordBatch],
    wanted: &HashSet<&str>,
) -> Result<EvidenceById, SqlError> {
    let mut found = EvidenceById::new();
    for batch in batches {
        let text = |name: &str| text_column(batch, name);
        let ids = text("event_id")?;
        let rows: Vec<usize> = (0..batch.num_rows())
            .filter(|&row| ids.is_valid(row) && wanted.contains(ids.value(row)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let time = text("event_time")?;
        let seconds = batch
            .column_by_name("event_s")
            .and_then(|c| cast(c, &DataType::Int64).ok())
            .ok_or_else(|| SqlError::MissingColumn {
                name: "event_s".into(),
            })?;
        let seconds = seconds.as_primitive::<Int64Type>();
        let denied = bool_column(batch, "denied")?;
        let name = text("event_name")?;
        let (action, service, region, ip, agent, kind, issuer, key, account) = (
            text("action")?,
            text("event_source")?,
            text("region")?,
            text("source_ip")?,
            text("user_agent")?,
            text("principal_type")?,
            text("issuer")?,
            text("access_key")?,
            text("account")?,
        );
        let principal = text("principal")?;
        let cell = |array: &StringArray, row: usize| {
            array.is_valid(row).then(|| array.value(row).to_string())
        };
        for row in rows {
            let event = Evidence {
                time: cell(&time, row).unwrap_or_default(),
                time_s: seconds.is_valid(row).then(|| seconds.value(row)),
                action: cell(&action, row).unwrap_or_else(|| {
                    let service = cell(&service, row).unwrap_or_default();
                    let service = service.split('.').next().unwrap_or_default().to_string();
                    format!("{service}:{}", cell(&name, row).unwrap_or_default())
                }),
                service: cell(&service, row).unwrap_or_default(),
                region: cell(&region, row),
                source_ip: cell(&ip, row),
                user_agent: cell(&agent, row),
                denied: denied.is_valid(row) && denied.value(row),
                principal_type: cell(&kind, row),
                issuer: cell(&issuer, row),
                access_key: cell(&key, row),
                account: cell(&account, row),
                principal: cell(&principal, row),
            };
            found
                .entry(ids.value(row).to_string())
                .or_default()
                .push(event);
        }
    }
    for events in found.values_mut() {
        events.sort();
    }
    Ok(found)
}

/// Builds the finding of one rule row from its events' evidence.
pub(crate) fn finding(rule: &Rule, row: &RuleRow, evidence: &EvidenceById) -> Option<Finding> {
    let ids: BTreeSet<String> = row
        .event_ids
        .iter()
        .filter(|id| evidence.contains_key(id.as_str()))
        .cloned()
        .collect();
    Finding::of_events(rule, &row.principal, ids, row.detail.clone(), evidence)
}

impl Finding {
    fn of_events(
        rule: &Rule,
        principal: &str,
        event_ids: BTreeSet<String>,
        detail: String,
        evidence: &EvidenceById,
    ) -> Option<Self> {
        let mut events: Vec<(&String, &Evidence)> = event_ids
            .iter()
            .filter_map(|id| event_of(evidence, id, principal).map(|e| (id, e)))
            .collect();
        if events.is_empty() {
            return None;
        }
        events.sort_by(|(a_id, a), (b_id, b)| (a.time_s, *a_id).cmp(&(b.time_s, *b_id)));
        let (first, last) = (events[0].1, events[events.len() - 1].1);
        let mut actions: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, event) in &events {
            *actions.entry(event.action.as_str()).or_default() += 1;
        }
        let mut actions: Vec<(&str, usize)> = actions.into_iter().collect();
        actions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let distinct = |f: &dyn Fn(&Evidence) -> Option<&str>| -> Vec<String> {
            events
                .iter()
                .filter_map(|(_, e)| f(e))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        let principal_type = first.principal_type.clone();
        let issuer = events.iter().find_map(|(_, e)| e.issuer.clone());
        let access_keys = distinct(&|e| e.access_key.as_deref());
        let next_step = next_step(
            rule,
            principal,
            principal_type.as_deref(),
            issuer.as_deref(),
            &access_keys,
            &last.time,
        );
        Some(Finding {
            rule: rule.id.clone(),
            severity: rule.severity,
            title: rule.title.clone(),
            principal: principal.to_string(),
            issuer,
            principal_type,
            accounts: distinct(&|e| e.account.as_deref()),
            access_keys,
            first_seen: first.time.clone(),
            last_seen: last.time.clone(),
            events: events.len(),
            denied: events.iter().filter(|(_, e)| e.denied).count(),
            actions: actions.into_iter().map(|(a, _)| a.to_string()).collect(),
            services: distinct(&|e| Some(e.service.as_str()).filter(|s| !s.is_empty())),
            regions: distinct(&|e| e.region.as_deref()),
            source_ips: distinct(&|e| e.source_ip.as_deref()),
            user_agents: distinct(&|e| e.user_agent.as_deref()),
            sample_event_ids: events
                .iter()
                .take(SAMPLES)
                .map(|(id, _)| (*id).clone())
                .collect(),
            detail,
            next_step,
            first_s: first.time_s.unwrap_or(i64::MIN),
            last_s: last.time_s.unwrap_or(i64::MIN),
            event_ids,
        })
    }
}

/// Findings of the same rule and principal whose spans overlap become one: a rule counting in
/// shifted slots reports a burst twice, and one long episode should read as one.
pub(crate) fn merge(
    rule: &Rule,
    mut findings: Vec<Finding>,
    evidence: &EvidenceById,
) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        (a.principal.as_str(), a.first_s, a.last_s).cmp(&(
            b.principal.as_str(),
            b.first_s,
            b.last_s,
        ))
    });
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for finding in findings {
        match merged.last_mut() {
            Some(open) if open.principal == finding.principal && finding.first_s <= open.last_s => {
                let detail = if finding.events > open.events {
                    finding.detail.clone()
                } else {
                    open.detail.clone()
                };
                let ids: BTreeSet<String> =
                    open.event_ids.union(&finding.event_ids).cloned().collect();
                let principal = open.principal.clone();
                if let Some(joined) = Finding::of_events(rule, &principal, ids, detail, evidence) {
                    *open = joined;
                }
            }
            _ => merged.push(finding),
        }
    }
    merged
}

/// What to check (the rule's advice), then how to cut the principal off, as a command built from
/// the record: deactivate an IAM user's key, revoke a role's sessions issued before the last event.
fn next_step(
    rule: &Rule,
    principal: &str,
    principal_type: Option<&str>,
    issuer: Option<&str>,
    access_keys: &[String],
    last_seen: &str,
) -> String {
    let revoke = match principal_type {
        Some("IAMUser") => {
            let user = principal.rsplit('/').next().unwrap_or(principal);
            match access_keys.iter().find(|k| k.starts_with("AKIA")) {
                Some(key) => format!(
                    "To cut it off: aws iam update-access-key --user-name {user} --access-key-id {key} --status Inactive"
                ),
                None => format!(
                    "To cut it off: deactivate user {user}'s access keys (aws iam list-access-keys --user-name {user}) and reset its console password"
                ),
            }
        }
        Some("AssumedRole") => {
            let role = issuer
                .and_then(|arn| arn.rsplit('/').next())
                .unwrap_or("ROLE");
            format!(
                "To cut it off: revoke the sessions of role {role} issued until {last_seen}: aws iam put-role-policy --role-name {role} --policy-name AWSRevokeOlderSessions --policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{{\"DateLessThan\":{{\"aws:TokenIssueTime\":\"{last_seen}\"}}}}}}]}}' (the console's \"Revoke active sessions\" does the same), then find who assumed it (sts:AssumeRole events naming it)"
            )
        }
        Some("Root") => "To cut it off: sign in as root, change its password, delete its access keys and check its MFA device".to_string(),
        Some("FederatedUser") => format!(
            "To cut it off: deny the federated sessions of {} (their issuing user's keys made them)",
            issuer.unwrap_or(principal)
        ),
        Some("AWSService") => {
            "An AWS service made these calls: check which of your resources points it at what it was denied".to_string()
        }
        _ => "To cut it off: find who holds these credentials from the access key and source IP".to_string(),
    };
    if rule.next.is_empty() {
        revoke
    } else {
        format!("{} {revoke}.", rule.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_shared_by_two_events_names_the_one_of_the_findings_principal() {
        let event = |time: &str, principal: &str, issuer: Option<&str>| Evidence {
            time: time.to_string(),
            principal: Some(principal.to_string()),
            issuer: issuer.map(str::to_string),
            ..Evidence::default()
        };
        let role = "arn:aws:iam::1:role/r";
        let mut events = vec![
            event("2", "arn:aws:sts::1:assumed-role/r/s", Some(role)),
            event("1", "arn:aws:iam::1:user/a", None),
        ];
        events.sort();
        let evidence = EvidenceById::from([("id".to_string(), events)]);
        let time_of = |principal: &str| event_of(&evidence, "id", principal).map(|e| &e.time[..]);
        assert_eq!(time_of("arn:aws:iam::1:user/a"), Some("1"));
        assert_eq!(time_of("arn:aws:sts::1:assumed-role/r/s"), Some("2"));
        // A finding about the role names its sessions' events.
        assert_eq!(time_of(role), Some("2"));
        // Of no one's: the first in order, whatever order they were found in.
        assert_eq!(time_of("arn:aws:iam::1:user/b"), Some("1"));
        assert_eq!(event_of(&evidence, "other", role).map(|e| &e.time), None);
    }
}
