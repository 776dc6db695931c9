//! What a file's location says about it: the S3 key layout CloudTrail delivers to.
//!
//! `[prefix/]AWSLogs/[o-xxxxxxxxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>` yields the
//! path columns (`account`, `region`, `year`, `month`, `day`, and the `timestamp`,
//! `date_partition`, `region_partition`, `account_partition` other DDLs derive from them);
//! sibling folders such as `CloudTrail-Digest/` hold files that are not events at all.

/// Values of the path columns; all `None` for a file outside the S3 layout.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Partition {
    pub account: Option<String>,
    pub region: Option<String>,
    pub year: Option<String>,
    pub month: Option<String>,
    pub day: Option<String>,
}

impl Partition {
    /// The delivery day as `YYYY/MM/DD`, the value of the `timestamp` and `date_partition`
    /// columns; `None` unless the year, month and day are all known.
    pub fn date_text(&self) -> Option<String> {
        let (y, m, d) = self.date_parts()?;
        Some(format!("{y}/{m}/{d}"))
    }

    pub(crate) fn date_parts(&self) -> Option<(&str, &str, &str)> {
        Some((
            self.year.as_deref()?,
            self.month.as_deref()?,
            self.day.as_deref()?,
        ))
    }
}

/// Why a file that looks like CloudTrail output holds no events to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NonEventKind {
    /// Hourly digest files of log file integrity validation.
    Digest,
    /// CloudTrail Insights events, which describe unusual activity rather than calls.
    Insight,
    /// Network activity events for VPC endpoints.
    NetworkActivity,
}

impl NonEventKind {
    pub fn describe(self) -> &'static str {
        match self {
            NonEventKind::Digest => "digest file",
            NonEventKind::Insight => "Insights file",
            NonEventKind::NetworkActivity => "network activity file",
        }
    }

    fn from_folder(name: &str) -> Option<Self> {
        match name {
            "CloudTrail-Digest" => Some(Self::Digest),
            "CloudTrail-Insight" => Some(Self::Insight),
            "CloudTrail-NetworkActivity" => Some(Self::NetworkActivity),
            _ => None,
        }
    }
}

/// Whether `name` is the name Firehose gives the objects it delivers to S3 with no extension:
/// `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<id>`. Such objects may hold CloudWatch Logs
/// subscription data; what they hold is decided by their content.
pub fn is_firehose_object_name(name: &str) -> bool {
    // `-YYYY-MM-DD-HH-MM-SS-`: a hyphen, then six numbers of 4, 2, 2, 2, 2, 2 digits each
    // followed by a hyphen.
    const STAMP: [usize; 6] = [4, 2, 2, 2, 2, 2];
    if name.contains('.') {
        return false;
    }
    let bytes = name.as_bytes();
    let stamp_len = STAMP.iter().map(|n| n + 1).sum::<usize>() + 1;
    bytes.windows(stamp_len).any(|window| {
        let mut at = 1;
        window[0] == b'-'
            && STAMP.iter().all(|&digits| {
                let ok = window[at..at + digits].iter().all(u8::is_ascii_digit)
                    && window[at + digits] == b'-';
                at += digits + 1;
                ok
            })
    })
}

/// What the path of a file says: its partition, or that it is not an event file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathInfo {
    Events(Partition),
    NonEvent(NonEventKind),
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads the layout from `/`-separated components of a file's path or S3 key.
pub fn classify_path(path: &str) -> PathInfo {
    classify(path, true)
}

/// Reads the layout from a folder's path or an S3 prefix, which may stop anywhere in the layout
/// (`AWSLogs/`, an account, a region, a year...): the partition holds what the folder fixes.
pub fn classify_folder(path: &str) -> PathInfo {
    classify(path, false)
}

fn classify(path: &str, is_file: bool) -> PathInfo {
    let components: Vec<&str> = path.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
    if is_file {
        let file_name = components.last().copied().unwrap_or_default();
        for (marker, kind) in [
            ("_CloudTrail-Digest_", NonEventKind::Digest),
            ("_CloudTrail-Insight_", NonEventKind::Insight),
            (
                "_CloudTrail-NetworkActivity_",
                NonEventKind::NetworkActivity,
            ),
        ] {
            if file_name.contains(marker) {
                return PathInfo::NonEvent(kind);
            }
        }
    }
    // The last AWSLogs component wins, so a local copy under a folder named AWSLogs still works.
    let Some(start) = components.iter().rposition(|c| *c == "AWSLogs") else {
        return PathInfo::Events(security_lake_partition(&components, is_file));
    };
    let mut rest = &components[start + 1..];
    if rest.first().is_some_and(|c| c.starts_with("o-")) {
        rest = &rest[1..];
    }
    let mut partition = Partition::default();
    if let Some(account) = rest.first().filter(|a| is_account_id(a)) {
        partition.account = Some(account.to_string());
        if let Some(service) = rest.get(1) {
            if let Some(kind) = NonEventKind::from_folder(service) {
                return PathInfo::NonEvent(kind);
            }
            if *service == "CloudTrail" {
                // Folders only: a file's name is never a region or a date.
                let end = if is_file {
                    rest.len().saturating_sub(1)
                } else {
                    rest.len()
                };
                let folders = rest.get(2..end.max(2)).unwrap_or_default();
                partition.region = folders.first().map(std::string::ToString::to_string);
                let date = [(1, 4), (2, 2), (3, 2)].map(|(i, len)| {
                    folders
                        .get(i)
                        .filter(|v| is_digits(v, len))
                        .map(std::string::ToString::to_string)
                });
                [partition.year, partition.month, partition.day] = date;
            }
        }
    }
    PathInfo::Events(partition)
}

