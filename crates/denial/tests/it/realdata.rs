//! Every denial in the real CloudTrail records of `../shared/realdata`, when present: classifying,
//! parsing and advising never panic, a message naming a policy type keeps it, and the usual
//! sentence always yields its principal and action.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ctq_denial::{Context, ErrorClass, advise, error_class, parse_message};
use serde_json::Value;

use crate::support;

/// The phrases by which a message names a policy type.
const TYPE_PHRASES: &[&str] = &[
    "service control policy",
    "resource control policy",
    "identity-based policy",
    "resource-based policy",
    "permissions boundary",
    "session policy",
    "VPC endpoint policy",
    "role trust policy",
];

/// The `.json` and `.json.gz` files under `dir`, in path order.
fn trail_files(dir: &Path) -> Vec<PathBuf> {
    ctq_testkit::walk(dir)
        .into_iter()
        .filter(|path| {
            let inflated = if path.extension().is_some_and(|e| e == "gz") {
                path.with_extension("")
            } else {
                path.clone()
            };
            inflated.extension().is_some_and(|e| e == "json")
        })
        .collect()
}

fn read_json(path: &Path) -> Option<Value> {
    let bytes = std::fs::read(path).ok()?;
    let bytes = if path.to_string_lossy().ends_with(".gz") {
        ctq_testkit::gunzip(&bytes).ok()?
    } else {
        bytes
    };
    serde_json::from_slice(&bytes).ok()
}

fn text<'a>(record: &'a Value, pointer: &str) -> Option<&'a str> {
    record.pointer(pointer).and_then(Value::as_str)
}

#[test]
fn every_real_denial_parses_and_gets_advice() {
    let Some(dir) = ctq_testkit::realdata() else {
        support::skip("../shared/realdata is not present");
        return;
    };
    let files = trail_files(&dir);

    let mut denials = 0usize;
    let mut authentication_failures = 0usize;
    let mut by_decision: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut drafts = 0usize;
    for path in &files {
        let Some(document) = read_json(path) else {
            continue;
        };
        let Some(records) = document.get("Records").and_then(Value::as_array) else {
            continue;
        };
        for record in records {
            let code = text(record, "/errorCode");
            let message = text(record, "/errorMessage");
            match error_class(code, message, text(record, "/eventName")) {
                ErrorClass::Denial => {}
                ErrorClass::AuthenticationFailure => {
                    authentication_failures += 1;
                    continue;
                }
                ErrorClass::NotDenial => continue,
            }
            denials += 1;
            let message = message.unwrap_or("");
            let denial = parse_message(message);
            let request_parameters = record
                .get("requestParameters")
                .filter(|p| !p.is_null())
                .map(Value::to_string);
            let context = Context {
                event_source: text(record, "/eventSource"),
                event_name: text(record, "/eventName"),
                principal_arn: text(record, "/userIdentity/arn"),
                session_issuer_arn: text(record, "/userIdentity/sessionContext/sessionIssuer/arn"),
                request_parameters: request_parameters.as_deref(),
                identity_type: text(record, "/userIdentity/type"),
                invoked_by: text(record, "/userIdentity/invokedBy"),
            };
            let advice = advise(&denial, code.unwrap_or(""), &context);
            assert!(!advice.cause.is_empty() && !advice.next_step.is_empty());
            if let Some(draft) = &advice.draft_policy {
                drafts += 1;
                serde_json::from_str::<Value>(draft)
                    .unwrap_or_else(|e| panic!("{}: draft is not JSON: {e}", path.display()));
            }

            if TYPE_PHRASES.iter().any(|p| message.contains(p)) {
                assert!(
                    denial.policy_type.is_some(),
                    "{}: no policy type in {message:?}",
                    path.display()
                );
            }
            if message.starts_with("User: ") {
                assert!(
                    denial.principal.is_some() && denial.action.is_some(),
                    "{}: {message:?} gave {denial:?}",
                    path.display()
                );
            }
            *by_decision.entry(denial.decision.as_str()).or_default() += 1;
            *by_type
                .entry(denial.policy_type.map_or("none", |t| t.as_str()))
                .or_default() += 1;
        }
    }

    println!(
        "real denials: {denials} in {} files ({authentication_failures} failed console sign-ins set apart)",
        files.len()
    );
    println!("by decision: {by_decision:?}");
    println!("by policy type: {by_type:?}");
    println!("with a draft policy: {drafts}");
    assert!(denials > 0, "no denial found under {}", dir.display());
}
