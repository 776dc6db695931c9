//! Intrusions told by denials, written into a trail the way CloudTrail delivers them, each one
//! known exactly (who, when, how many calls, how many denied) so a test can hold what a hunt finds
//! against what was done.
//!
//! Every scenario has its own principal, none of which [`crate::generate`] uses, and the calls
//! and error messages follow the forms AWS writes: IAM's and STS's `AccessDenied` with the
//! `User: … is not authorized to perform: …` sentence, `AccessDeniedException` elsewhere, EC2's
//! `Client.UnauthorizedOperation` and S3's bare `Access Denied`.

use std::io::Write as _;
use std::path::Path;

use super::{Rng, civil_from_days, epoch_day, hash};

/// One scenario as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// What a hunt should call it, such as `recon-burst`.
    pub rule: &'static str,
    /// The `userIdentity.arn` of every call of the scenario.
    pub principal: String,
    /// The `eventTime` of its first and last call, ISO 8601 in UTC.
    pub first_seen: String,
    pub last_seen: String,
    /// Its calls, those that only set a baseline included.
    pub events: usize,
    /// Its calls whose `errorCode` contains `accessdenied` or `unauthorized` in any case.
    pub denied: usize,
}

/// The account outside the organisation that some scenarios reach for.
pub const FOREIGN_ACCOUNT: &str = "444455556666";

const RECON_REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const BOTO3: &str =
    "Boto3/1.34.2 md/Botocore#1.34.2 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6";
const CLI: &str =
    "aws-cli/2.15.10 Python/3.11.6 Linux/6.5.0-14-generic exe/x86_64.ubuntu.22 prompt/off";
const GO_SDK: &str = "aws-sdk-go/1.44.300 (go1.20.6; linux; amd64)";
const JAVA_SDK: &str = "aws-sdk-java/1.12.470 Linux/5.10.184";
const KALI_CLI: &str = "aws-cli/1.16.300 Python/3.8.2 Linux/5.10.0-kali7-amd64 botocore/1.13.36";

/// Writes the scenarios as trail files of `account` under `out`, in `region`'s folder for `day`
/// (YYYY-MM-DD), and returns what each holds. The same arguments write the same files.
pub fn write_attacks(
    out: &Path,
    day: &str,
    account: &str,
    region: &str,
) -> anyhow::Result<Vec<Injected>> {
    let epoch_day = epoch_day(day)?;
    let mut rng = Rng::new(0x0A77_AC4E_D5EE_D000 ^ hash(account) ^ hash(region).rotate_left(29));
    let scenarios = [
        recon_burst(&mut rng, account),
        key_validation_probing(&mut rng, account, region),
        assume_role_spray(&mut rng, account, region, day),
        bucket_guessing(&mut rng, account, region),
        offensive_tooling(&mut rng, account),
        novel_source(&mut rng, account, region, day),
        new_principal_denied(&mut rng, account, region),
        malformed_policy_enum(&mut rng, account),
        passrole_burst(&mut rng, account, region),
        credential_harvest(&mut rng, account, region, day),
    ];
    let mut injected = Vec::new();
    for scenario in &scenarios {
        write_scenario(&mut rng, out, account, region, epoch_day, scenario)?;
        let first = scenario.calls.iter().map(|c| c.at).min().unwrap_or(0);
        let last = scenario.calls.iter().map(|c| c.at).max().unwrap_or(0);
        injected.push(Injected {
            rule: scenario.rule,
            principal: scenario.arn.clone(),
            first_seen: instant(epoch_day * 86_400 + first),
            last_seen: instant(epoch_day * 86_400 + last),
            events: scenario.calls.len(),
            denied: scenario
                .calls
                .iter()
                .filter(|c| c.error.as_ref().is_some_and(|(code, _)| is_denial(code)))
                .count(),
        });
    }
    Ok(injected)
}

struct Scenario {
    rule: &'static str,
    arn: String,
    identity: String,
    calls: Vec<Call>,
}

