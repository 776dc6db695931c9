//! Athena's (Trino's) date-time functions over `timestamp(3) with time zone`, here
//! `Timestamp(Millisecond, "UTC")`: parsing ISO 8601, arithmetic by unit, and formatting.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Timelike, Utc};

const MS_PER_SECOND: i64 = 1_000;

pub use ctq_ingest::time::parse_iso8601_millis;

fn to_datetime(millis: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(millis).single()
}

/// Renders the way Athena prints a `timestamp with time zone`: `2019-10-29 06:52:45.000 UTC`.
pub fn athena_timestamp_text(millis: i64) -> String {
    match to_datetime(millis) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        None => millis.to_string(),
    }
}

/// `to_iso8601`: `2019-10-29T06:52:45.000Z`.
pub fn iso8601_text(millis: i64) -> String {
    match to_datetime(millis) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => millis.to_string(),
    }
}

/// A unit of `date_add`, `date_diff` and `date_trunc`, as Trino spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl TimeUnit {
    pub fn parse(unit: &str) -> Option<Self> {
        Some(
            match unit.trim().to_ascii_lowercase().trim_end_matches('s') {
                "millisecond" => Self::Millisecond,
                "second" => Self::Second,
                "minute" => Self::Minute,
                "hour" => Self::Hour,
                "day" => Self::Day,
                "week" => Self::Week,
                "month" => Self::Month,
                "quarter" => Self::Quarter,
                "year" => Self::Year,
                _ => return None,
            },
        )
    }

    fn fixed_millis(self) -> Option<i64> {
        Some(match self {
            Self::Millisecond => 1,
            Self::Second => MS_PER_SECOND,
            Self::Minute => 60 * MS_PER_SECOND,
            Self::Hour => 3_600 * MS_PER_SECOND,
            Self::Day => 86_400 * MS_PER_SECOND,
            Self::Week => 7 * 86_400 * MS_PER_SECOND,
            Self::Month | Self::Quarter | Self::Year => return None,
        })
    }

    fn months(self) -> i64 {
        match self {
            Self::Month => 1,
            Self::Quarter => 3,
            Self::Year => 12,
            _ => 0,
        }
    }
}

/// `date_add(unit, amount, ts)`: calendar units clamp to the month's last day, as in Trino.
pub fn add_units(unit: TimeUnit, amount: i64, millis: i64) -> Option<i64> {
    if let Some(step) = unit.fixed_millis() {
        return millis.checked_add(amount.checked_mul(step)?);
    }
    let t = to_datetime(millis)?;
    let months = amount.checked_mul(unit.months())?;
    let shifted = if months >= 0 {
        t.checked_add_months(Months::new(u32::try_from(months).ok()?))?
    } else {
        t.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
    };
    Some(shifted.timestamp_millis())
}

/// `date_diff(unit, a, b)`: whole units from `a` to `b`, truncated toward zero.
pub fn diff_units(unit: TimeUnit, from: i64, to: i64) -> Option<i64> {
    if let Some(step) = unit.fixed_millis() {
        return Some((to - from) / step);
    }
    let (a, b) = (to_datetime(from)?, to_datetime(to)?);
    let month_index = |t: &DateTime<Utc>| i64::from(t.year()) * 12 + i64::from(t.month0());
    let mut months = month_index(&b) - month_index(&a);
    // A partial month does not count: compare the rest of the timestamp within the month.
    let rest = |t: &DateTime<Utc>| {
        (
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis(),
        )
    };
    if months > 0 && rest(&b) < rest(&a) {
        months -= 1;
    } else if months < 0 && rest(&b) > rest(&a) {
        months += 1;
    }
    Some(months / unit.months())
}

/// `date_trunc(unit, ts)`.
pub fn truncate(unit: TimeUnit, millis: i64) -> Option<i64> {
    let t = to_datetime(millis)?;
    let date = t.date_naive();
    let start_of = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|n| n.and_utc().timestamp_millis())
    };
    match unit {
        TimeUnit::Week => {
            start_of(date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday())))
        }
        TimeUnit::Month => start_of(date.with_day(1)?),
        TimeUnit::Quarter => start_of(NaiveDate::from_ymd_opt(
            date.year(),
            (date.month0() / 3) * 3 + 1,
            1,
        )?),
        TimeUnit::Year => start_of(NaiveDate::from_ymd_opt(date.year(), 1, 1)?),
        fixed => {
            let step = fixed.fixed_millis()?;
            Some(millis.div_euclid(step) * step)
        }
    }
}

