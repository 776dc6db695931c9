//! Trino's two languages for reading dates out of text: Joda-Time patterns (`parse_datetime`)
//! and MySQL specifiers (`date_parse`). Trino hands both to Joda-Time's parser; here both are
//! translated to one list of [`Item`]s and [`parse`] reads text the way that parser does:
//! numbers take as many digits as their field allows (so `M` reads `9` and `09`), literals and
//! names match in any case, fields the pattern lacks default to 1970-01-01 00:00:00, and the
//! whole text must be used.

use chrono::{Datelike, NaiveDate, NaiveTime};

/// A numeric field a pattern reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Year,
    WeekYear,
    Month,
    WeekOfWeekYear,
    DayOfYear,
    Day,
    /// 1 = Monday … 7 = Sunday, as Joda numbers them.
    DayOfWeek,
    /// 0–23.
    HourOfDay,
    /// 1–24 (`k`).
    ClockHourOfDay,
    /// 0–11 (`K`).
    HourOfHalfDay,
    /// 1–12 (`h`, `%h`, `%I`, `%l`).
    ClockHourOfHalfDay,
    Minute,
    Second,
}

/// One step of a translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Text that must be there, in any case.
    Literal(String),
    /// 1 to `max` digits.
    Number { field: Field, max: usize },
    /// Two digits placed in the century around `pivot` (`[pivot - 50, pivot + 49]`); when
    /// `lenient`, any other number of digits is the year itself.
    TwoDigitYear { pivot: i32, lenient: bool },
    /// Digits after the decimal point, up to `max`; kept to the millisecond.
    Fraction { max: usize },
    /// `January` or `Jan`, any case.
    MonthName,
    /// `Monday` or `Mon`, any case.
    WeekdayName,
    /// `AM` or `PM`.
    HalfDay,
    /// `Z`, `+hh:mm` or `+hhmm`.
    Offset,
}

/// Joda's year pivot for `yy`: thirty years before now, so `yy` covers the 50 years either side.
fn joda_pivot_year() -> i32 {
    chrono::Utc::now().year() - 30
}

enum Token {
    Letter(char, usize),
    Literal(String),
}

/// Splits a Joda pattern as Joda's `DateTimeFormat.parseToken` does: runs of one letter, and
/// literal text, in which `'…'` quotes letters, `''` is a quote, and a quote left open runs to
/// the end (so `'Z` is the literal `Z`).
fn joda_tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i] == c {
                i += 1;
            }
            tokens.push(Token::Letter(c, i - start));
            continue;
        }
        let mut text = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    text.push('\'');
                    i += 1;
                } else {
                    quoted = !quoted;
                }
            } else if !quoted && c.is_ascii_alphabetic() {
                break;
            } else {
                text.push(c);
            }
            i += 1;
        }
        if !text.is_empty() {
            tokens.push(Token::Literal(text));
        }
    }
    tokens
}

fn is_numeric(token: Option<&Token>) -> bool {
    match token {
        Some(Token::Letter('M', n)) => *n <= 2,
        Some(Token::Letter(c, _)) => "cCxyYdhHmsSeDFwWkK".contains(*c),
        _ => false,
    }
}