struct Call {
    /// Seconds after midnight.
    at: i64,
    region: String,
    service: &'static str,
    name: &'static str,
    /// JSON text.
    request: String,
    /// `errorCode` and `errorMessage`.
    error: Option<(&'static str, String)>,
    ip: &'static str,
    agent: &'static str,
}

fn is_denial(code: &str) -> bool {
    let code = code.to_ascii_lowercase();
    code.contains("accessdenied") || code.contains("unauthorized")
}

fn hms(h: i64, m: i64, s: i64) -> i64 {
    h * 3600 + m * 60 + s
}

/// `n` instants evenly from `from` to `to`, both included.
fn spread(n: usize, from: i64, to: i64) -> Vec<i64> {
    let n = n as i64;
    (0..n)
        .map(|i| from + i * (to - from) / (n - 1).max(1))
        .collect()
}

/// `2019-10-28T02:00:00Z` for seconds since 1970.
fn instant(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The IAM action of an API call: Lambda's API names carry a version the action does not.
fn action(service: &str, name: &str) -> String {
    let name = name.trim_end_matches(|c: char| c.is_ascii_digit());
    format!("{service}:{name}")
}

/// AWS's sentence for an implicit denial.
fn sentence(arn: &str, action: &str, resource: Option<&str>) -> String {
    let on = resource.map_or(String::new(), |r| format!(" on resource: {r}"));
    format!(
        "User: {arn} is not authorized to perform: {action}{on} because no identity-based policy allows the {action} action"
    )
}

fn ec2_message(rng: &mut Rng, sentence: &str) -> String {
    format!(
        "You are not authorized to perform this operation. {sentence}. Encoded authorization failure message: {}",
        rng.alnum(420)
    )
}

/// The denial `service` writes for `name` refused to `arn`, in the code and form it uses.
fn denial(
    rng: &mut Rng,
    arn: &str,
    service: &'static str,
    name: &str,
    resource: Option<&str>,
) -> (&'static str, String) {
    let action = action(service, name);
    match service {
        "s3" => ("AccessDenied", "Access Denied".to_string()),
        "ec2" => (
            "Client.UnauthorizedOperation",
            ec2_message(rng, &sentence(arn, &action, resource)),
        ),
        "iam" | "sts" | "rds" => ("AccessDenied", sentence(arn, &action, resource)),
        _ => ("AccessDeniedException", sentence(arn, &action, resource)),
    }
}

/// IAM and Organizations record every call in us-east-1.
fn event_region(service: &str, region: &str) -> String {
    match service {
        "iam" | "organizations" => "us-east-1".to_string(),
        _ => region.to_string(),
    }
}

fn iam_user(rng: &mut Rng, account: &str, name: &str) -> (String, String) {
    let arn = format!("arn:aws:iam::{account}:user/{name}");
    let identity = format!(
        r#"{{"type":"IAMUser","principalId":"AIDA{}","arn":"{arn}","accountId":"{account}","accessKeyId":"AKIA{}","userName":"{name}"}}"#,
        rng.alnum(17).to_uppercase(),
        rng.alnum(16).to_uppercase()
    );
    (arn, identity)
}

fn role_session(
    rng: &mut Rng,
    account: &str,
    role: &str,
    session: &str,
    day: &str,
) -> (String, String) {
    let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/{session}");
    let role_id = format!("AROA{}", rng.alnum(17).to_uppercase());
    let identity = format!(
        r#"{{"type":"AssumedRole","principalId":"{role_id}:{session}","arn":"{arn}","accountId":"{account}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{role_id}","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{day}T00:00:00Z","mfaAuthenticated":"false"}}}}}}"#,
        rng.alnum(16).to_uppercase()
    );
    (arn, identity)
}

/// A call that `service` records with no request parameters worth noting.
#[allow(clippy::too_many_arguments)]
fn plain(
    at: i64,
    region: &str,
    service: &'static str,
    name: &'static str,
    error: Option<(&'static str, String)>,
    ip: &'static str,
    agent: &'static str,
) -> Call {
    let request = match service {
        "ec2" => r#"{"instancesSet":{},"filterSet":{}}"#.to_string(),
        "sts" | "s3" | "iam" | "organizations" => "null".to_string(),
        _ => "{}".to_string(),
    };
    Call {
        at,
        region: event_region(service, region),
        service,
        name,
        request,
        error,
        ip,
        agent,
    }
}

fn recon_burst(rng: &mut Rng, account: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "leaked-ci");
    let [east, west, sydney] = RECON_REGIONS;
    let user = format!("arn:aws:iam::{account}:user/");
    let role = format!("arn:aws:iam::{account}:role/");
    // (region, service, name, denied, resource named in the denial)
    let plan: [(&str, &'static str, &'static str, bool, Option<String>); 30] = [
        (east, "sts", "GetCallerIdentity", false, None),
        (east, "iam", "ListUsers", true, Some(user.clone())),
        (east, "iam", "ListRoles", true, Some(role)),
        (
            east,
            "iam",
            "GetAccountAuthorizationDetails",
            true,
            Some("*".into()),
        ),
        (
            east,
            "iam",
            "ListPolicies",
            true,
            Some(format!("arn:aws:iam::{account}:policy/")),
        ),
        (east, "s3", "ListBuckets", false, None),
        (east, "organizations", "DescribeOrganization", true, None),
        (east, "ec2", "DescribeInstances", true, None),
        (east, "ec2", "DescribeSecurityGroups", true, None),
        (
            east,
            "lambda",
            "ListFunctions20150331",
            true,
            Some("*".into()),
        ),
        (
            east,
            "rds",
            "DescribeDBInstances",
            true,
            Some(format!("arn:aws:rds:{east}:{account}:db:*")),
        ),
        (east, "secretsmanager", "ListSecrets", true, None),
        (east, "kms", "ListKeys", true, Some("*".into())),
        (
            east,
            "dynamodb",
            "ListTables",
            true,
            Some(format!("arn:aws:dynamodb:{east}:{account}:table/*")),
        ),
        (east, "sns", "ListTopics", false, None),
        (
            east,
            "ssm",
            "DescribeParameters",
            true,
            Some(format!("arn:aws:ssm:{east}:{account}:*")),
        ),
        (west, "ec2", "DescribeInstances", true, None),
        (west, "ec2", "DescribeVpcs", true, None),
        (
            west,
            "lambda",
            "ListFunctions20150331",
            true,
            Some("*".into()),
        ),
        (
            west,
            "rds",
            "DescribeDBInstances",
            true,
            Some(format!("arn:aws:rds:{west}:{account}:db:*")),
        ),
        (west, "secretsmanager", "ListSecrets", true, None),
        (west, "sns", "ListTopics", false, None),
        (
            west,
            "ecr",
            "DescribeRepositories",
            true,
            Some(format!("arn:aws:ecr:{west}:{account}:repository/*")),
        ),
        (sydney, "ec2", "DescribeInstances", true, None),
        (
            sydney,
            "lambda",
            "ListFunctions20150331",
            true,
            Some("*".into()),
        ),
        (sydney, "kms", "ListKeys", true, Some("*".into())),
        (
            sydney,
            "dynamodb",
            "ListTables",
            true,
            Some(format!("arn:aws:dynamodb:{sydney}:{account}:table/*")),
        ),
        (sydney, "sqs", "ListQueues", false, None),
        (
            sydney,
            "guardduty",
            "ListDetectors",
            true,
            Some(format!("arn:aws:guardduty:{sydney}:{account}:detector/*")),
        ),
        (
            east,
            "iam",
            "ListAccessKeys",
            true,
            Some(format!("{user}leaked-ci")),
        ),
    ];
    let calls = plan
        .into_iter()
        .zip(spread(30, hms(2, 0, 0), hms(2, 4, 0)))
        .map(|((region, service, name, denied, resource), at)| {
            let error = denied.then(|| denial(rng, &arn, service, name, resource.as_deref()));
            plain(at, region, service, name, error, "203.0.113.50", BOTO3)
        })
        .collect();
    Scenario {
        rule: "recon-burst",
        arn,
        identity,
        calls,
    }
}

fn key_validation_probing(rng: &mut Rng, account: &str, region: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "build-bot");
    let bucket = format!("ci-artifacts-{account}");
    // Its ordinary day: pushing and pulling build artifacts and images from the build network.
    let mut calls: Vec<Call> = spread(20, hms(0, 30, 0), hms(3, 30, 0))
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let (service, name) = [
                ("s3", "GetObject"),
                ("s3", "PutObject"),
                ("ecr", "GetAuthorizationToken"),
                ("ecr", "BatchGetImage"),
            ][i % 4];
            let request = if service == "s3" {
                format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"builds/{}/output.tar.gz"}}"#,
                    1200 + i / 2
                )
            } else if name == "BatchGetImage" {
                r#"{"repositoryName":"app","imageIds":[{"imageTag":"latest"}]}"#.to_string()
            } else {
                "{}".to_string()
            };
            Call {
                at,
                region: region.to_string(),
                service,
                name,
                request,
                error: None,
                ip: "10.1.2.3",
                agent: GO_SDK,
            }
        })
        .collect();
    // The key, taken, is checked from elsewhere, then tried on what it might open.
    calls.push(plain(
        hms(4, 0, 0),
        region,
        "sts",
        "GetCallerIdentity",
        None,
        "198.51.100.7",
        CLI,
    ));
    let own = format!("arn:aws:iam::{account}:user/build-bot");
    let probes: [(&'static str, &'static str, bool, Option<&str>); 12] = [
        ("iam", "ListAttachedUserPolicies", true, Some(&own)),
        ("iam", "ListUserPolicies", true, Some(&own)),
        ("iam", "GetUser", true, Some(&own)),
        ("s3", "ListBuckets", false, None),
        ("ec2", "DescribeInstances", true, None),
        (
            "iam",
            "ListUsers",
            true,
            Some(&own[..own.len() - "build-bot".len()]),
        ),
        ("secretsmanager", "ListSecrets", true, None),
        ("ecr", "DescribeRepositories", false, None),
        ("lambda", "ListFunctions20150331", true, Some("*")),
        ("iam", "ListRoles", true, Some("*")),
        ("dynamodb", "ListTables", true, Some("*")),
        ("kms", "ListKeys", true, Some("*")),
    ];
    for ((service, name, denied, resource), at) in
        probes
            .into_iter()
            .zip(spread(12, hms(4, 1, 0), hms(4, 10, 0)))
    {
        let error = denied.then(|| denial(rng, &arn, service, name, resource));
        calls.push(plain(at, region, service, name, error, "198.51.100.7", CLI));
    }
    Scenario {
        rule: "key-validation-probing",
        arn,
        identity,
        calls,
    }
}

