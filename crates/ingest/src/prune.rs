//! Deciding from a file's location alone whether it can hold records a query needs.
//!
//! CloudTrail's S3 layout says which account and region a file is for and on which day it was
//! delivered, and its name carries the delivery time to the minute. A file holds events from
//! before its delivery, usually within 15 minutes but without a guarantee, so a time window keeps
//! every file delivered from the window's start up to the window's end plus a slack. The same
//! decisions serve local folders (during the walk) and S3 listings (as prefixes and keys).

use std::collections::BTreeSet;

use crate::path::{Partition, days_from_civil};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// How long after an event its file may be delivered, unless told otherwise. AWS documents
/// delivery "within about 15 minutes" on average; an hour leaves room for stragglers.
pub const DEFAULT_DELIVERY_SLACK_MS: i64 = 60 * MINUTE_MS;

/// What a query needs, in terms of file locations. The default needs everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruning {
    /// Event times needed, as `[start, end)` milliseconds since the epoch; either side open.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Only these accounts (the `account` path column), when set.
    pub accounts: Option<BTreeSet<String>>,
    /// Only these regions (the `region` path column), when set.
    pub regions: Option<BTreeSet<String>>,
    /// Only these delivery years, months and days (the `year`, `month`, `day` path columns, as
    /// Athena's partitioned tables name them), when set.
    pub years: Option<BTreeSet<String>>,
    pub months: Option<BTreeSet<String>>,
    pub days: Option<BTreeSet<String>>,
    /// See [`DEFAULT_DELIVERY_SLACK_MS`].
    pub delivery_slack_ms: i64,
}

impl Default for Pruning {
    fn default() -> Self {
        Self {
            start_ms: None,
            end_ms: None,
            accounts: None,
            regions: None,
            years: None,
            months: None,
            days: None,
            delivery_slack_ms: DEFAULT_DELIVERY_SLACK_MS,
        }
    }
}

fn allowed(set: &Option<BTreeSet<String>>, value: Option<&str>) -> bool {
    match (set, value) {
        (Some(set), Some(value)) => set.contains(value),
        _ => true,
    }
}

impl Pruning {
    /// True when nothing can be pruned.
    pub fn is_unbounded(&self) -> bool {
        self.start_ms.is_none()
            && self.end_ms.is_none()
            && self.accounts.is_none()
            && self.regions.is_none()
            && self.years.is_none()
            && self.months.is_none()
            && self.days.is_none()
    }

    /// Whether the path columns a location fixes are all allowed.
    fn path_columns_allowed(&self, partition: &Partition) -> bool {
        allowed(&self.accounts, partition.account.as_deref())
            && allowed(&self.regions, partition.region.as_deref())
            && allowed(&self.years, partition.year.as_deref())
            && allowed(&self.months, partition.month.as_deref())
            && allowed(&self.days, partition.day.as_deref())
    }

    /// Whether files delivered within `[from_ms, to_ms)` can hold needed events.
    fn deliveries_needed(&self, from_ms: i64, to_ms: i64) -> bool {
        // Events precede their delivery: deliveries before the start hold only earlier events.
        let after_start = self.start_ms.is_none_or(|start| to_ms > start);
        // Deliveries later than end + slack hold events past the end.
        let before_end = self
            .end_ms
            .is_none_or(|end| from_ms < end.saturating_add(self.delivery_slack_ms));
        after_start && before_end
    }

    /// Whether a file at this location can hold needed records. `delivered_ms` is the time in
    /// its name, when it has one; files outside the S3 layout are always kept.
    pub fn keeps_file(&self, partition: &Partition, delivered_ms: Option<i64>) -> bool {
        if !self.path_columns_allowed(partition) {
            return false;
        }
        if let Some(day) = partition_day_ms(partition)
            && !self.deliveries_needed(day, day + DAY_MS)
        {
            return false;
        }
        // The name has the delivery time to the minute; the delivery itself is within it.
        delivered_ms.is_none_or(|at| self.deliveries_needed(at, at + MINUTE_MS))
    }

    /// Whether a folder whose path gives this (possibly partial) partition can hold needed files:
    /// lets a walk or a listing skip whole accounts, regions, months and days.
    pub fn keeps_folder(&self, partition: &Partition) -> bool {
        if !self.path_columns_allowed(partition) {
            return false;
        }
        match folder_span_ms(partition) {
            Some((from, to)) => self.deliveries_needed(from, to),
            None => true,
        }
    }

    /// The delivery days (as `YYYY/MM/DD`) a listing must visit, when the window or the
    /// `year`/`month`/`day` columns name them; `None` when they leave the days open.
    pub fn delivery_days(&self) -> Option<Vec<String>> {
        if let (Some(start), Some(end)) = (self.start_ms, self.end_ms) {
            let first = start.div_euclid(DAY_MS);
            let last = (end.saturating_add(self.delivery_slack_ms) - 1).div_euclid(DAY_MS);
            return Some(
                (first..=last.max(first - 1))
                    .map(day_folder)
                    .filter(|day| self.day_folder_allowed(day))
                    .collect(),
            );
        }
        let (years, months, days) = (
            self.years.as_ref()?,
            self.months.as_ref()?,
            self.days.as_ref()?,
        );
        let mut out = Vec::new();
        for y in years {
            for m in months {
                for d in days {
                    out.push(format!("{y}/{m}/{d}"));
                }
            }
        }
        Some(out)
    }