/// Translates a Joda-Time pattern (`yyyy-MM-dd''T''HH:mm:ss.SSSZ`). Letters Trino accepts that
/// ctq does not (`z`, `ZZZ` zone names, `G` era, `C` century) are an error naming them.
pub fn joda_items(pattern: &str) -> Result<Vec<Item>, String> {
    let tokens = joda_tokens(pattern);
    let mut items = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let (letter, len) = match token {
            Token::Literal(text) => {
                items.push(Item::Literal(text.clone()));
                continue;
            }
            Token::Letter(c, n) => (*c, *n),
        };
        let next_numeric = is_numeric(tokens.get(i + 1));
        let number = |field, default_max: usize| Item::Number {
            field,
            max: default_max.max(len),
        };
        items.push(match letter {
            'y' | 'Y' | 'x' if len == 2 => {
                if letter == 'x' {
                    return Err("two-digit week years (xx) are not supported".into());
                }
                Item::TwoDigitYear {
                    pivot: joda_pivot_year(),
                    lenient: !next_numeric,
                }
            }
            'y' | 'Y' | 'x' => Item::Number {
                field: if letter == 'x' {
                    Field::WeekYear
                } else {
                    Field::Year
                },
                // A year may run long unless digits of the next field follow directly.
                max: if next_numeric { len } else { 9 },
            },
            'M' if len >= 3 => Item::MonthName,
            'M' => number(Field::Month, 2),
            'w' => number(Field::WeekOfWeekYear, 2),
            'D' => number(Field::DayOfYear, 3),
            'd' => number(Field::Day, 2),
            'e' => number(Field::DayOfWeek, 1),
            'E' => Item::WeekdayName,
            'a' => Item::HalfDay,
            'H' => number(Field::HourOfDay, 2),
            'k' => number(Field::ClockHourOfDay, 2),
            'K' => number(Field::HourOfHalfDay, 2),
            'h' => number(Field::ClockHourOfHalfDay, 2),
            'm' => number(Field::Minute, 2),
            's' => number(Field::Second, 2),
            'S' => Item::Fraction { max: 9 },
            'Z' if len <= 2 => Item::Offset,
            'Z' | 'z' => {
                return Err(format!(
                    "time zone names ({}) are not supported; use Z for an offset",
                    letter.to_string().repeat(len)
                ));
            }
            other => {
                return Err(format!(
                    "pattern letter '{}' is not supported",
                    other.to_string().repeat(len)
                ));
            }
        });
    }
    Ok(items)
}

/// Translates a MySQL format as Trino's `date_parse` reads it: the specifiers Trino supports,
/// `%%` for a percent sign, and any other `%x` for the letter `x`. `%D %U %u %V %w %X` are
/// errors in Trino and here.
pub fn mysql_items(format: &str) -> Result<Vec<Item>, String> {
    use Field::{
        ClockHourOfHalfDay, Day, DayOfYear, HourOfDay, Minute, Month, Second, WeekOfWeekYear,
        WeekYear, Year,
    };
    let mut items = Vec::new();
    let n = |field, max| Item::Number { field, max };
    let lit = |s: &str| Item::Literal(s.to_string());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            items.push(Item::Literal(c.to_string()));
            continue;
        }
        // A trailing lone % reads nothing, as in Trino.
        let Some(spec) = chars.next() else { break };
        match spec {
            'a' | 'W' => items.push(Item::WeekdayName),
            'b' | 'M' => items.push(Item::MonthName),
            'c' | 'm' => items.push(n(Month, 2)),
            'd' | 'e' => items.push(n(Day, 2)),
            'f' => items.push(Item::Fraction { max: 9 }),
            'H' | 'k' => items.push(n(HourOfDay, 2)),
            'h' | 'I' | 'l' => items.push(n(ClockHourOfHalfDay, 2)),
            'i' => items.push(n(Minute, 2)),
            'j' => items.push(n(DayOfYear, 3)),
            'p' => items.push(Item::HalfDay),
            'r' => items.extend([
                n(ClockHourOfHalfDay, 2),
                lit(":"),
                n(Minute, 2),
                lit(":"),
                n(Second, 2),
                lit(" "),
                Item::HalfDay,
            ]),
            's' | 'S' => items.push(n(Second, 2)),
            'T' => items.extend([
                n(HourOfDay, 2),
                lit(":"),
                n(Minute, 2),
                lit(":"),
                n(Second, 2),
            ]),
            'v' => items.push(n(WeekOfWeekYear, 2)),
            'x' => items.push(n(WeekYear, 4)),
            'Y' => items.push(n(Year, 4)),
            'y' => items.push(Item::TwoDigitYear {
                pivot: 2020,
                lenient: false,
            }),
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => {
                return Err(format!("%{spec} not supported in date format string"));
            }
            other => items.push(Item::Literal(other.to_string())),
        }
    }
    Ok(items)
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    week_year: Option<i64>,
    month: Option<i64>,
    week: Option<i64>,
    day_of_year: Option<i64>,
    day: Option<i64>,
    day_of_week: Option<i64>,
    pm: Option<bool>,
    hour_of_day: Option<i64>,
    clock_hour_of_day: Option<i64>,
    hour_of_half_day: Option<i64>,
    clock_hour_of_half_day: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    millis: i64,
    offset_seconds: Option<i64>,
}

