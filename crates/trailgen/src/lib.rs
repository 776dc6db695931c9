//! Writes a synthetic CloudTrail trail in the S3 layout, gzipped as CloudTrail delivers it: the
//! library behind `ctq-trailgen`, and the trail tests generate when they need one bigger or more
//! varied than the bundled sample.
//!
//! Deterministic for a given seed and settings. The records follow what real trails hold: a
//! service mix led by S3 data events with large request parameters, KMS, STS and EC2 calls, IAM
//! users, role sessions and AWS service principals, every denial message form ctq classifies,
//! throttling and not-found errors, and file sizes from a few hundred bytes to a few megabytes.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;

pub mod attacks;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Folder to write `AWSLogs/...` into.
    pub out: PathBuf,
    pub seed: u64,
    pub days: i64,
    /// Accounts 111111111111, 222222222222, ...
    pub accounts: usize,
    /// The first regions of us-east-1, eu-west-1, us-west-2, ...
    pub regions: usize,
    /// Files delivered per hour for each account and region.
    pub files_per_hour: i64,
    /// First day, YYYY-MM-DD.
    pub start: String,
    /// Scale of records per file (the mean comes out at about three quarters of it).
    pub mean_records: f64,
    /// Share of records that are access denials.
    pub denial_rate: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            out: PathBuf::new(),
            seed: 42,
            days: 3,
            accounts: 2,
            regions: 4,
            files_per_hour: 12,
            start: "2019-10-28".to_string(),
            mean_records: 175.0,
            denial_rate: 0.03,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: u64,
    pub records: u64,
    /// Bytes of JSON before compression.
    pub raw: u64,
    /// Bytes of the gzipped files.
    pub gzip: u64,
}

/// Writes the trail `settings` describe under `settings.out`.
pub fn generate(settings: &Settings) -> anyhow::Result<Totals> {
    let first_day = epoch_day(&settings.start)?;
    let accounts: Vec<String> = (0..settings.accounts).map(account_id).collect();
    let regions = &REGIONS[..settings.regions.min(REGIONS.len())];
    let mut streams = Vec::new();
    for account in &accounts {
        for region in regions {
            for day in first_day..first_day + settings.days {
                streams.push((account.as_str(), *region, day));
            }
        }
    }
    let totals = streams
        .par_iter()
        .map(|(account, region, day)| write_stream(settings, &settings.out, account, region, *day))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(totals.iter().fold(Totals::default(), |sum, t| Totals {
        files: sum.files + t.files,
        records: sum.records + t.records,
        raw: sum.raw + t.raw,
        gzip: sum.gzip + t.gzip,
    }))
}

/// The account [`generate`] writes `index`th (from 0): 111111111111, 222222222222, ...
pub fn account_id(index: usize) -> String {
    format!(
        "{:012}",
        111_111_111_111u64 * (index as u64 + 1) % 1_000_000_000_000
    )
}

/// Days from 1970-01-01 to `day`, written YYYY-MM-DD.
fn epoch_day(day: &str) -> anyhow::Result<i64> {
    let parts: Vec<i64> = day.split('-').map(str::parse).collect::<Result<_, _>>()?;
    anyhow::ensure!(parts.len() == 3, "the day {day} must be YYYY-MM-DD");
    let date = NaiveDate::from_ymd_opt(
        parts[0].try_into()?,
        parts[1].try_into()?,
        parts[2].try_into()?,
    )
    .ok_or_else(|| anyhow::anyhow!("the day {day} is not a calendar day"))?;
    Ok(i64::from(date.to_epoch_days()))
}

/// SplitMix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            write!(s, "{:016x}", self.next()).unwrap();
        }
        s.truncate(len);
        s
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
    fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize] as char)
            .collect()
    }
}

/// The regions [`generate`] writes, in the order [`Settings::regions`] takes them.
pub const REGIONS: [&str; 8] = [
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "ap-southeast-2",
    "eu-central-1",
    "us-east-2",
    "ap-northeast-1",
    "sa-east-1",
];