fn assume_role_spray(rng: &mut Rng, account: &str, region: &str, day: &str) -> Scenario {
    let (arn, identity) = role_session(rng, account, "WebApp", "i-0abc1234", day);
    let ours = [
        "Admin",
        "OrganizationAccountAccessRole",
        "Deployer",
        "BreakGlass",
        "CiRunner",
        "Billing",
    ];
    let theirs = [
        "OrganizationAccountAccessRole",
        "Admin",
        "AWSControlTowerExecution",
        "Backup",
        "ReadOnly",
        "SecurityAudit",
    ];
    let targets = ours.iter().zip(theirs).flat_map(|(mine, foreign)| {
        [
            format!("arn:aws:iam::{account}:role/{mine}"),
            format!("arn:aws:iam::{FOREIGN_ACCOUNT}:role/{foreign}"),
        ]
    });
    let calls = targets
        .zip(spread(12, hms(6, 0, 0), hms(6, 5, 0)))
        .enumerate()
        .map(|(i, (role, at))| Call {
            at,
            region: region.to_string(),
            service: "sts",
            name: "AssumeRole",
            request: format!(r#"{{"roleArn":"{role}","roleSessionName":"webapp-{i}"}}"#),
            error: Some((
                "AccessDenied",
                format!(
                    "User: {arn} is not authorized to perform: sts:AssumeRole on resource: {role}"
                ),
            )),
            ip: "192.0.2.44",
            agent: BOTO3,
        })
        .collect();
    Scenario {
        rule: "assume-role-spray",
        arn,
        identity,
        calls,
    }
}

fn bucket_guessing(rng: &mut Rng, account: &str, region: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "marketing-uploader");
    let guesses = [
        "backups",
        "prod",
        "logs",
        "dev",
        "data",
        "secrets",
        "terraform-state",
        "db-dumps",
        "internal",
        "finance",
        "hr",
        "private",
        "staging",
        "assets",
        "cloudtrail",
        "config",
        "exports",
        "archive",
        "payroll",
        "keys",
        "ci",
        "releases",
        "admin",
        "customer-data",
        "analytics",
    ];
    let calls = guesses
        .into_iter()
        .zip(spread(25, hms(8, 0, 0), hms(8, 9, 0)))
        .enumerate()
        .map(|(i, (guess, at))| {
            let bucket = format!("acme-{guess}");
            let name = ["GetBucketAcl", "ListObjects", "HeadBucket"][i % 3];
            let error = if matches!(i % 5, 1 | 3) {
                (
                    "NoSuchBucket",
                    "The specified bucket does not exist".to_string(),
                )
            } else {
                ("AccessDenied", "Access Denied".to_string())
            };
            Call {
                at,
                region: region.to_string(),
                service: "s3",
                name,
                request: format!(
                    r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com"}}"#
                ),
                error: Some(error),
                ip: "192.0.2.150",
                agent: CLI,
            }
        })
        .collect();
    Scenario {
        rule: "bucket-guessing",
        arn,
        identity,
        calls,
    }
}

