//! The rules over generated trails: each fires on the attack injected for it, and a busy benign
//! trail, where every principal has a dozen distinct denials a day, flags no one.

use std::path::Path;

use ctq_denial::triage::Suppressions;
use ctq_hunt::{Hunt, Request, Thresholds, bundled};
use ctq_sql::canned::DenialFilter;
use ctq_sql::{Instant, SessionOptions, TrailSession};
use ctq_trailgen::attacks::{Injected, write_attacks};
use ctq_trailgen::{Settings, generate};

const DAY: &str = "2019-10-28";
const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

fn benign(out: &Path, accounts: usize, regions: usize, denial_rate: f64) {
    generate(&Settings {
        out: out.to_path_buf(),
        seed: 7,
        days: 1,
        accounts,
        regions,
        files_per_hour: 4,
        start: DAY.to_string(),
        mean_records: 160.0,
        denial_rate,
    })
    .unwrap();
}

async fn run(trail: &Path, thresholds: &[(&str, &str)], suppressions: &str) -> Hunt {
    let session = TrailSession::open(&[trail.to_path_buf()], &SessionOptions::default())
        .await
        .unwrap();
    let rules = bundled();
    let given: Vec<(String, String)> = thresholds
        .iter()
        .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
        .collect();
    let thresholds = Thresholds::new(&given, &rules).unwrap();
    let suppressions = Suppressions::parse(suppressions).unwrap();
    let request = Request {
        scope: DenialFilter {
            from: Instant::parse_iso8601("2019-10-28T00:00:00Z"),
            to: Instant::parse_iso8601("2019-10-29T00:00:00Z"),
            ..DenialFilter::default()
        },
        rules: &rules,
        thresholds: &thresholds,
        suppressions: &suppressions,
        max_bytes: 1 << 30,
    };
    ctq_hunt::hunt(&session, &request).await.unwrap()
}

fn attacked_trail() -> (tempfile::TempDir, Vec<Injected>) {
    let dir = tempfile::tempdir().unwrap();
    benign(dir.path(), 1, 1, 0.03);
    let injected = write_attacks(dir.path(), DAY, ACCOUNT, REGION).unwrap();
    (dir, injected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_fires_on_its_attack_and_on_nothing_else() {
    let (dir, injected) = attacked_trail();
    let hunt = run(dir.path(), &[], "").await;
    let rules: Vec<String> = bundled().into_iter().map(|r| r.id).collect();
    for rule in &rules {
        assert!(
            injected.iter().any(|i| i.rule == rule.as_str()),
            "no attack is injected for rule {rule}"
        );
    }
    for attack in &injected {
        let finding = hunt
            .findings
            .iter()
            .find(|f| f.rule == attack.rule && f.principal == attack.principal)
            .unwrap_or_else(|| {
                panic!(
                    "rule {} did not fire on {}; findings: {:#?}",
                    attack.rule,
                    attack.principal,
                    hunt.findings
                        .iter()
                        .map(|f| (&f.rule, &f.principal))
                        .collect::<Vec<_>>()
                )
            });
        assert!(
            finding.first_seen >= attack.first_seen && finding.last_seen <= attack.last_seen,
            "{}: {}..{} is outside the attack's {}..{}",
            attack.rule,
            finding.first_seen,
            finding.last_seen,
            attack.first_seen,
            attack.last_seen
        );
        assert!(finding.events > 0 && !finding.sample_event_ids.is_empty());
        assert!(!finding.next_step.is_empty());
    }
    // Nothing but the injected principals is flagged (a rule may name a session by the role
    // that issued it): the generated principals around them are the benign background.
    for finding in &hunt.findings {
        let role_session_of = |arn: &str| {
            finding.issuer.as_deref() == Some(finding.principal.as_str())
                && finding
                    .principal
                    .rsplit_once(":role/")
                    .is_some_and(|(_, role)| arn.contains(&format!(":assumed-role/{role}/")))
        };
        assert!(
            injected
                .iter()
                .any(|i| i.principal == finding.principal || role_session_of(&i.principal)),
            "benign principal flagged: {finding:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_benign_trail_flags_no_principal() {
    let dir = tempfile::tempdir().unwrap();
    // Two accounts and regions, one call in twenty denied: every principal collects a dozen or so
    // distinct denied actions over the day.
    benign(dir.path(), 2, 2, 0.05);
    let hunt = run(dir.path(), &[], "").await;
    assert!(hunt.events > 40_000, "{} events", hunt.events);
    assert!(
        hunt.findings.is_empty(),
        "benign trail flagged: {:#?}",
        hunt.findings
            .iter()
            .map(|f| (&f.rule, &f.principal, &f.detail))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_and_suppressions_quiet_a_rule() {
    let (dir, injected) = attacked_trail();
    let recon = injected.iter().find(|i| i.rule == "recon-burst").unwrap();
    let fired = |hunt: &Hunt| {
        hunt.findings
            .iter()
            .any(|f| f.rule == "recon-burst" && f.principal == recon.principal)
    };
    assert!(fired(&run(dir.path(), &[], "").await));
    assert!(!fired(
        &run(dir.path(), &[("min_actions", "200")], "").await
    ));
    let suppressed = run(dir.path(), &[], &format!("{} * *\n", recon.principal)).await;
    assert!(!fired(&suppressed));
    assert!(
        suppressed.suppressed >= recon.denied,
        "{}",
        suppressed.suppressed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trail_delivered_twice_is_hunted_as_once() {
    let (dir, _) = attacked_trail();
    let once = run(dir.path(), &[], "").await;
    assert_eq!(once.duplicates, 0);
    // Every file again under another name: every event a second delivery of the first.
    for file in ctq_testkit::walk(dir.path()) {
        let name = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".json.gz", "_again.json.gz");
        std::fs::copy(&file, file.with_file_name(name)).unwrap();
    }
    let twice = run(dir.path(), &[], "").await;
    assert_eq!(twice.events, once.events);
    assert_eq!(twice.duplicates, once.events);
    let summary = |hunt: &Hunt| {
        let mut findings: Vec<_> = hunt
            .findings
            .iter()
            .map(|f| (f.rule.clone(), f.principal.clone(), f.events))
            .collect();
        findings.sort();
        findings
    };
    assert_eq!(summary(&twice), summary(&once));
}