/// The policy types AWS names in denial messages.
const POLICY_FORMS: [&str; 9] = [
    "with an explicit deny in a service control policy",
    "with an explicit deny in an identity-based policy",
    "with an explicit deny in a permissions boundary",
    "with an explicit deny in a resource-based policy",
    "with an explicit deny in a VPC endpoint policy",
    "because no identity-based policy allows the {action} action",
    "because no resource-based policy allows the {action} action",
    "because no session policy allows the {action} action",
    "because no permissions boundary allows the {action} action",
];

struct Principal {
    identity: String,
    arn: Option<String>,
    /// The addresses it calls from. People and workloads call from a few stable places; an AWS
    /// service calls from its own name.
    ips: Vec<String>,
    agents: Vec<&'static str>,
}

const AGENTS: [&str; 4] = [
    "aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp",
    "aws-sdk-java/1.12.470 Linux/5.10.184 OpenJDK_64-Bit_Server_VM/25.372-b07 java/1.8.0_372",
    "Boto3/1.28.2 md/Botocore#1.31.2 ua/2.0 os/linux#5.10.186 md/arch#x86_64 lang/python#3.10.12",
    "console.amazonaws.com",
];

impl Principal {
    /// A user or role session, with its home addresses and agents fixed by its identity alone,
    /// so they do not depend on (nor disturb) the stream of any account, region or day.
    fn caller(identity: String, arn: String) -> Self {
        let mut rng = Rng::new(hash(&identity));
        let ips = (0..=rng.below(3))
            .map(|_| {
                format!(
                    "{}.{}.{}.{}",
                    10 + rng.below(200),
                    rng.below(256),
                    rng.below(256),
                    1 + rng.below(254)
                )
            })
            .collect();
        let first = rng.below(AGENTS.len() as u64) as usize;
        let mut agents = vec![AGENTS[first]];
        if rng.below(2) == 1 {
            agents.push(AGENTS[(first + 1 + rng.below(3) as usize) % AGENTS.len()]);
        }
        Principal {
            identity,
            arn: Some(arn),
            ips,
            agents,
        }
    }

