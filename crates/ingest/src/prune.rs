//! Deciding from a file's location alone whether it can hold records a query needs.
//!
//! CloudTrail's S3 layout says which account and region a file is for and on which day it was
//! delivered, and its name carries the delivery time to the minute. A file holds events from
//! before its delivery, usually within 15 minutes but without a guarantee, so a time window keeps
//! every file delivered from the window's start up to the window's end plus a slack. The same
//! decisions serve local folders (during the walk) and S3 listings (as prefixes and keys).
//!
//! The `timestamp` and `date_partition` columns hold the delivery day as `YYYY/MM/DD` text, and
//! queries compare them as text (`date_partition >= '2021/07/01'`), so their constraints are kept
//! as text and decided as text: a file is needed iff its day's text satisfies them, and a year
//! or month folder iff some day text inside it could.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::path::Partition;
use crate::time::{day_folder, epoch_day};

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
    /// Only delivery days whose `YYYY/MM/DD` text (the `timestamp` and `date_partition` columns)
    /// is one of these, when set.
    pub dates: Option<BTreeSet<String>>,
    /// Only delivery days whose `YYYY/MM/DD` text lies within these bounds, compared as text.
    pub date_from: Bound<String>,
    pub date_to: Bound<String>,
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
            dates: None,
            date_from: Bound::Unbounded,
            date_to: Bound::Unbounded,
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
            && self.dates.is_none()
            && self.date_from == Bound::Unbounded
            && self.date_to == Bound::Unbounded
    }

    /// Narrows the delivery days to those whose `YYYY/MM/DD` text is one of `values`
    /// (`timestamp = '…'`, `date_partition IN (…)`).
    pub fn restrict_dates(&mut self, values: impl IntoIterator<Item = String>) {
        let values: BTreeSet<String> = values.into_iter().collect();
        self.dates = Some(match self.dates.take() {
            Some(existing) => existing.intersection(&values).cloned().collect(),
            None => values,
        });
    }

    /// Narrows the delivery days to those whose text is above `bound` (`>`: excluded, `>=`:
    /// included); the tighter of two lower bounds wins.
    pub fn raise_date_from(&mut self, bound: Bound<String>) {
        let tighter = match (&self.date_from, &bound) {
            (_, Bound::Unbounded) => false,
            (Bound::Unbounded, _) => true,
            (Bound::Included(old) | Bound::Excluded(old), Bound::Included(new)) => new > old,
            (Bound::Included(old), Bound::Excluded(new)) => new >= old,
            (Bound::Excluded(old), Bound::Excluded(new)) => new > old,
        };
        if tighter {
            self.date_from = bound;
        }
    }

    /// Narrows the delivery days to those whose text is below `bound` (`<`: excluded, `<=`:
    /// included); the tighter of two upper bounds wins.
    pub fn lower_date_to(&mut self, bound: Bound<String>) {
        let tighter = match (&self.date_to, &bound) {
            (_, Bound::Unbounded) => false,
            (Bound::Unbounded, _) => true,
            (Bound::Included(old) | Bound::Excluded(old), Bound::Included(new)) => new < old,
            (Bound::Included(old), Bound::Excluded(new)) => new <= old,
            (Bound::Excluded(old), Bound::Excluded(new)) => new < old,
        };
        if tighter {
            self.date_to = bound;
        }
    }

    /// Whether some delivery day a location can hold has a text the date constraints accept.
    /// Judged only once the path fixes a year: above that (and outside the layout) the files'
    /// days are unknown, and a file whose day is not in its path has NULL for the date columns,
    /// which no comparison accepts anyway.
    fn dates_allowed(&self, partition: &Partition) -> bool {
        if partition.year.is_none() {
            return true;
        }
        if self.dates.is_none()
            && self.date_from == Bound::Unbounded
            && self.date_to == Bound::Unbounded
        {
            return true;
        }
        let pattern = DatePattern::of(partition);
        match &self.dates {
            Some(values) => values
                .iter()
                .any(|v| pattern.matches(v.as_bytes()) && self.date_in_bounds(v.as_bytes())),
            // The least text of the location that passes the lower bound passes the upper
            // one, or no text of the location does.
            None => pattern
                .least_from(&self.date_from)
                .is_some_and(|least| below(&self.date_to, &least)),
        }
    }

    fn date_in_bounds(&self, text: &[u8]) -> bool {
        above(&self.date_from, text) && below(&self.date_to, text)
    }

    /// Whether the path columns a location fixes are all allowed.
    fn path_columns_allowed(&self, partition: &Partition) -> bool {
        allowed(&self.accounts, partition.account.as_deref())
            && allowed(&self.regions, partition.region.as_deref())
            && allowed(&self.years, partition.year.as_deref())
            && allowed(&self.months, partition.month.as_deref())
            && allowed(&self.days, partition.day.as_deref())
            && self.dates_allowed(partition)
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

    /// The delivery days (as `YYYY/MM/DD`) a listing must visit, when the window, the
    /// `year`/`month`/`day` columns or the `timestamp`/`date_partition` text name them; `None`
    /// when they leave the days open (or name too many of them to list one by one).
    pub fn delivery_days(&self) -> Option<Vec<String>> {
        // Each source names a superset of the needed days; the shortest is filtered by every
        // constraint, which leaves exactly the needed days among it. A name the layout cannot
        // have (`2023/3/28`) is no folder to list.
        let candidates = [
            self.window_days(),
            self.column_days(),
            self.dates.as_ref().map(|d| d.iter().cloned().collect()),
            self.date_range_days(),
        ]
        .into_iter()
        .flatten()
        .min_by_key(Vec::len)?;
        Some(
            candidates
                .into_iter()
                .filter(|day| {
                    DatePattern::any_day().matches(day.as_bytes())
                        && self.keeps_folder(&day_partition(day))
                })
                .collect(),
        )
    }

    fn window_days(&self) -> Option<Vec<String>> {
        let (start, end) = (self.start_ms?, self.end_ms?);
        let first = start.div_euclid(DAY_MS);
        let last = (end.saturating_add(self.delivery_slack_ms) - 1).div_euclid(DAY_MS);
        (first..=last.max(first - 1)).map(day_folder).collect()
    }

    fn column_days(&self) -> Option<Vec<String>> {
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

    /// The calendar days whose text lies within both date bounds, when there are at most
    /// [`MAX_LISTED_DAYS`]: beyond that, listing day by day costs more requests than listing
    /// the region, most of them for days a trail does not have.
    fn date_range_days(&self) -> Option<Vec<String>> {
        if self.date_to == Bound::Unbounded {
            return None;
        }
        let least = DatePattern::any_day().least_from(&self.date_from)?;
        let year: i64 = std::str::from_utf8(&least[..4]).ok()?.parse().ok()?;
        let mut out = Vec::new();
        // From the first of the least text's year: its month or day may be no calendar date
        // (`2023/02/30`), and the days before it fail the lower bound.
        for day in epoch_day(year, 1, 1)?.. {
            let Some(text) = day_folder(day) else {
                break;
            };
            if !below(&self.date_to, text.as_bytes()) || text.len() != 10 {
                break;
            }
            if above(&self.date_from, text.as_bytes()) {
                if out.len() == MAX_LISTED_DAYS {
                    return None;
                }
                out.push(text);
            }
        }
        Some(out)
    }
}

/// The most delivery days a listing names one by one for a range of `timestamp` text.
pub const MAX_LISTED_DAYS: usize = 400;

/// Whether `text` satisfies a lower bound.
fn above(bound: &Bound<String>, text: &[u8]) -> bool {
    match bound {
        Bound::Unbounded => true,
        Bound::Included(b) => text >= b.as_bytes(),
        Bound::Excluded(b) => text > b.as_bytes(),
    }
}

/// Whether `text` satisfies an upper bound.
fn below(bound: &Bound<String>, text: &[u8]) -> bool {
    match bound {
        Bound::Unbounded => true,
        Bound::Included(b) => text <= b.as_bytes(),
        Bound::Excluded(b) => text < b.as_bytes(),
    }
}

/// The `YYYY/MM/DD` texts a location can hold: the parts its path fixes, digits elsewhere.
/// Each position of the text is a range of bytes.
struct DatePattern(Vec<(u8, u8)>);

impl DatePattern {
    fn any_day() -> Self {
        Self::of(&Partition::default())
    }

    fn of(partition: &Partition) -> Self {
        let mut positions = Vec::with_capacity(10);
        let parts = [
            (&partition.year, 4),
            (&partition.month, 2),
            (&partition.day, 2),
        ];
        for (i, (part, digits)) in parts.into_iter().enumerate() {
            if i > 0 {
                positions.push((b'/', b'/'));
            }
            match part {
                Some(fixed) => positions.extend(fixed.bytes().map(|b| (b, b))),
                None => positions.extend(std::iter::repeat_n((b'0', b'9'), digits)),
            }
        }
        Self(positions)
    }

    fn matches(&self, text: &[u8]) -> bool {
        text.len() == self.0.len()
            && text
                .iter()
                .zip(&self.0)
                .all(|(b, (lo, hi))| (lo..=hi).contains(&b))
    }

    /// The least text of the pattern that satisfies the lower bound, if any.
    fn least_from(&self, bound: &Bound<String>) -> Option<Vec<u8>> {
        let least_rest = |from: usize| self.0[from..].iter().map(|(lo, _)| *lo);
        let (bound, strict) = match bound {
            Bound::Unbounded => return Some(least_rest(0).collect()),
            Bound::Included(b) => (b.as_bytes(), false),
            Bound::Excluded(b) => (b.as_bytes(), true),
        };
        let n = self.0.len();
        // How many leading bytes of the bound the pattern can copy.
        let copied = bound
            .iter()
            .zip(&self.0)
            .take_while(|(b, (lo, hi))| (lo..=hi).contains(b))
            .count();
        // The bound itself, when it is a text of the pattern.
        if copied == n && bound.len() == n {
            if !strict {
                return Some(bound.to_vec());
            }
        } else if copied == bound.len() && bound.len() < n {
            // The bound is a prefix: the least text extending it is greater.
            let mut text = bound.to_vec();
            text.extend(least_rest(bound.len()));
            return Some(text);
        }
        // Otherwise copy as much of the bound as possible and exceed it at the last position
        // that can: the longer the copied prefix, the smaller the text.
        for i in (0..=copied.min(n - 1)).rev() {
            let Some(&b) = bound.get(i) else { continue };
            let (lo, hi) = self.0[i];
            let next = lo.max(b.saturating_add(1));
            if b < u8::MAX && next <= hi {
                let mut text = bound[..i].to_vec();
                text.push(next);
                text.extend(least_rest(i + 1));
                return Some(text);
            }
        }
        None
    }
}

/// The partition of a `YYYY/MM/DD` day folder.
fn day_partition(day: &str) -> Partition {
    let mut parts = day.split('/').map(str::to_owned);
    Partition {
        year: parts.next(),
        month: parts.next(),
        day: parts.next(),
        ..Partition::default()
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
    Some(epoch_day(y, m, d)? * DAY_MS)
}

/// The delivery times a year, month or day folder covers.
fn folder_span_ms(p: &Partition) -> Option<(i64, i64)> {
    let y = parse_num(&p.year)?;
    let Some(m) = parse_num(&p.month) else {
        return Some((
            epoch_day(y, 1, 1)? * DAY_MS,
            epoch_day(y + 1, 1, 1)? * DAY_MS,
        ));
    };
    let Some(d) = parse_num(&p.day) else {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        return Some((epoch_day(y, m, 1)? * DAY_MS, epoch_day(ny, nm, 1)? * DAY_MS));
    };
    let day = epoch_day(y, m, d)? * DAY_MS;
    Some((day, day + DAY_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::delivery_time_from_name;

    fn ms(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> i64 {
        epoch_day(y, mo, d).unwrap() * DAY_MS + h * 3_600_000 + mi * MINUTE_MS
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
        assert_eq!(
            day_folder(epoch_day(2024, 2, 29).unwrap()).as_deref(),
            Some("2024/02/29")
        );
    }

    fn dates(values: &[&str]) -> Pruning {
        let mut p = Pruning::default();
        p.restrict_dates(values.iter().map(std::string::ToString::to_string));
        p
    }

    fn range(from: Bound<&str>, to: Bound<&str>) -> Pruning {
        let mut p = Pruning::default();
        p.raise_date_from(from.map(str::to_owned));
        p.lower_date_to(to.map(str::to_owned));
        p
    }

    fn month(y: &str, m: &str) -> Partition {
        Partition {
            day: None,
            ..day(y, m, "01")
        }
    }

    fn year(y: &str) -> Partition {
        Partition {
            month: None,
            day: None,
            ..day(y, "01", "01")
        }
    }

    #[test]
    fn an_equal_date_text_keeps_that_day_only() {
        let p = dates(&["2023/03/28"]);
        assert!(!p.is_unbounded());
        assert!(p.keeps_file(&day("2023", "03", "28"), None));
        assert!(!p.keeps_file(&day("2023", "03", "27"), None));
        assert!(p.keeps_folder(&month("2023", "03")));
        assert!(!p.keeps_folder(&month("2023", "04")));
        assert!(p.keeps_folder(&year("2023")));
        assert!(!p.keeps_folder(&year("2022")));
        assert!(
            p.keeps_file(&Partition::default(), None),
            "outside the layout: kept"
        );
        let region = Partition {
            year: None,
            month: None,
            day: None,
            ..day("2023", "03", "28")
        };
        assert!(p.keeps_folder(&region));
        assert_eq!(p.delivery_days().unwrap(), ["2023/03/28"]);
        // The path's text is zero-padded: an unpadded constant matches no file.
        let unpadded = dates(&["2023/3/28"]);
        assert!(!unpadded.keeps_file(&day("2023", "03", "28"), None));
        assert!(!unpadded.keeps_folder(&year("2023")));
        assert_eq!(unpadded.delivery_days().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_list_of_date_texts_keeps_those_days_and_intersects() {
        let mut p = dates(&["2023/03/28", "2023/04/01", "2024/01/31"]);
        assert!(p.keeps_folder(&month("2023", "04")));
        assert!(!p.keeps_folder(&month("2023", "05")));
        assert!(p.keeps_file(&day("2024", "01", "31"), None));
        assert_eq!(
            p.delivery_days().unwrap(),
            ["2023/03/28", "2023/04/01", "2024/01/31"]
        );
        p.restrict_dates(["2023/04/01".to_string(), "2025/01/01".to_string()]);
        assert_eq!(p.delivery_days().unwrap(), ["2023/04/01"]);
        assert!(!p.keeps_file(&day("2023", "03", "28"), None));
        // With a range too: both hold.
        p.raise_date_from(Bound::Excluded("2023/04/01".into()));
        assert!(!p.keeps_file(&day("2023", "04", "01"), None));
        assert_eq!(p.delivery_days().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_closed_date_range_keeps_the_days_within_it_as_text() {
        let p = range(Bound::Included("2021/07/01"), Bound::Included("2021/07/31"));
        assert!(p.keeps_file(&day("2021", "07", "01"), None));
        assert!(p.keeps_file(&day("2021", "07", "31"), None));
        assert!(!p.keeps_file(&day("2021", "06", "30"), None));
        assert!(!p.keeps_file(&day("2021", "08", "01"), None));
        assert!(p.keeps_folder(&month("2021", "07")));
        assert!(!p.keeps_folder(&month("2021", "06")));
        assert!(!p.keeps_folder(&month("2021", "08")));
        assert!(p.keeps_folder(&year("2021")));
        assert!(!p.keeps_folder(&year("2020")));
        let days = p.delivery_days().unwrap();
        assert_eq!(days.len(), 31);
        assert_eq!(days[0], "2021/07/01");
        assert_eq!(days[30], "2021/07/31");
        // Exclusive ends; a month boundary and a leap day.
        let p = range(Bound::Excluded("2024/02/28"), Bound::Excluded("2024/03/02"));
        assert_eq!(p.delivery_days().unwrap(), ["2024/02/29", "2024/03/01"]);
        assert!(!p.keeps_file(&day("2024", "02", "28"), None));
        assert!(!p.keeps_file(&day("2024", "03", "02"), None));
        assert!(p.keeps_folder(&month("2024", "02")));
        assert!(p.keeps_folder(&month("2024", "03")));
        // An empty range keeps nothing in the layout.
        let empty = range(Bound::Included("2021/08/01"), Bound::Included("2021/07/01"));
        assert_eq!(empty.delivery_days().unwrap(), Vec::<String>::new());
        assert!(!empty.keeps_folder(&year("2021")));
        assert!(empty.keeps_folder(&Partition::default()));
    }

    #[test]
    fn date_bounds_compare_as_text_not_as_dates() {
        // `'2023'` sorts before every `2023/…` text, and `'2023/1'` before `2023/10/…` but after
        // `2023/09/…`.
        let p = range(Bound::Excluded("2023"), Bound::Unbounded);
        assert!(p.keeps_folder(&year("2023")));
        assert!(!p.keeps_folder(&year("2022")));
        assert!(p.keeps_file(&day("2023", "01", "01"), None));
        let p = range(Bound::Included("2023/1"), Bound::Included("2023/10/05"));
        assert!(!p.keeps_folder(&month("2023", "09")));
        assert!(p.keeps_folder(&month("2023", "10")));
        assert!(p.keeps_file(&day("2023", "10", "05"), None));
        assert!(!p.keeps_file(&day("2023", "10", "06"), None));
        assert_eq!(p.delivery_days().unwrap().len(), 5);
        // A folder's days are any two digits, as the layout reads them, not calendar days: a
        // bound at a month's last day keeps the month folder (`2023/03/32` could sort above it),
        // and its day folders decide.
        let p = range(Bound::Excluded("2023/03/31"), Bound::Unbounded);
        assert!(p.keeps_folder(&month("2023", "03")));
        assert!(!p.keeps_folder(&day("2023", "03", "31")));
        assert!(p.keeps_folder(&month("2023", "04")));
        let p = range(Bound::Excluded("2023/03/99"), Bound::Unbounded);
        assert!(!p.keeps_folder(&month("2023", "03")), "no day text above");
        assert!(p.keeps_folder(&month("2023", "04")));
        let p = range(Bound::Included("2023/03/99"), Bound::Unbounded);
        assert!(p.keeps_folder(&month("2023", "03")));
        // A bound that no digit can reach: `2023/03/:` sorts after every `2023/03/dd`.
        let p = range(Bound::Included("2023/03/:"), Bound::Unbounded);
        assert!(!p.keeps_folder(&month("2023", "03")));
        assert!(p.keeps_folder(&month("2023", "04")));
        let p = range(Bound::Unbounded, Bound::Excluded("2023/03/"));
        assert!(!p.keeps_folder(&month("2023", "03")));
        assert!(p.keeps_folder(&month("2023", "02")));
    }

    #[test]
    fn open_or_long_date_ranges_name_no_days() {
        let from = range(Bound::Included("2021/07/01"), Bound::Unbounded);
        assert_eq!(from.delivery_days(), None);
        assert!(from.keeps_folder(&year("2030")));
        assert!(!from.keeps_folder(&month("2021", "06")));
        let to = range(Bound::Unbounded, Bound::Excluded("2021/07/01"));
        assert_eq!(to.delivery_days(), None);
        assert!(to.keeps_folder(&year("1999")));
        assert!(
            to.keeps_folder(&month("2021", "07")),
            "2021/07/00 sorts before"
        );
        assert!(!to.keeps_folder(&day("2021", "07", "01")));
        let to = range(Bound::Unbounded, Bound::Included("2021/06/99"));
        assert!(!to.keeps_folder(&month("2021", "07")));
        assert!(to.keeps_folder(&month("2021", "06")));
        let long = range(Bound::Included("2000/01/01"), Bound::Included("2030/01/01"));
        assert_eq!(long.delivery_days(), None);
        assert!(long.keeps_folder(&year("2015")));
        // A long range with a short window: the window's days, filtered by the range.
        let both = Pruning {
            start_ms: Some(ms(2019, 10, 29, 23, 30)),
            end_ms: Some(ms(2019, 10, 29, 23, 45)),
            ..range(Bound::Included("2000/01/01"), Bound::Excluded("2019/10/30"))
        };
        assert_eq!(both.delivery_days().unwrap(), ["2019/10/29"]);
    }

    #[test]
    fn the_tighter_bound_wins() {
        let mut p = range(Bound::Included("2021/07/01"), Bound::Included("2021/07/31"));
        p.raise_date_from(Bound::Excluded("2021/07/01".into()));
        p.raise_date_from(Bound::Included("2021/06/01".into()));
        assert_eq!(p.date_from, Bound::Excluded("2021/07/01".into()));
        p.lower_date_to(Bound::Excluded("2021/07/31".into()));
        p.lower_date_to(Bound::Included("2021/07/31".into()));
        p.lower_date_to(Bound::Unbounded);
        assert_eq!(p.date_to, Bound::Excluded("2021/07/31".into()));
        assert_eq!(p.delivery_days().unwrap().len(), 29);
    }

    /// Against every text a month folder can hold: kept iff one of them passes the bounds.
    #[test]
    fn a_month_folder_is_kept_iff_some_day_text_in_it_passes() {
        let texts: Vec<String> = (0..100).map(|d| format!("2023/03/{d:02}")).collect();
        let bounds = [
            "",
            "2",
            "2023",
            "2023/",
            "2023/03",
            "2023/03/",
            "2023/03/0",
            "2023/03/00",
            "2023/03/05",
            "2023/03/5",
            "2023/03/31",
            "2023/03/99",
            "2023/03/99/",
            "2023/03/:",
            "2023/03/00x",
            "2023/02/99",
            "2023/04",
            "2023/04/01",
            "2023/0",
            "2023/1",
            "2022/12/31",
            "2024",
            "~",
        ];
        let kinds = |b: &str| {
            [
                Bound::Unbounded,
                Bound::Included(b.to_string()),
                Bound::Excluded(b.to_string()),
            ]
        };
        for low in bounds {
            for high in bounds {
                for from in kinds(low) {
                    for to in kinds(high) {
                        let p = Pruning {
                            date_from: from.clone(),
                            date_to: to.clone(),
                            ..Pruning::default()
                        };
                        let expected = texts
                            .iter()
                            .any(|t| above(&from, t.as_bytes()) && below(&to, t.as_bytes()));
                        assert_eq!(
                            p.keeps_folder(&month("2023", "03")),
                            expected,
                            "{from:?} {to:?}"
                        );
                    }
                }
            }
        }
    }
}