    fn day_folder_allowed(&self, day: &str) -> bool {
        let mut parts = day.split('/');
        allowed(&self.years, parts.next())
            && allowed(&self.months, parts.next())
            && allowed(&self.days, parts.next())
    }
}

fn parse_num(value: &Option<String>) -> Option<i64> {
    value.as_deref()?.parse().ok()
}

fn partition_day_ms(p: &Partition) -> Option<i64> {
    let (y, m, d) = (
        parse_num(&p.year)?,
        parse_num(&p.month)?,
        parse_num(&p.day)?,
    );
    Some(days_from_civil(y, m, d) * DAY_MS)
}

/// The delivery times a year, month or day folder covers.
fn folder_span_ms(p: &Partition) -> Option<(i64, i64)> {
    let y = parse_num(&p.year)?;
    let Some(m) = parse_num(&p.month) else {
        return Some((
            days_from_civil(y, 1, 1) * DAY_MS,
            days_from_civil(y + 1, 1, 1) * DAY_MS,
        ));
    };
    let Some(d) = parse_num(&p.day) else {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        return Some((
            days_from_civil(y, m, 1) * DAY_MS,
            days_from_civil(ny, nm, 1) * DAY_MS,
        ));
    };
    let day = days_from_civil(y, m, d) * DAY_MS;
    Some((day, day + DAY_MS))
}

/// `YYYY/MM/DD` of a day number since the epoch (Howard Hinnant's algorithm).
fn day_folder(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}/{m:02}/{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::delivery_time_from_name;

    fn ms(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * DAY_MS + h * 3_600_000 + mi * MINUTE_MS
    }

    fn window() -> Pruning {
        Pruning {
            start_ms: Some(ms(2019, 10, 29, 6, 40)),
            end_ms: Some(ms(2019, 10, 29, 6, 55)),
            ..Pruning::default()
        }
    }

    fn day(y: &str, m: &str, d: &str) -> Partition {
        Partition {
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            year: Some(y.into()),
            month: Some(m.into()),
            day: Some(d.into()),
        }
    }

    #[test]
    fn keeps_files_delivered_from_the_start_to_the_end_plus_slack() {
        let p = window();
        let part = day("2019", "10", "29");
        let at = |name: &str| delivery_time_from_name(name);
        assert!(!p.keeps_file(&part, at("a_CloudTrail_r_20191029T0638Z_x.json.gz")));
        assert!(p.keeps_file(&part, at("a_CloudTrail_r_20191029T0640Z_x.json.gz")));
        assert!(p.keeps_file(&part, at("a_CloudTrail_r_20191029T0701Z_x.json.gz")));
        assert!(p.keeps_file(&part, at("a_CloudTrail_r_20191029T0754Z_x.json.gz")));
        assert!(!p.keeps_file(&part, at("a_CloudTrail_r_20191029T0755Z_x.json.gz")));
        assert!(!p.keeps_file(&day("2019", "10", "28"), None));
        assert!(
            p.keeps_file(&Partition::default(), None),
            "outside the layout: kept"
        );
    }

    #[test]
    fn the_slack_reaches_into_the_next_day() {
        let p = Pruning {
            start_ms: Some(ms(2019, 10, 29, 23, 30)),
            end_ms: Some(ms(2019, 10, 29, 23, 45)),
            ..Pruning::default()
        };
        assert_eq!(p.delivery_days().unwrap(), ["2019/10/29", "2019/10/30"]);
        assert!(p.keeps_folder(&day("2019", "10", "30")));
        assert!(!p.keeps_folder(&day("2019", "10", "31")));
        let month = Partition {
            day: None,
            ..day("2019", "10", "1")
        };
        assert!(p.keeps_folder(&month));
        let other_year = Partition {
            month: None,
            day: None,
            ..day("2018", "1", "1")
        };
        assert!(!p.keeps_folder(&other_year));
        assert_eq!(window().delivery_days().unwrap(), ["2019/10/29"]);
    }

    #[test]
    fn accounts_and_regions_restrict_folders() {
        let p = Pruning {
            regions: Some(["eu-west-1".to_string()].into()),
            ..Pruning::default()
        };
        assert!(!p.keeps_folder(&day("2019", "10", "29")));
        assert!(p.keeps_folder(&Partition {
            region: Some("eu-west-1".into()),
            ..day("2019", "10", "29")
        }));
        assert!(p.keeps_folder(&Partition::default()));
        assert!(Pruning::default().is_unbounded());
        let one_day = Pruning {
            years: Some(["2019".to_string()].into()),
            months: Some(["10".to_string()].into()),
            days: Some(["29".to_string(), "30".to_string()].into()),
            ..Pruning::default()
        };
        assert_eq!(
            one_day.delivery_days().unwrap(),
            ["2019/10/29", "2019/10/30"]
        );
        assert!(!one_day.keeps_folder(&day("2019", "10", "28")));
        assert!(one_day.keeps_file(&day("2019", "10", "30"), None));
        assert_eq!(day_folder(days_from_civil(2024, 2, 29)), "2024/02/29");
    }
}
