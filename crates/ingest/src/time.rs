//! Event times as text: the one ISO 8601 reading shared by the SQL functions and the store, so a
//! time the store files under a day is the time a query compares.

use chrono::{Datelike, NaiveDate};

const MS_PER_SECOND: i64 = 1_000;

/// Parses ISO 8601 as `from_iso8601_timestamp` does: a date (`2019`, `2019-10`, `2019-10-29`),
/// optionally `T` (or a space) and a time (`06`, `06:40`, `06:40:00`, `06:40:00.123456`), optionally
/// a zone (`Z`, `+02:00`, `+0200`, `+02`). Without a zone the time is UTC. Returns milliseconds since
/// the epoch, or `None` when the text is not such a timestamp.
pub fn parse_iso8601_millis(text: &str) -> Option<i64> {
    cloudtrail_form_millis(text.as_bytes()).or_else(|| parse_any_form(text))
}

/// The form CloudTrail writes every `eventTime` in, `2019-10-29T06:40:00Z`, read straight from its
/// digits: a window query parses one a row, and the general steps below (each field through
/// `str::parse`, then chrono) took 4% of a 3-day report's CPU.
/// `None` for any other text and for this form holding a date or time that does not exist, which
/// [`parse_any_form`] then reads or refuses.
fn cloudtrail_form_millis(s: &[u8]) -> Option<i64> {
    const SEPARATORS: [(usize, u8); 6] = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ];
    let s: &[u8; 20] = s.try_into().ok()?;
    if SEPARATORS.iter().any(|&(at, byte)| s[at] != byte) {
        return None;
    }
    let number = |from: usize, to: usize| {
        s[from..to].iter().try_fold(0i64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's `days_from_civil`): years counted from March, so
    // that the leap day ends the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * MS_PER_SECOND)
}

/// [`parse_iso8601_millis`] for every form it reads.
fn parse_any_form(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    let mut pos = 0;
    let digits = |pos: &mut usize, n: usize| -> Option<u32> {
        let end = *pos + n;
        let slice = s.get(*pos..end)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *pos = end;
        std::str::from_utf8(slice).ok()?.parse().ok()
    };
    let year = digits(&mut pos, 4)? as i32;
    let (mut month, mut day) = (1, 1);
    if s.get(pos) == Some(&b'-') {
        pos += 1;
        month = digits(&mut pos, 2)?;
        if s.get(pos) == Some(&b'-') {
            pos += 1;
            day = digits(&mut pos, 2)?;
        }
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
    if matches!(s.get(pos), Some(b'T' | b't' | b' ')) {
        pos += 1;
        hour = digits(&mut pos, 2)?;
        if s.get(pos) == Some(&b':') {
            pos += 1;
            minute = digits(&mut pos, 2)?;
            if s.get(pos) == Some(&b':') {
                pos += 1;
                second = digits(&mut pos, 2)?;
                if matches!(s.get(pos), Some(b'.' | b',')) {
                    pos += 1;
                    let start = pos;
                    while s.get(pos).is_some_and(u8::is_ascii_digit) {
                        pos += 1;
                    }
                    let fraction = &s[start..pos];
                    if fraction.is_empty() || fraction.len() > 9 {
                        return None;
                    }
                    let scale = 10u32.pow(9 - fraction.len() as u32);
                    nanos = std::str::from_utf8(fraction).ok()?.parse::<u32>().ok()? * scale;
                }
            }
        }
    }
    let time = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset_seconds: i64 = match s.get(pos) {
        None => 0,
        Some(b'Z' | b'z') if pos + 1 == s.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            pos += 1;
            let hours = i64::from(digits(&mut pos, 2)?);
            // `+02`, `+0200` or `+02:00`; a `:` announces the minutes (`+02:` is cut short).
            let colon = s.get(pos) == Some(&b':');
            pos += usize::from(colon);
            let minutes = if colon || pos < s.len() {
                i64::from(digits(&mut pos, 2)?)
            } else {
                0
            };
            if pos != s.len() || hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 3600 + minutes * 60;
            if sign == b'+' { total } else { -total }
        }
        Some(_) => return None,
    };
    let utc = time.and_utc().timestamp_millis();
    Some(utc - offset_seconds * MS_PER_SECOND)
}

/// Days since 1970-01-01 of day `d` of month `m` (1–12) of year `y`. A day past the month's end
/// (a folder named `2023/02/30`) counts on into the next month. `None` for a month outside 1–12
/// or a year beyond the calendar's range.
pub(crate) fn epoch_day(y: i64, m: i64, d: i64) -> Option<i64> {
    let first = NaiveDate::from_ymd_opt(y.try_into().ok()?, m.try_into().ok()?, 1)?;
    Some(i64::from(first.to_epoch_days()) + d - 1)
}

/// The `YYYY/MM/DD` folder of a day counted from 1970-01-01; `None` beyond the calendar's range.
pub(crate) fn day_folder(days: i64) -> Option<String> {
    let date = NaiveDate::from_epoch_days(days.try_into().ok()?)?;
    Some(format!(
        "{:04}/{:02}/{:02}",
        date.year(),
        date.month(),
        date.day()
    ))
}

#[cfg(test)]
mod calendar_tests {
    use super::*;

    /// Found by `only_complete_prefixes_are_read` (tests/it/properties.rs).
    #[test]
    fn cloudtrail_s_form_reads_as_the_general_parser_reads_it() {
        let mut checked = 0;
        for year in [
            0, 1, 1900, 1969, 1970, 1999, 2000, 2019, 2020, 2023, 2024, 2100, 9999,
        ] {
            for month in 0..=13 {
                for day in 0..=32 {
                    for (h, m, s) in [
                        (0, 0, 0),
                        (6, 40, 0),
                        (23, 59, 59),
                        (24, 0, 0),
                        (0, 60, 0),
                        (0, 0, 60),
                    ] {
                        let text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z");
                        let fast = cloudtrail_form_millis(text.as_bytes());
                        assert_eq!(parse_iso8601_millis(&text), parse_any_form(&text), "{text}");
                        if let Some(fast) = fast {
                            assert_eq!(Some(fast), parse_any_form(&text), "{text}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        // Every real day of those years (four of them leap years) at the three real times.
        assert_eq!(
            checked,
            (9 * 365 + 4 * 366) * 3,
            "dates read by the fast path"
        );
        // Near misses of the form go to the general parser, whatever it makes of them.
        for text in [
            "2019-10-29T06:40:00z",
            "2019-10-29t06:40:00Z",
            "2019-10-29 06:40:00Z",
            "2019-10-29T06:40:00.5Z",
            " 2019-10-29T06:40:00Z",
            "2019-10-29T06:40:0aZ",
            "2019-1a-29T06:40:00Z",
            "+019-10-29T06:40:00Z",
            "2019-10-29T06:40:00+",
        ] {
            assert_eq!(cloudtrail_form_millis(text.as_bytes()), None, "{text}");
            assert_eq!(parse_iso8601_millis(text), parse_any_form(text), "{text}");
        }
        assert_eq!(
            parse_iso8601_millis("2019-10-29T06:40:00Z"),
            Some(1_572_331_200_000)
        );
    }

    #[test]
    fn an_offset_cut_after_its_colon_is_not_read() {
        assert_eq!(parse_iso8601_millis("0001-01-01T00+00:"), None);
        assert_eq!(parse_iso8601_millis("2019-10-29T06:40:00+02:"), None);
        assert_eq!(
            parse_iso8601_millis("2019-10-29T06:40:00+02:00"),
            parse_iso8601_millis("2019-10-29T04:40:00Z")
        );
        assert_eq!(
            parse_iso8601_millis("2019-10-29T06:40:00+02"),
            parse_iso8601_millis("2019-10-29T04:40:00Z")
        );
    }

    #[test]
    fn epoch_days_count_from_1970_and_roll_over_like_folder_names() {
        assert_eq!(epoch_day(1970, 1, 1), Some(0));
        assert_eq!(epoch_day(2019, 10, 29), Some(18_198));
        assert_eq!(epoch_day(2023, 2, 30), epoch_day(2023, 3, 2));
        assert_eq!(epoch_day(2023, 13, 1), None);
        assert_eq!(day_folder(-1).as_deref(), Some("1969/12/31"));
        assert_eq!(day_folder(18_198).as_deref(), Some("2019/10/29"));
    }
}