fn offensive_tooling(rng: &mut Rng, account: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "dev-sandbox");
    let own = format!("arn:aws:iam::{account}:user/dev-sandbox");
    let plan: [(&'static str, &'static str, bool); 4] = [
        ("sts", "GetCallerIdentity", false),
        ("iam", "ListAttachedUserPolicies", true),
        ("iam", "ListUserPolicies", true),
        ("iam", "ListGroupsForUser", true),
    ];
    let calls = plan
        .into_iter()
        .zip(spread(4, hms(10, 0, 0), hms(10, 3, 0)))
        .map(|((service, name, denied), at)| {
            let error = denied.then(|| denial(rng, &arn, service, name, Some(&own)));
            plain(
                at,
                "us-east-1",
                service,
                name,
                error,
                "203.0.113.199",
                KALI_CLI,
            )
        })
        .collect();
    Scenario {
        rule: "offensive-tooling",
        arn,
        identity,
        calls,
    }
}

fn novel_source(rng: &mut Rng, account: &str, region: &str, day: &str) -> Scenario {
    let (arn, identity) = role_session(rng, account, "DataPipeline", "etl-nightly", day);
    let lake = format!("data-lake-{account}");
    let mut calls: Vec<Call> = spread(40, hms(0, 0, 0), hms(12, 0, 0))
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let (service, name) = [
                ("s3", "GetObject"),
                ("s3", "PutObject"),
                ("kms", "Decrypt"),
                ("glue", "GetTable"),
            ][i % 4];
            let request = match service {
                "s3" => format!(
                    r#"{{"bucketName":"{lake}","Host":"{lake}.s3.{region}.amazonaws.com","key":"etl/{day}/part-{i:05}.parquet"}}"#
                ),
                "kms" => format!(
                    r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{lake}/etl/{day}/part-{i:05}.parquet"}}}}"#
                ),
                _ => r#"{"databaseName":"lake","name":"events"}"#.to_string(),
            };
            Call {
                at,
                region: region.to_string(),
                service,
                name,
                request,
                error: None,
                ip: "10.0.5.20",
                agent: JAVA_SDK,
            }
        })
        .collect();
    // The session's credentials, used from outside: reaching for what the pipeline never touches.
    let secret = format!("arn:aws:secretsmanager:{region}:{account}:secret:prod/db-Xy12Ab");
    let parameter = format!("arn:aws:ssm:{region}:{account}:parameter/prod/api-key");
    let plan: [(&'static str, &'static str, Option<&str>); 5] = [
        ("s3", "GetObject", None),
        ("secretsmanager", "GetSecretValue", Some(&secret)),
        ("iam", "ListUsers", Some("*")),
        ("ssm", "GetParameter", Some(&parameter)),
        ("iam", "ListRoles", Some("*")),
    ];
    for ((service, name, resource), at) in
        plan.into_iter()
            .zip(spread(5, hms(13, 0, 0), hms(13, 5, 0)))
    {
        let error = denial(rng, &arn, service, name, resource);
        let mut call = plain(
            at,
            region,
            service,
            name,
            Some(error),
            "185.220.101.4",
            "python-requests/2.31.0",
        );
        if service == "s3" {
            call.request = format!(
                r#"{{"bucketName":"finance-{account}","Host":"finance-{account}.s3.{region}.amazonaws.com","key":"payroll/2019.csv"}}"#
            );
        }
        calls.push(call);
    }
    Scenario {
        rule: "novel-source",
        arn,
        identity,
        calls,
    }
}

fn new_principal_denied(rng: &mut Rng, account: &str, region: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "temp-contractor");
    let plan: [(&'static str, &'static str, bool, Option<&str>); 6] = [
        ("iam", "ListUsers", true, Some("*")),
        ("s3", "ListBuckets", true, None),
        ("ec2", "DescribeInstances", true, None),
        ("iam", "GetAccountSummary", true, Some("*")),
        ("sts", "GetCallerIdentity", false, None),
        ("iam", "GetUser", false, None),
    ];
    let times = [
        hms(15, 0, 0),
        hms(15, 0, 40),
        hms(15, 1, 20),
        hms(15, 2, 0),
        hms(15, 3, 0),
        hms(15, 4, 0),
    ];
    let calls = plan
        .into_iter()
        .zip(times)
        .map(|((service, name, denied, resource), at)| {
            let error = denied.then(|| denial(rng, &arn, service, name, resource));
            plain(at, region, service, name, error, "198.51.100.23", CLI)
        })
        .collect();
    Scenario {
        rule: "new-principal-denied",
        arn,
        identity,
        calls,
    }
}