impl Fields {
    fn slot(&mut self, field: Field) -> &mut Option<i64> {
        match field {
            Field::Year => &mut self.year,
            Field::WeekYear => &mut self.week_year,
            Field::Month => &mut self.month,
            Field::WeekOfWeekYear => &mut self.week,
            Field::DayOfYear => &mut self.day_of_year,
            Field::Day => &mut self.day,
            Field::DayOfWeek => &mut self.day_of_week,
            Field::HourOfDay => &mut self.hour_of_day,
            Field::ClockHourOfDay => &mut self.clock_hour_of_day,
            Field::HourOfHalfDay => &mut self.hour_of_half_day,
            Field::ClockHourOfHalfDay => &mut self.clock_hour_of_half_day,
            Field::Minute => &mut self.minute,
            Field::Second => &mut self.second,
        }
    }

    /// Combines the fields in Joda's order (larger units first, a day of the week last, so it
    /// moves the date within its Monday-to-Sunday week) into milliseconds since the epoch.
    fn resolve(&self) -> Option<i64> {
        let int = |v: Option<i64>| v.map(i32::try_from).transpose().ok();
        let uint = |v: Option<i64>| v.map(u32::try_from).transpose().ok();
        let mut date = if self.week_year.is_some() || self.week.is_some() {
            // Joda starts from 1970-01-01, a Thursday in week 1, and keeps what is not set.
            let week_year = int(self.week_year.or(self.year))?.unwrap_or(1970);
            let week = uint(self.week)?.unwrap_or(1);
            NaiveDate::from_isoywd_opt(week_year, week, chrono::Weekday::Thu)?
        } else {
            let year = int(self.year)?.unwrap_or(1970);
            let mut date = NaiveDate::from_ymd_opt(year, uint(self.month)?.unwrap_or(1), 1)?;
            if let Some(ordinal) = uint(self.day_of_year)? {
                date = NaiveDate::from_yo_opt(year, ordinal)?;
            }
            if let Some(day) = uint(self.day)? {
                date = date.with_day(day)?;
            }
            date
        };
        if let Some(weekday) = self.day_of_week {
            if !(1..=7).contains(&weekday) {
                return None;
            }
            let current = i64::from(date.weekday().number_from_monday());
            date = date.checked_add_signed(chrono::Duration::days(weekday - current))?;
        }
        let in_range = |v: Option<i64>, lo: i64, hi: i64| v.is_none_or(|v| (lo..=hi).contains(&v));
        if !(in_range(self.hour_of_day, 0, 23)
            && in_range(self.clock_hour_of_day, 1, 24)
            && in_range(self.hour_of_half_day, 0, 11)
            && in_range(self.clock_hour_of_half_day, 1, 12)
            && in_range(self.minute, 0, 59)
            && in_range(self.second, 0, 59))
        {
            return None;
        }
        let mut hour = if self.pm == Some(true) { 12 } else { 0 };
        if let Some(h) = self.hour_of_day {
            hour = h;
        }
        if let Some(h) = self.clock_hour_of_day {
            hour = h % 24;
        }
        if let Some(h) = self.hour_of_half_day {
            hour = hour / 12 * 12 + h;
        }
        if let Some(h) = self.clock_hour_of_half_day {
            hour = hour / 12 * 12 + h % 12;
        }
        let time = NaiveTime::from_hms_milli_opt(
            u32::try_from(hour).ok()?,
            uint(self.minute)?.unwrap_or(0),
            uint(self.second)?.unwrap_or(0),
            u32::try_from(self.millis).ok()?,
        )?;
        let local = date.and_time(time).and_utc().timestamp_millis();
        local.checked_sub(self.offset_seconds.unwrap_or(0) * 1_000)
    }
}