    fn service(service: &'static str) -> Self {
        Principal {
            identity: format!(r#"{{"type":"AWSService","invokedBy":"{service}"}}"#),
            arn: None,
            ips: vec![service.to_string()],
            agents: vec![service],
        }
    }
}

fn principals(account: &str, rng: &mut Rng) -> Vec<Principal> {
    let mut out = Vec::new();
    for i in 0..20 {
        let name = format!("user{i:02}");
        let arn = format!("arn:aws:iam::{account}:user/{name}");
        let identity = format!(
            r#"{{"type":"IAMUser","principalId":"AIDA{}","arn":"{arn}","accountId":"{account}","accessKeyId":"AKIA{}","userName":"{name}"}}"#,
            rng.alnum(17).to_uppercase(),
            rng.alnum(16).to_uppercase()
        );
        out.push(Principal::caller(identity, arn));
    }
    for (i, role) in [
        "Deployer",
        "DataPipeline",
        "ReadOnly",
        "Admin",
        "LambdaExec",
        "EcsTask",
        "Analyst",
        "Backup",
        "CiRunner",
        "Support",
        "Audit",
        "Billing",
        "Monitoring",
        "Etl",
        "WebApp",
        "Batch",
        "Scanner",
        "Ops",
    ]
    .iter()
    .enumerate()
    {
        let session = format!("session-{i}");
        let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/{session}");
        let role_id = format!("AROA{}", rng.alnum(17).to_uppercase());
        let identity = format!(
            r#"{{"type":"AssumedRole","principalId":"{role_id}:{session}","arn":"{arn}","accountId":"{account}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{role_id}","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2019-10-28T00:00:00Z","mfaAuthenticated":"false"}}}}}}"#,
            rng.alnum(16).to_uppercase()
        );
        out.push(Principal::caller(identity, arn));
    }
    for service in ["config.amazonaws.com", "cloudformation.amazonaws.com"] {
        out.push(Principal::service(service));
    }
    out
}

/// One call: (eventSource, eventName, readOnly, data event, request parameters, response, extra).
fn call(
    rng: &mut Rng,
    account: &str,
    region: &str,
) -> (String, &'static str, bool, bool, String, String, String) {
    let bucket = format!(
        "{}-{}",
        rng.pick(&["logs", "artifacts", "data-lake", "backups", "assets"]),
        account
    );
    match rng.below(100) {
        0..=44 => {
            let name = *rng.pick(&[
                "GetObject",
                "GetObject",
                "PutObject",
                "HeadObject",
                "ListObjects",
            ]);
            let key = format!(
                "prefix/{}/part-{:05}-{}.parquet",
                rng.below(400),
                rng.below(99999),
                rng.uuid()
            );
            let request = format!(
                r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{key}","x-amz-request-payer":"requester","x-id":"{name}"}}"#
            );
            let extra = format!(
                r#","additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{}","bytesTransferredOut":{}}},"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{key}"}},{{"accountId":"{account}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#,
                rng.alnum(76),
                rng.below(5_000_000)
            );
            (
                "s3.amazonaws.com".into(),
                name,
                name != "PutObject",
                true,
                request,
                "null".into(),
                extra,
            )
        }
        45..=59 => {
            let name = *rng.pick(&["Decrypt", "GenerateDataKey", "Encrypt"]);
            let key_arn = format!("arn:aws:kms:{region}:{account}:key/{}", rng.uuid());
            let request = format!(
                r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","keyId":"{key_arn}","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{bucket}/{}"}}}}"#,
                rng.uuid()
            );
            let extra = format!(
                r#","resources":[{{"accountId":"{account}","type":"AWS::KMS::Key","ARN":"{key_arn}"}}]"#
            );
            (
                "kms.amazonaws.com".into(),
                name,
                true,
                false,
                request,
                "null".into(),
                extra,
            )
        }
        60..=69 => {
            let role = format!(
                "arn:aws:iam::{account}:role/{}",
                rng.pick(&["Deployer", "ReadOnly", "Admin"])
            );
            let request = format!(
                r#"{{"roleArn":"{role}","roleSessionName":"s-{}","durationSeconds":3600}}"#,
                rng.below(1000)
            );
            let response = format!(
                r#"{{"credentials":{{"accessKeyId":"ASIA{}","sessionToken":"{}","expiration":"Oct 29, 2019, 7:00:00 AM"}},"assumedRoleUser":{{"assumedRoleId":"AROA{}:s","arn":"{role}"}}}}"#,
                rng.alnum(16).to_uppercase(),
                rng.alnum(200),
                rng.alnum(17).to_uppercase()
            );
            (
                "sts.amazonaws.com".into(),
                "AssumeRole",
                true,
                false,
                request,
                response,
                String::new(),
            )
        }
        70..=81 => {
            let name = *rng.pick(&[
                "DescribeInstances",
                "DescribeVolumes",
                "DescribeSecurityGroups",
                "RunInstances",
                "TerminateInstances",
            ]);
            let request = format!(
                r#"{{"instancesSet":{{"items":[{{"instanceId":"i-{}"}}]}},"filterSet":{{}}}}"#,
                rng.hex(17)
            );
            (
                "ec2.amazonaws.com".into(),
                name,
                name.starts_with("Describe"),
                false,
                request,
                "null".into(),
                String::new(),
            )
        }
        82..=89 => {
            let name = *rng.pick(&["PutLogEvents", "CreateLogStream", "DescribeLogGroups"]);
            let request = format!(
                r#"{{"logGroupName":"/aws/lambda/fn-{}","logStreamName":"2019/10/29/[$LATEST]{}"}}"#,
                rng.below(50),
                rng.hex(32)
            );
            (
                "logs.amazonaws.com".into(),
                name,
                name.starts_with("Describe"),
                false,
                request,
                "null".into(),
                String::new(),
            )
        }
        90..=94 => {
            let name = *rng.pick(&[
                "GetRole",
                "ListRoles",
                "GetUser",
                "ListAttachedRolePolicies",
                "PassRole",
            ]);
            let request = format!(
                r#"{{"roleName":"{}"}}"#,
                rng.pick(&["Deployer", "ReadOnly", "Admin"])
            );
            (
                "iam.amazonaws.com".into(),
                name,
                name != "PassRole",
                false,
                request,
                "null".into(),
                String::new(),
            )
        }
        95..=97 => {
            let name = *rng.pick(&["GetParameter", "GetParameters"]);
            let request = format!(
                r#"{{"name":"/app/{}/db-password","withDecryption":true}}"#,
                rng.below(20)
            );
            (
                "ssm.amazonaws.com".into(),
                name,
                true,
                false,
                request,
                "null".into(),
                String::new(),
            )
        }
        _ => {
            let name = *rng.pick(&["LookupEvents", "DescribeTrails", "GetTrailStatus"]);
            (
                "cloudtrail.amazonaws.com".into(),
                name,
                true,
                false,
                "null".into(),
                "null".into(),
                String::new(),
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    rng: &mut Rng,
    out: &mut String,
    account: &str,
    region: &str,
    principals: &[Principal],
    event_ms: i64,
    denial_rate: f64,
) {
    let principal = rng.pick(principals);
    let (source, name, read_only, data, request, response, extra) = call(rng, account, region);
    let service = source.split('.').next().unwrap_or_default();
    let action = format!("{service}:{name}");
    let arn = principal
        .arn
        .as_deref()
        .unwrap_or("arn:aws:iam::000000000000:root");
    let roll = rng.unit();
    let error = if roll < denial_rate {
        let resource = format!(
            "arn:aws:{service}:{region}:{account}:thing/{}",
            rng.below(1000)
        );
        let (code, message) = match rng.below(12) {
            0 | 1 if service == "ec2" => (
                "Client.UnauthorizedOperation".to_string(),
                format!(
                    "You are not authorized to perform this operation. User: {arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action. Encoded authorization failure message: {}",
                    rng.alnum(420)
                ),
            ),
            2 if service == "s3" => ("AccessDenied".into(), "Access Denied".into()),
            3 => ("AccessDenied".into(), String::new()),
            4 => (
                "AccessDenied".into(),
                format!("User: {arn} is not authorized to perform: {action} with an explicit deny"),
            ),
            5 => (
                "AccessDenied".into(),
                format!(
                    "User: {arn} is not authorized to perform: {action} on resource: {resource} with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-{}",
                    rng.alnum(8).to_lowercase()
                ),
            ),
            6 => (
                "UnauthorizedException".into(),
                format!("User: {arn} is not authorized to perform: {action}"),
            ),
            _ => {
                let form = rng.pick(&POLICY_FORMS).replace("{action}", &action);
                let code = if service == "s3" || service == "sts" || service == "iam" {
                    "AccessDenied"
                } else {
                    "AccessDeniedException"
                };
                (
                    code.into(),
                    format!(
                        "User: {arn} is not authorized to perform: {action} on resource: {resource} {form}"
                    ),
                )
            }
        };
        format!(r#","errorCode":"{code}","errorMessage":"{message}""#)
    } else if roll < denial_rate + 0.02 {
        let (code, message) = *rng.pick(&[
            ("ThrottlingException", "Rate exceeded"),
            ("NoSuchKey", "The specified key does not exist."),
            ("ResourceNotFoundException", "Requested resource not found"),
            ("ValidationException", "1 validation error detected"),
        ]);
        format!(r#","errorCode":"{code}","errorMessage":"{message}""#)
    } else {
        String::new()
    };
    let secs = event_ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    // The draws an address and an agent once took from the stream are still taken, only to
    // choose among the principal's own, so every other field of every record stays as it was.
    let agent = principal.agents[rng.below(AGENTS.len() as u64) as usize % principal.agents.len()];
    let (category, management) = if data {
        ("Data", false)
    } else {
        ("Management", true)
    };
    let ip_draw = [
        10 + rng.below(200),
        rng.below(256),
        rng.below(256),
        rng.below(256),
    ];
    let ip = &principal.ips
        [(ip_draw.iter().fold(0, |sum, n| sum * 256 + n) % principal.ips.len() as u64) as usize];
    write!(
        out,
        r#"{{"eventVersion":"1.09","userIdentity":{},"eventTime":"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z","eventSource":"{source}","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{agent}"{error},"requestParameters":{request},"responseElements":{response}{extra},"requestID":"{}","eventID":"{}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":{management},"recipientAccountId":"{account}","eventCategory":"{category}","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{service}.{region}.amazonaws.com"}}}}"#,
        principal.identity,
        t / 3600,
        t % 3600 / 60,
        t % 60,
        rng.uuid(),
        rng.uuid(),
    )
    .unwrap();
}

fn records_in_file(rng: &mut Rng, mean: f64) -> usize {
    // Heavy-tailed: many files with a handful of records, a few with thousands.
    if rng.unit() < 0.44 {
        1 + rng.below(3) as usize
    } else {
        let pareto = (1.0 - rng.unit()).powf(-1.0 / 1.6);
        ((mean * 1.5 * 0.375) * pareto).min(mean * 60.0) as usize + 1
    }
}

/// Year, month and day of a day counted from 1970-01-01.
fn civil_from_days(epoch_day: i64) -> (i32, u32, u32) {
    let date = i32::try_from(epoch_day)
        .ok()
        .and_then(NaiveDate::from_epoch_days)
        .expect("a day in the calendar's range");
    (date.year(), date.month(), date.day())
}

fn write_stream(
    args: &Settings,
    out: &Path,
    account: &str,
    region: &str,
    day: i64,
) -> anyhow::Result<Totals> {
    let mut rng = Rng::new(
        args.seed
            ^ (day as u64).wrapping_mul(0x1000_0000_01b3)
            ^ hash(account)
            ^ hash(region).rotate_left(17),
    );
    let principals = principals(account, &mut Rng::new(args.seed ^ hash(account)));
    let (y, m, d) = civil_from_days(day);
    let folder = out.join(format!(
        "AWSLogs/{account}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}"
    ));
    std::fs::create_dir_all(&folder)?;
    let mut totals = Totals {
        files: 0,
        records: 0,
        raw: 0,
        gzip: 0,
    };
    let per_day = 24 * args.files_per_hour;
    let interval_ms = 86_400_000 / per_day;
    let mut text = String::new();
    for slot in 0..per_day {
        let delivered_ms =
            day * 86_400_000 + slot * interval_ms + 5 * 60_000 + rng.below(5 * 60_000) as i64;
        let n = records_in_file(&mut rng, args.mean_records);
        text.clear();
        text.push_str(r#"{"Records":["#);
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            let event_ms = delivered_ms - 5 * 60_000 - rng.below(10 * 60_000) as i64;
            record(
                &mut rng,
                &mut text,
                account,
                region,
                &principals,
                event_ms,
                args.denial_rate,
            );
        }
        text.push_str("]}");
        let secs = delivered_ms / 1000;
        let t = secs.rem_euclid(86_400);
        let (dy, dm, dd) = civil_from_days(secs.div_euclid(86_400));
        let name = format!(
            "{account}_CloudTrail_{region}_{dy:04}{dm:02}{dd:02}T{:02}{:02}Z_{}.json.gz",
            t / 3600,
            t % 3600 / 60,
            rng.alnum(16)
        );
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        encoder.write_all(text.as_bytes())?;
        let gz = encoder.finish()?;
        // Files go to their delivery day's folder, which is the slot's day but for the last minutes.
        let target = if (dy, dm, dd) == (y, m, d) {
            folder.join(&name)
        } else {
            let next = out.join(format!(
                "AWSLogs/{account}/CloudTrail/{region}/{dy:04}/{dm:02}/{dd:02}"
            ));
            std::fs::create_dir_all(&next)?;
            next.join(&name)
        };
        std::fs::write(target, &gz)?;
        totals.files += 1;
        totals.records += n as u64;
        totals.raw += text.len() as u64;
        totals.gzip += gz.len() as u64;
    }
    Ok(totals)
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The path and decompressed text of every file of a small run, in path order.
    pub(crate) fn small_run(out: &Path) -> Vec<(String, String)> {
        let settings = Settings {
            out: out.to_path_buf(),
            days: 1,
            accounts: 1,
            regions: 2,
            files_per_hour: 2,
            mean_records: 40.0,
            denial_rate: 0.2,
            ..Settings::default()
        };
        generate(&settings).unwrap();
        read_tree(out)
    }

    pub(crate) fn read_tree(out: &Path) -> Vec<(String, String)> {
        let mut files = Vec::new();
        let mut folders = vec![out.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|file| {
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap()),
                    &mut text,
                )
                .unwrap();
                let name = file.strip_prefix(out).unwrap().display().to_string();
                (name, text)
            })
            .collect()
    }

    /// `text` with the values of every `"field":"..."` emptied.
    fn blank(text: &str, field: &str) -> String {
        let opening = format!(r#""{field}":""#);
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(&opening) {
            let value = at + opening.len();
            out.push_str(&rest[..value]);
            rest = &rest[value..];
            rest = &rest[rest.find('"').unwrap()..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn records_but_their_sources_are_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut digest = String::new();
        let files = small_run(dir.path());
        for (name, text) in &files {
            digest.push_str(name);
            digest.push_str(&blank(&blank(text, "sourceIPAddress"), "userAgent"));
        }
        // The digest of this very run before principals had home addresses: only the addresses
        // and agents may have changed.
        assert_eq!(
            (files.len(), format!("{:016x}", hash(&digest))),
            (96, "0fcbce361c055bb2".to_string())
        );
    }

    #[test]
    fn each_principal_calls_from_a_few_stable_places() {
        let dir = tempfile::tempdir().unwrap();
        let mut sources: std::collections::BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> =
            std::collections::BTreeMap::new();
        for (_, text) in small_run(dir.path()) {
            let file: serde_json::Value = serde_json::from_str(&text).unwrap();
            for record in file["Records"].as_array().unwrap() {
                let identity = &record["userIdentity"];
                let who = identity["arn"]
                    .as_str()
                    .or(identity["invokedBy"].as_str())
                    .unwrap()
                    .to_string();
                let ip = record["sourceIPAddress"].as_str().unwrap().to_string();
                let agent = record["userAgent"].as_str().unwrap().to_string();
                if identity["type"] == "AWSService" {
                    assert_eq!((ip.as_str(), agent.as_str()), (who.as_str(), who.as_str()));
                }
                let (ips, agents) = sources.entry(who).or_default();
                ips.insert(ip);
                agents.insert(agent);
            }
        }
        // 20 users, 18 role sessions and 2 services all call in a day this busy.
        assert_eq!(sources.len(), 40);
        for (who, (ips, agents)) in &sources {
            assert!(
                ips.len() <= 3 && agents.len() <= 2,
                "{who}: {ips:?} {agents:?}"
            );
        }
        let all_ips: BTreeSet<&String> = sources.values().flat_map(|(ips, _)| ips).collect();
        assert!(
            all_ips.len() > 40,
            "principals share too few addresses: {all_ips:?}"
        );
        assert!(sources.values().any(|(ips, _)| ips.len() == 3));
        assert!(sources.values().any(|(_, agents)| agents.len() == 2));
    }
}