fn malformed_policy_enum(rng: &mut Rng, account: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "audit-scanner");
    // IAM checks that a trust policy's principals exist, so rewriting one's own role's trust
    // policy tells which role names exist in another account without any call there.
    let guesses = [
        "Admin",
        "Dev",
        "Prod",
        "Staging",
        "Test",
        "Deploy",
        "Deployer",
        "ReadOnly",
        "PowerUser",
        "Administrator",
        "OrganizationAccountAccessRole",
        "Jenkins",
        "Terraform",
        "CiRunner",
        "Backup",
        "Security",
        "Audit",
        "Billing",
        "Support",
        "DataScience",
    ];
    let calls = guesses
        .into_iter()
        .zip(spread(20, hms(17, 0, 0), hms(17, 3, 0)))
        .map(|(guess, at)| {
            let principal = format!("arn:aws:iam::{FOREIGN_ACCOUNT}:role/{guess}");
            let policy = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
            );
            Call {
                at,
                region: "us-east-1".to_string(),
                service: "iam",
                name: "UpdateAssumeRolePolicy",
                request: format!(
                    r#"{{"roleName":"probe-role","policyDocument":{}}}"#,
                    json_string(&policy)
                ),
                error: Some((
                    "MalformedPolicyDocumentException",
                    format!(r#"Invalid principal in policy: "AWS":"{principal}""#),
                )),
                ip: "203.0.113.77",
                agent: BOTO3,
            }
        })
        .collect();
    Scenario {
        rule: "malformed-policy-enum",
        arn,
        identity,
        calls,
    }
}

fn passrole_burst(rng: &mut Rng, account: &str, region: &str) -> Scenario {
    let (arn, identity) = iam_user(rng, account, "lambda-dev");
    let roles = [
        "LambdaAdmin",
        "OrganizationAdmin",
        "EC2FullAccess",
        "DataPipeline",
        "Deployer",
        "BreakGlass",
    ];
    let calls = spread(8, hms(19, 0, 0), hms(19, 8, 0))
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let role = format!("arn:aws:iam::{account}:role/{}", roles[i % roles.len()]);
            let refused = sentence(&arn, "iam:PassRole", Some(&role));
            if matches!(i, 2 | 5 | 7) {
                Call {
                    at,
                    region: region.to_string(),
                    service: "ec2",
                    name: "RunInstances",
                    request: format!(
                        r#"{{"instancesSet":{{"items":[{{"imageId":"ami-0abcdef1234567890","minCount":1,"maxCount":1}}]}},"instanceType":"t3.micro","iamInstanceProfile":{{"arn":"{}"}}}}"#,
                        role.replace(":role/", ":instance-profile/")
                    ),
                    error: Some(("Client.UnauthorizedOperation", ec2_message(rng, &refused))),
                    ip: "198.51.100.61",
                    agent: CLI,
                }
            } else {
                Call {
                    at,
                    region: region.to_string(),
                    service: "lambda",
                    name: "CreateFunction20150331",
                    request: format!(
                        r#"{{"functionName":"fn-{i}","runtime":"python3.12","role":"{role}","handler":"index.handler"}}"#
                    ),
                    error: Some(("AccessDeniedException", refused)),
                    ip: "198.51.100.61",
                    agent: CLI,
                }
            }
        })
        .collect();
    Scenario {
        rule: "passrole-burst",
        arn,
        identity,
        calls,
    }
}

fn credential_harvest(rng: &mut Rng, account: &str, region: &str, day: &str) -> Scenario {
    let (arn, identity) = role_session(rng, account, "BuildAgent", "ci-4711", day);
    // A sweep: every instance's Windows password, then every secret, each one tried once.
    let calls = spread(26, hms(21, 0, 0), hms(21, 3, 0))
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            if i < 20 {
                let instance = format!("i-0{}", rng.hex(16));
                let resource = format!("arn:aws:ec2:{region}:{account}:instance/{instance}");
                let refused = sentence(&arn, "ec2:GetPasswordData", Some(&resource));
                Call {
                    at,
                    region: region.to_string(),
                    service: "ec2",
                    name: "GetPasswordData",
                    request: format!(r#"{{"instanceId":"{instance}"}}"#),
                    error: Some(("Client.UnauthorizedOperation", ec2_message(rng, &refused))),
                    ip: "192.0.2.210",
                    agent: GO_SDK,
                }
            } else {
                let secret = format!("prod/db-{}", i - 20);
                let resource =
                    format!("arn:aws:secretsmanager:{region}:{account}:secret:{secret}-AbCdEf");
                Call {
                    at,
                    region: region.to_string(),
                    service: "secretsmanager",
                    name: "GetSecretValue",
                    request: format!(r#"{{"secretId":"{secret}"}}"#),
                    error: Some((
                        "AccessDeniedException",
                        sentence(&arn, "secretsmanager:GetSecretValue", Some(&resource)),
                    )),
                    ip: "192.0.2.210",
                    agent: GO_SDK,
                }
            }
        })
        .collect();
    Scenario {
        rule: "credential-harvest",
        arn,
        identity,
        calls,
    }
}