/// `date_format(ts, format)` with MySQL specifiers, as Athena documents them.
pub fn mysql_format(millis: i64, format: &str) -> Option<String> {
    let t = to_datetime(millis)?;
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let piece = match spec {
            'Y' => format!("{:04}", t.year()),
            'y' => format!("{:02}", t.year() % 100),
            'm' => format!("{:02}", t.month()),
            'c' => t.month().to_string(),
            'd' => format!("{:02}", t.day()),
            'e' => t.day().to_string(),
            'H' => format!("{:02}", t.hour()),
            'k' => t.hour().to_string(),
            'h' | 'I' => format!("{:02}", t.hour12().1),
            'l' => t.hour12().1.to_string(),
            'i' => format!("{:02}", t.minute()),
            's' | 'S' => format!("{:02}", t.second()),
            'f' => format!("{:06}", t.timestamp_subsec_micros()),
            'p' => (if t.hour12().0 { "PM" } else { "AM" }).to_string(),
            'T' => t.format("%H:%M:%S").to_string(),
            'r' => t.format("%I:%M:%S %p").to_string(),
            'j' => format!("{:03}", t.ordinal()),
            'a' => t.format("%a").to_string(),
            'W' => t.format("%A").to_string(),
            'b' => t.format("%b").to_string(),
            'M' => t.format("%B").to_string(),
            'v' => format!("{:02}", t.iso_week().week()),
            'x' => format!("{:04}", t.iso_week().year()),
            '%' => "%".to_string(),
            other => other.to_string(),
        };
        out.push_str(&piece);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        parse_iso8601_millis(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn parses_the_forms_athena_accepts() {
        let base = ms("2019-10-29T06:40:00Z");
        assert_eq!(athena_timestamp_text(base), "2019-10-29 06:40:00.000 UTC");
        assert_eq!(ms("2019-10-29T08:40:00+02:00"), base);
        assert_eq!(ms("2019-10-29T08:40:00+0200"), base);
        assert_eq!(ms("2019-10-29T01:40:00-05"), base);
        assert_eq!(ms("2019-10-29T06:40"), base);
        assert_eq!(ms("2019-10-29T06:40:00.123456Z"), base + 123);
        assert_eq!(ms("2019-10-29 06:40:00"), base);
        assert_eq!(ms("2019-10-29"), base - (6 * 3600 + 40 * 60) * 1000);
        for bad in [
            "",
            "yesterday",
            "2019-13-01",
            "2019-10-29T25:00:00Z",
            "2019-10-29T06:40:00Zjunk",
            "2019-10-29T06:40:00+2",
        ] {
            assert_eq!(parse_iso8601_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn adds_and_diffs_by_unit() {
        let t = ms("2019-01-31T12:00:00Z");
        assert_eq!(
            iso8601_text(add_units(TimeUnit::Month, 1, t).unwrap()),
            "2019-02-28T12:00:00.000Z"
        );
        assert_eq!(
            iso8601_text(add_units(TimeUnit::Minute, -15, t).unwrap()),
            "2019-01-31T11:45:00.000Z"
        );
        assert_eq!(diff_units(TimeUnit::Minute, t, t + 899_999), Some(14));
        assert_eq!(
            diff_units(
                TimeUnit::Month,
                ms("2019-01-31T00:00:00Z"),
                ms("2019-02-28T00:00:00Z")
            ),
            Some(0)
        );
        assert_eq!(
            diff_units(
                TimeUnit::Year,
                ms("2018-06-01T00:00:00Z"),
                ms("2020-06-01T00:00:00Z")
            ),
            Some(2)
        );
        assert_eq!(
            diff_units(
                TimeUnit::Day,
                ms("2019-10-29T00:00:00Z"),
                ms("2019-10-27T12:00:00Z")
            ),
            Some(-1)
        );
        assert_eq!(TimeUnit::parse("Hours"), Some(TimeUnit::Hour));
    }

    #[test]
    fn truncates_and_formats() {
        let t = ms("2019-10-29T06:52:45.250Z");
        assert_eq!(
            iso8601_text(truncate(TimeUnit::Hour, t).unwrap()),
            "2019-10-29T06:00:00.000Z"
        );
        assert_eq!(
            iso8601_text(truncate(TimeUnit::Week, t).unwrap()),
            "2019-10-28T00:00:00.000Z"
        );
        assert_eq!(
            iso8601_text(truncate(TimeUnit::Quarter, t).unwrap()),
            "2019-10-01T00:00:00.000Z"
        );
        assert_eq!(
            mysql_format(t, "%Y-%m-%d %H:%i:%s").unwrap(),
            "2019-10-29 06:52:45"
        );
        assert_eq!(
            mysql_format(t, "%b %e, %l%p %% %f").unwrap(),
            "Oct 29, 6AM % 250000"
        );
    }
}