/// Reads up to `max` ASCII digits (at least one).
fn digits(text: &[u8], max: usize) -> Option<(i64, usize)> {
    let len = text
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if len == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for b in &text[..len] {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some((value, len))
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Index (0-based) and length of the full or three-letter name at the start of `text`.
fn name(text: &[u8], names: &[&str]) -> Option<(i64, usize)> {
    names.iter().enumerate().find_map(|(i, full)| {
        let full = full.as_bytes();
        if starts_with_ignore_case(text, full) {
            Some((i as i64, full.len()))
        } else if starts_with_ignore_case(text, &full[..3]) {
            Some((i as i64, 3))
        } else {
            None
        }
    })
}

fn offset(text: &[u8]) -> Option<(i64, usize)> {
    if matches!(text.first(), Some(b'Z' | b'z')) {
        return Some((0, 1));
    }
    let sign = match text.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |at: usize| match text.get(at..at + 2) {
        Some(d) if d.iter().all(u8::is_ascii_digit) => {
            Some(i64::from(d[0] - b'0') * 10 + i64::from(d[1] - b'0'))
        }
        _ => None,
    };
    let hours = two(1)?;
    let (minutes, len) = match text.get(3) {
        Some(b':') => (two(4)?, 6),
        _ => (two(3)?, 5),
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((sign * (hours * 3_600 + minutes * 60), len))
}

/// Reads `text` with a translated pattern; `None` when it does not match or names a date that
/// does not exist. Without an offset in the pattern the text is taken as UTC.
pub fn parse(text: &str, items: &[Item]) -> Option<i64> {
    let mut rest = text.as_bytes();
    let mut fields = Fields::default();
    for item in items {
        let used = match item {
            Item::Literal(expected) => {
                if !starts_with_ignore_case(rest, expected.as_bytes()) {
                    return None;
                }
                expected.len()
            }
            Item::Number { field, max } => {
                let (value, len) = digits(rest, *max)?;
                *fields.slot(*field) = Some(value);
                len
            }
            Item::TwoDigitYear { pivot, lenient } => {
                let (value, len) = digits(rest, if *lenient { 9 } else { 2 })?;
                fields.year = Some(if len == 2 {
                    let low = i64::from(*pivot) - 50;
                    low + (value - low).rem_euclid(100)
                } else if *lenient {
                    value
                } else {
                    return None;
                });
                len
            }
            Item::Fraction { max } => {
                let (value, len) = digits(rest, *max)?;
                // Scale to milliseconds, dropping what is finer, as Joda does.
                fields.millis = if len >= 3 {
                    value / 10_i64.pow((len - 3) as u32)
                } else {
                    value * 10_i64.pow((3 - len) as u32)
                };
                len
            }
            Item::MonthName => {
                let (index, len) = name(rest, &MONTHS)?;
                fields.month = Some(index + 1);
                len
            }
            Item::WeekdayName => {
                let (index, len) = name(rest, &WEEKDAYS)?;
                fields.day_of_week = Some(index + 1);
                len
            }
            Item::HalfDay => {
                fields.pm = Some(if starts_with_ignore_case(rest, b"AM") {
                    false
                } else if starts_with_ignore_case(rest, b"PM") {
                    true
                } else {
                    return None;
                });
                2
            }
            Item::Offset => {
                let (seconds, len) = offset(rest)?;
                fields.offset_seconds = Some(seconds);
                len
            }
        };
        rest = &rest[used..];
    }
    if !rest.is_empty() {
        return None;
    }
    fields.resolve()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::time::{iso8601_text, parse_iso8601_millis};

    fn joda(text: &str, pattern: &str) -> Option<String> {
        parse(text, &joda_items(pattern).unwrap()).map(iso8601_text)
    }

    fn mysql(text: &str, format: &str) -> Option<String> {
        parse(text, &mysql_items(format).unwrap()).map(iso8601_text)
    }

    #[test]
    fn joda_quotes_and_letters_translate_like_joda() {
        use Field::*;
        assert_eq!(
            joda_items("yyyy-MM-dd'T'HH:mm:ss'Z").unwrap(),
            vec![
                Item::Number {
                    field: Year,
                    max: 9
                },
                Item::Literal("-".into()),
                Item::Number {
                    field: Month,
                    max: 2
                },
                Item::Literal("-".into()),
                Item::Number { field: Day, max: 2 },
                Item::Literal("T".into()),
                Item::Number {
                    field: HourOfDay,
                    max: 2
                },
                Item::Literal(":".into()),
                Item::Number {
                    field: Minute,
                    max: 2
                },
                Item::Literal(":".into()),
                Item::Number {
                    field: Second,
                    max: 2
                },
                Item::Literal("Z".into()),
            ]
        );
        // A year followed directly by digits keeps its width; '' is a quote.
        assert_eq!(
            joda_items("yyyyMMdd''").unwrap()[..1],
            [Item::Number {
                field: Year,
                max: 4
            }]
        );
        assert_eq!(
            joda_items("h 'o''clock' a").unwrap()[1],
            Item::Literal(" o'clock ".into())
        );
        assert_eq!(joda_items("MMM").unwrap(), vec![Item::MonthName]);
        assert_eq!(joda_items("ZZ").unwrap(), vec![Item::Offset]);
        assert!(joda_items("yyyy G").unwrap_err().contains("'G'"));
        assert!(joda_items("HH:mm zzz").unwrap_err().contains("zzz"));
    }

    #[test]
    fn joda_patterns_parse_what_athena_queries_give_them() {
        let t = Some("2021-09-08T10:00:00.000Z".to_string());
        assert_eq!(joda("2021-09-08T10:00:00Z", "yyyy-MM-dd'T'HH:mm:ss'Z"), t);
        assert_eq!(joda("2021-09-08T10:00:00Z", "yyyy-MM-dd'T'HH:mm:ssZ"), t);
        assert_eq!(
            joda("2021-09-08 12:00:00 +02:00", "yyyy-MM-dd HH:mm:ss ZZ"),
            t
        );
        assert_eq!(joda("2021-09-08 05:00:00-0500", "yyyy-MM-dd HH:mm:ssZ"), t);
        assert_eq!(joda("2021-9-8 10:00", "yyyy-MM-dd HH:mm"), t);
        assert_eq!(joda("20210908100000", "yyyyMMddHHmmss"), t);
        assert_eq!(joda("08/Sep/2021:10:00:00", "dd/MMM/yyyy:HH:mm:ss"), t);
        assert_eq!(joda("September 8, 2021 10 AM", "MMMM d, yyyy h a"), t);
        assert_eq!(
            joda("8 sep 21 10:00 PM", "d MMM yy hh:mm a").as_deref(),
            Some("2021-09-08T22:00:00.000Z")
        );
        assert_eq!(
            joda("2021-09-08 10:00:00.5", "yyyy-MM-dd HH:mm:ss.SSS").as_deref(),
            Some("2021-09-08T10:00:00.500Z")
        );
        assert_eq!(
            joda("2021-09-08 10:00:00.123456", "yyyy-MM-dd HH:mm:ss.SSS").as_deref(),
            Some("2021-09-08T10:00:00.123Z")
        );
        assert_eq!(
            joda("2021-09-08", "yyyy-MM-dd").as_deref(),
            Some("2021-09-08T00:00:00.000Z")
        );
        assert_eq!(
            joda("12 AM", "hh a").as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        for (bad, pattern) in [
            ("2021-09-08T10:00:00Zjunk", "yyyy-MM-dd'T'HH:mm:ss'Z"),
            ("2021-02-30", "yyyy-MM-dd"),
            ("2021-13-01", "yyyy-MM-dd"),
            ("2021-09-08 24:00", "yyyy-MM-dd HH:mm"),
            ("s3.amazonaws.com", "yyyy-MM-dd"),
            ("", "yyyy"),
        ] {
            assert_eq!(joda(bad, pattern), None, "{bad} / {pattern}");
        }
    }

    #[test]
    fn two_digit_years_fall_around_the_pivot() {
        assert_eq!(
            mysql("69", "%y").as_deref(),
            Some("2069-01-01T00:00:00.000Z")
        );
        assert_eq!(
            mysql("70", "%y").as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(mysql("2021", "%y"), None, "%y takes exactly two digits");
        let pivot = joda_pivot_year();
        let year = |text: &str| {
            parse(text, &joda_items("yy").unwrap())
                .map(|ms| chrono::DateTime::from_timestamp_millis(ms).unwrap().year())
        };
        let y = year("21").unwrap();
        assert!(
            (pivot - 50..pivot + 50).contains(&y) && y % 100 == 21,
            "{y}"
        );
        assert_eq!(year("2021"), Some(2021), "yy reads a full year leniently");
    }

    #[test]
    fn mysql_formats_translate_and_parse_like_trinos_date_parse() {
        assert_eq!(
            mysql("2019-10-29T06:52:45Z", "%Y-%m-%dT%TZ").as_deref(),
            Some("2019-10-29T06:52:45.000Z")
        );
        assert_eq!(
            mysql("2019/10/29 06:52:45.250", "%Y/%m/%d %H:%i:%s.%f").as_deref(),
            Some("2019-10-29T06:52:45.250Z")
        );
        assert_eq!(
            mysql("Tue, 29 Oct 2019 06:52:45 PM", "%a, %e %b %Y %r").as_deref(),
            Some("2019-10-29T18:52:45.000Z")
        );
        assert_eq!(
            mysql("Tuesday October 29 2019 6:52", "%W %M %e %Y %k:%i").as_deref(),
            Some("2019-10-29T06:52:00.000Z")
        );
        assert_eq!(
            mysql("2019-302 7 AM", "%Y-%j %l %p").as_deref(),
            Some("2019-10-29T07:00:00.000Z")
        );
        assert_eq!(
            mysql("12:05:00 AM", "%r").as_deref(),
            Some("1970-01-01T00:05:00.000Z")
        );
        assert_eq!(
            mysql("2019 44", "%x %v").as_deref(),
            Some("2019-10-31T00:00:00.000Z"),
            "a week without a day is its Thursday, as Joda keeps 1970-01-01's weekday"
        );
        assert_eq!(
            mysql("Mon 2019-10-29", "%a %Y-%m-%d").as_deref(),
            Some("2019-10-28T00:00:00.000Z"),
            "a weekday moves the date within its week, as in Joda"
        );
        assert_eq!(
            mysql("100% 2019", "100%% %Y").as_deref(),
            Some("2019-01-01T00:00:00.000Z")
        );
        assert_eq!(mysql_items("%Q").unwrap(), vec![Item::Literal("Q".into())]);
        assert_eq!(
            mysql_items("%D").unwrap_err(),
            "%D not supported in date format string"
        );
        assert!(mysql_items("%U").is_err());
        assert_eq!(mysql("2019-10-29", "%Y-%m-%d %H"), None);
        assert_eq!(
            mysql("2019-10-29", "%Y-%m-%d"),
            parse_iso8601_millis("2019-10-29T00:00:00Z").map(iso8601_text)
        );
    }
}