/// Writes a scenario's calls as CloudTrail delivers them: one file per five minutes of calls,
/// delivered one to five minutes after that window closes.
fn write_scenario(
    rng: &mut Rng,
    out: &Path,
    account: &str,
    region: &str,
    epoch_day: i64,
    scenario: &Scenario,
) -> anyhow::Result<()> {
    let mut windows: Vec<(i64, Vec<&Call>)> = Vec::new();
    for call in &scenario.calls {
        let window = call.at.div_euclid(300);
        match windows.iter_mut().find(|(w, _)| *w == window) {
            Some((_, calls)) => calls.push(call),
            None => windows.push((window, vec![call])),
        }
    }
    for (window, calls) in windows {
        let mut text = String::from(r#"{"Records":["#);
        for (i, call) in calls.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            write_record(rng, &mut text, account, epoch_day, &scenario.identity, call);
        }
        text.push_str("]}");
        let delivered = epoch_day * 86_400 + (window + 1) * 300 + 60 + rng.below(240) as i64;
        let (y, m, d) = civil_from_days(delivered.div_euclid(86_400));
        let t = delivered.rem_euclid(86_400);
        let folder = out.join(format!(
            "AWSLogs/{account}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}"
        ));
        std::fs::create_dir_all(&folder)?;
        let name = format!(
            "{account}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{:02}{:02}Z_{}.json.gz",
            t / 3600,
            t % 3600 / 60,
            rng.alnum(16)
        );
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        encoder.write_all(text.as_bytes())?;
        std::fs::write(folder.join(name), encoder.finish()?)?;
    }
    Ok(())
}