/// Amazon Security Lake's Hive folders (`…/region=<region>/accountId=<account>/eventDay=YYYYMMDD/`):
/// the event's region, account and day, read into the same path columns so that the same filters
/// prune them. Folders only: a file's own name is never one of them.
fn security_lake_partition(components: &[&str], is_file: bool) -> Partition {
    let folders = if is_file {
        &components[..components.len().saturating_sub(1)]
    } else {
        components
    };
    let mut partition = Partition::default();
    for folder in folders {
        if let Some(region) = folder.strip_prefix("region=").filter(|r| !r.is_empty()) {
            partition.region = Some(region.to_string());
        } else if let Some(account) = folder
            .strip_prefix("accountId=")
            .filter(|a| is_account_id(a))
        {
            partition.account = Some(account.to_string());
        } else if let Some(day) = folder.strip_prefix("eventDay=").filter(|d| is_digits(d, 8)) {
            partition.year = Some(day[..4].to_string());
            partition.month = Some(day[4..6].to_string());
            partition.day = Some(day[6..].to_string());
        }
    }
    partition
}

/// The delivery time stamped in a CloudTrail file name (`..._20191029T0655Z_...`), as
/// milliseconds since the Unix epoch. Files hold events from before this time.
pub fn delivery_time_from_name(file_name: &str) -> Option<i64> {
    file_name.split('_').find_map(|part| {
        let b = part.as_bytes();
        if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = part.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let (y, m, d, hh, mm) = (
            num(0..4)?,
            num(4..6)?,
            num(6..8)?,
            num(9..11)?,
            num(11..13)?,
        );
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 {
            return None;
        }
        Some((crate::time::epoch_day(y, m, d)? * 86_400 + hh * 3_600 + mm * 60) * 1_000)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_security_lake_folders() {
        let info = classify_path(
            "lake/aws/CLOUD_TRAIL_MGMT/2.0/region=eu-west-1/accountId=123456789012/eventDay=20240301/part-1.gz.parquet",
        );
        assert_eq!(
            info,
            PathInfo::Events(Partition {
                account: Some("123456789012".into()),
                region: Some("eu-west-1".into()),
                year: Some("2024".into()),
                month: Some("03".into()),
                day: Some("01".into()),
            })
        );
        // A folder that stops part way fixes what it names.
        assert_eq!(
            classify_folder("aws/CLOUD_TRAIL_MGMT/2.0/region=eu-west-1"),
            PathInfo::Events(Partition {
                region: Some("eu-west-1".into()),
                ..Partition::default()
            })
        );
        // Not a day: left open.
        assert_eq!(
            classify_folder("x/eventDay=2024"),
            PathInfo::Events(Partition::default())
        );
    }

    #[test]
    fn reads_the_s3_layout() {
        let info = classify_path(
            "trail/AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29/123456789012_CloudTrail_us-east-1_20191029T0655Z_abcdefghijklmnop.json.gz",
        );
        assert_eq!(
            info,
            PathInfo::Events(Partition {
                account: Some("123456789012".into()),
                region: Some("us-east-1".into()),
                year: Some("2019".into()),
                month: Some("10".into()),
                day: Some("29".into()),
            })
        );
    }

    #[test]
    fn reads_organization_trails() {
        let PathInfo::Events(p) = classify_path(
            "AWSLogs/o-a1b2c3d4e5/210987654321/CloudTrail/eu-west-1/2019/10/30/x.json.gz",
        ) else {
            panic!("an event file")
        };
        assert_eq!(p.account.as_deref(), Some("210987654321"));
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.day.as_deref(), Some("30"));
    }

    #[test]
    fn other_layouts_have_no_partition() {
        assert_eq!(
            classify_path("/tmp/downloads/events.json"),
            PathInfo::Events(Partition::default())
        );
        let PathInfo::Events(p) = classify_path("AWSLogs/123456789012/CloudTrail/x.json") else {
            panic!("an event file")
        };
        assert_eq!(p.account.as_deref(), Some("123456789012"));
        assert_eq!(p.region, None, "the file name is not a region");
    }

    #[test]
    fn recognises_non_event_files() {
        assert_eq!(
            classify_path("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2019/10/29/d.json.gz"),
            PathInfo::NonEvent(NonEventKind::Digest)
        );
        assert_eq!(
            classify_path("x/123456789012_CloudTrail-Insight_us-east-1_20191029T0655Z_a.json.gz"),
            PathInfo::NonEvent(NonEventKind::Insight)
        );
    }

    #[test]
    fn recognises_firehose_object_names() {
        assert!(is_firehose_object_name(
            "trail-logs-1-2026-11-29-10-15-00-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
        ));
        assert!(!is_firehose_object_name("Makefile"));
        assert!(!is_firehose_object_name("notes-2026-11-29"));
        assert!(!is_firehose_object_name("x-1-2026-11-29-10-15-00-id.txt"));
    }

    #[test]
    fn parses_delivery_time() {
        assert_eq!(
            delivery_time_from_name("123456789012_CloudTrail_us-east-1_20191029T0655Z_abc.json.gz"),
            Some(1_572_332_100_000)
        );
        assert_eq!(delivery_time_from_name("events.json"), None);
    }
}