fn write_record(
    rng: &mut Rng,
    out: &mut String,
    account: &str,
    epoch_day: i64,
    identity: &str,
    call: &Call,
) {
    let Call {
        at,
        region,
        service,
        name,
        request,
        error,
        ip,
        agent,
    } = call;
    let error = error.as_ref().map_or(String::new(), |(code, message)| {
        format!(
            r#","errorCode":"{code}","errorMessage":{}"#,
            json_string(message)
        )
    });
    let read_only = ["Get", "List", "Describe", "Head", "BatchGet"]
        .iter()
        .any(|verb| name.starts_with(verb));
    let data = *service == "s3"
        && matches!(
            *name,
            "GetObject" | "PutObject" | "HeadObject" | "ListObjects"
        );
    let (category, management) = if data {
        ("Data", false)
    } else {
        ("Management", true)
    };
    let host = if region == "us-east-1" || matches!(*service, "iam" | "organizations") {
        format!("{service}.amazonaws.com")
    } else {
        format!("{service}.{region}.amazonaws.com")
    };
    out.push_str(&format!(
        r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"{}","eventSource":"{service}.amazonaws.com","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{agent}"{error},"requestParameters":{request},"responseElements":null,"requestID":"{}","eventID":"{}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":{management},"recipientAccountId":"{account}","eventCategory":"{category}","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{host}"}}}}"#,
        instant(epoch_day * 86_400 + at),
        rng.uuid(),
        rng.uuid(),
    ));
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    use super::*;
    use crate::tests::read_tree;

    const ACCOUNT: &str = "111111111111";

    fn written() -> (Vec<Injected>, Vec<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let injected = write_attacks(dir.path(), "2019-10-28", ACCOUNT, "us-west-2").unwrap();
        (injected, read_tree(dir.path()))
    }

    fn records(files: &[(String, String)]) -> Vec<Value> {
        files
            .iter()
            .flat_map(|(_, text)| {
                let file: Value = serde_json::from_str(text).unwrap();
                file["Records"].as_array().unwrap().clone()
            })
            .collect()
    }

    fn text<'a>(record: &'a Value, field: &str) -> &'a str {
        record[field].as_str().unwrap_or_default()
    }

    #[test]
    fn each_scenario_holds_what_it_reports() {
        let (injected, files) = written();
        let records = records(&files);
        let expected = [
            ("recon-burst", "user/leaked-ci", 30, 25),
            ("key-validation-probing", "user/build-bot", 33, 10),
            (
                "assume-role-spray",
                "assumed-role/WebApp/i-0abc1234",
                12,
                12,
            ),
            ("bucket-guessing", "user/marketing-uploader", 25, 15),
            ("offensive-tooling", "user/dev-sandbox", 4, 3),
            (
                "novel-source",
                "assumed-role/DataPipeline/etl-nightly",
                45,
                5,
            ),
            ("new-principal-denied", "user/temp-contractor", 6, 4),
            ("malformed-policy-enum", "user/audit-scanner", 20, 0),
            ("passrole-burst", "user/lambda-dev", 8, 8),
            (
                "credential-harvest",
                "assumed-role/BuildAgent/ci-4711",
                26,
                26,
            ),
        ];
        let got: Vec<_> = injected
            .iter()
            .map(|i| (i.rule, i.principal.as_str(), i.events, i.denied))
            .collect();
        let want: Vec<_> = expected
            .iter()
            .map(|(rule, tail, events, denied)| {
                let arn = if tail.starts_with("user/") {
                    format!("arn:aws:iam::{ACCOUNT}:{tail}")
                } else {
                    format!("arn:aws:sts::{ACCOUNT}:{tail}")
                };
                (*rule, arn, *events, *denied)
            })
            .collect();
        assert_eq!(
            got,
            want.iter()
                .map(|(r, a, e, d)| (*r, a.as_str(), *e, *d))
                .collect::<Vec<_>>()
        );
        assert_eq!(records.len(), expected.iter().map(|e| e.2).sum::<usize>());
        for scenario in &injected {
            let own: Vec<&Value> = records
                .iter()
                .filter(|r| r["userIdentity"]["arn"] == scenario.principal.as_str())
                .collect();
            let denied = own
                .iter()
                .filter(|r| is_denial(text(r, "errorCode")))
                .count();
            assert_eq!(
                (own.len(), denied),
                (scenario.events, scenario.denied),
                "{}",
                scenario.rule
            );
            let times: BTreeSet<&str> = own.iter().map(|r| text(r, "eventTime")).collect();
            assert_eq!(times.first(), Some(&scenario.first_seen.as_str()));
            assert_eq!(times.last(), Some(&scenario.last_seen.as_str()));
            for record in own {
                assert_eq!(text(record, "recipientAccountId"), ACCOUNT);
                assert_eq!(text(record, "eventType"), "AwsApiCall");
                // Denials carry a message; the S3 and policy forms are checked by scenario below.
                if is_denial(text(record, "errorCode")) {
                    assert!(!text(record, "errorMessage").is_empty());
                }
            }
        }
        let first_seen: BTreeMap<&str, &str> = injected
            .iter()
            .map(|i| (i.rule, i.first_seen.as_str()))
            .collect();
        assert_eq!(first_seen["recon-burst"], "2019-10-28T02:00:00Z");
        assert_eq!(first_seen["new-principal-denied"], "2019-10-28T15:00:00Z");
        assert_eq!(first_seen["key-validation-probing"], "2019-10-28T00:30:00Z");
    }

    #[test]
    fn scenario_principals_are_not_the_generated_ones() {
        let (injected, _) = written();
        let names: BTreeSet<&str> = injected.iter().map(|i| i.principal.as_str()).collect();
        assert_eq!(names.len(), injected.len());
        for arn in names {
            let tail = arn.rsplit(['/', ':']).next().unwrap();
            // generate() names its users user00.. and its role sessions session-0..
            let generated = tail.starts_with("session-")
                || (tail.starts_with("user") && tail[4..].parse::<u32>().is_ok());
            assert!(!generated, "{arn}");
        }
    }

    #[test]
    fn files_are_named_and_delivered_as_cloudtrail_does() {
        let (_, files) = written();
        let mut ids = BTreeSet::new();
        for (path, text) in &files {
            let (folder, name) = path.rsplit_once('/').unwrap();
            assert_eq!(
                folder,
                "AWSLogs/111111111111/CloudTrail/us-west-2/2019/10/28"
            );
            let stamp = name
                .strip_prefix("111111111111_CloudTrail_us-west-2_")
                .and_then(|rest| rest.strip_suffix(".json.gz"))
                .unwrap();
            let (time, random) = stamp.split_once("Z_").unwrap();
            assert_eq!(time.len(), 13, "{name}");
            assert!(random.len() == 16 && random.chars().all(|c| c.is_ascii_alphanumeric()));
            // 20191028T0210 → 2019-10-28T02:10
            let delivered = format!(
                "{}-{}-{}T{}:{}:00Z",
                &time[..4],
                &time[4..6],
                &time[6..8],
                &time[9..11],
                &time[11..13]
            );
            let file: Value = serde_json::from_str(text).unwrap();
            for record in file["Records"].as_array().unwrap() {
                let at = text_of(record, "eventTime");
                assert!(
                    at <= delivered.as_str(),
                    "{at} after its delivery {delivered}"
                );
                assert!(
                    minutes(&delivered) - minutes(at) <= 10,
                    "{at} → {delivered}"
                );
                let id = text_of(record, "eventID");
                assert!(
                    id.len() == 36 && [8, 13, 18, 23].iter().all(|&i| &id[i..=i] == "-"),
                    "{id}"
                );
                assert!(ids.insert(id.to_string()), "{id} twice");
            }
        }
    }

    fn text_of<'a>(record: &'a Value, field: &str) -> &'a str {
        text(record, field)
    }

    /// Minutes since midnight of `…THH:MM:SSZ`.
    fn minutes(instant: &str) -> i64 {
        let t = &instant[11..];
        t[..2].parse::<i64>().unwrap() * 60 + t[3..5].parse::<i64>().unwrap()
    }

    fn of_rule<'a>(injected: &[Injected], records: &'a [Value], rule: &str) -> Vec<&'a Value> {
        let arn = &injected.iter().find(|i| i.rule == rule).unwrap().principal;
        records
            .iter()
            .filter(|r| r["userIdentity"]["arn"] == arn.as_str())
            .collect()
    }

    #[test]
    fn scenarios_have_their_shapes() {
        let (injected, files) = written();
        let records = records(&files);

        let recon = of_rule(&injected, &records, "recon-burst");
        let services: BTreeSet<&str> = recon.iter().map(|r| text(r, "eventSource")).collect();
        let denied: BTreeSet<(&str, &str)> = recon
            .iter()
            .filter(|r| is_denial(text(r, "errorCode")))
            .map(|r| (text(r, "eventSource"), text(r, "eventName")))
            .collect();
        let regions: BTreeSet<&str> = recon.iter().map(|r| text(r, "awsRegion")).collect();
        assert!(
            services.len() >= 8 && denied.len() >= 15,
            "{services:?} {denied:?}"
        );
        assert_eq!(regions, RECON_REGIONS.into_iter().collect());
        assert!(
            recon
                .iter()
                .all(|r| text(r, "sourceIPAddress") == "203.0.113.50"
                    && text(r, "userAgent") == BOTO3)
        );
        let list_users = recon
            .iter()
            .find(|r| text(r, "eventName") == "ListUsers")
            .unwrap();
        assert_eq!(
            text(list_users, "errorMessage"),
            "User: arn:aws:iam::111111111111:user/leaked-ci is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action"
        );
        let lambda = recon
            .iter()
            .find(|r| text(r, "eventSource") == "lambda.amazonaws.com")
            .unwrap();
        assert_eq!(text(lambda, "errorCode"), "AccessDeniedException");
        assert!(text(lambda, "errorMessage").contains("perform: lambda:ListFunctions on"));
        let ec2 = recon
            .iter()
            .find(|r| text(r, "eventSource") == "ec2.amazonaws.com")
            .unwrap();
        assert_eq!(text(ec2, "errorCode"), "Client.UnauthorizedOperation");
        assert!(
            text(ec2, "errorMessage")
                .starts_with("You are not authorized to perform this operation. User: ")
        );

        let probing = of_rule(&injected, &records, "key-validation-probing");
        let from_outside: Vec<_> = probing
            .iter()
            .filter(|r| text(r, "sourceIPAddress") == "198.51.100.7")
            .collect();
        assert_eq!(from_outside.len(), 13);
        assert_eq!(text(from_outside[0], "eventName"), "GetCallerIdentity");
        assert_eq!(text(from_outside[0], "eventTime"), "2019-10-28T04:00:00Z");
        let baseline: Vec<_> = probing
            .iter()
            .filter(|r| text(r, "sourceIPAddress") == "10.1.2.3")
            .collect();
        assert_eq!(baseline.len(), 20);
        assert!(baseline.iter().all(|r| r.get("errorCode").is_none()
            && text(r, "userAgent").starts_with("aws-sdk-go/")
            && text(r, "eventTime") < "2019-10-28T03:30:01Z"));
        let probed: BTreeSet<&str> = from_outside
            .iter()
            .filter(|r| is_denial(text(r, "errorCode")))
            .map(|r| text(r, "eventName"))
            .collect();
        assert!(probed.len() >= 6);

        let spray = of_rule(&injected, &records, "assume-role-spray");
        let roles: BTreeSet<&str> = spray
            .iter()
            .map(|r| r["requestParameters"]["roleArn"].as_str().unwrap())
            .collect();
        assert_eq!(roles.len(), 12);
        assert_eq!(
            roles
                .iter()
                .filter(|r| r.contains(":444455556666:"))
                .count(),
            6
        );
        for record in &spray {
            let role = record["requestParameters"]["roleArn"].as_str().unwrap();
            assert_eq!(text(record, "errorCode"), "AccessDenied");
            assert!(text(record, "errorMessage").ends_with(&format!(
                "is not authorized to perform: sts:AssumeRole on resource: {role}"
            )));
            assert_eq!(
                record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
                "arn:aws:iam::111111111111:role/WebApp"
            );
        }

        let buckets = of_rule(&injected, &records, "bucket-guessing");
        let names: BTreeSet<&str> = buckets
            .iter()
            .map(|r| r["requestParameters"]["bucketName"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 25);
        let codes: BTreeMap<(&str, &str), usize> =
            buckets.iter().fold(BTreeMap::new(), |mut counts, r| {
                *counts
                    .entry((text(r, "errorCode"), text(r, "errorMessage")))
                    .or_default() += 1;
                counts
            });
        assert_eq!(
            codes,
            BTreeMap::from([
                (("AccessDenied", "Access Denied"), 15),
                (("NoSuchBucket", "The specified bucket does not exist"), 10),
            ])
        );

        let kali = of_rule(&injected, &records, "offensive-tooling");
        assert!(kali.iter().all(|r| text(r, "userAgent").contains("kali")));

        let novel = of_rule(&injected, &records, "novel-source");
        let late: Vec<_> = novel
            .iter()
            .filter(|r| text(r, "sourceIPAddress") == "185.220.101.4")
            .collect();
        assert_eq!(late.len(), 5);
        assert!(late.iter().all(|r| is_denial(text(r, "errorCode"))
            && text(r, "userAgent") == "python-requests/2.31.0"
            && text(r, "eventTime") >= "2019-10-28T13:00:00Z"));

        let newcomer = of_rule(&injected, &records, "new-principal-denied");
        let mut by_time = newcomer.clone();
        by_time.sort_by_key(|r| text(r, "eventTime"));
        let pattern: Vec<bool> = by_time
            .iter()
            .map(|r| is_denial(text(r, "errorCode")))
            .collect();
        assert_eq!(pattern, [true, true, true, true, false, false]);

        let malformed = of_rule(&injected, &records, "malformed-policy-enum");
        let guessed: BTreeSet<&str> = malformed
            .iter()
            .map(|r| {
                assert_eq!(text(r, "errorCode"), "MalformedPolicyDocumentException");
                let message = text(r, "errorMessage");
                let document = r["requestParameters"]["policyDocument"].as_str().unwrap();
                let document: Value = serde_json::from_str(document).unwrap();
                let principal = document["Statement"][0]["Principal"]["AWS"]
                    .as_str()
                    .unwrap();
                assert_eq!(
                    message,
                    format!(r#"Invalid principal in policy: "AWS":"{principal}""#)
                );
                message
            })
            .collect();
        assert_eq!(guessed.len(), 20);

        let passrole = of_rule(&injected, &records, "passrole-burst");
        let passed: BTreeSet<&str> = passrole
            .iter()
            .map(|r| {
                let message = text(r, "errorMessage");
                let at = message.find("iam:PassRole on resource: ").unwrap();
                message[at..]
                    .split(' ')
                    .nth(3)
                    .unwrap()
                    .trim_end_matches('.')
            })
            .collect();
        assert_eq!(passed.len(), 6, "{passed:?}");
        let codes: BTreeSet<&str> = passrole.iter().map(|r| text(r, "errorCode")).collect();
        assert_eq!(
            codes,
            BTreeSet::from(["AccessDeniedException", "Client.UnauthorizedOperation"])
        );
    }

    #[test]
    fn the_same_arguments_write_the_same_files() {
        let (first, first_files) = written();
        let (second, second_files) = written();
        assert_eq!((first, first_files), (second, second_files));
    }
}
