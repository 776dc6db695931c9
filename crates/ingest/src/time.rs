//! Event times as text: the one ISO 8601 reading shared by the SQL functions and the store, so a
//! time the store files under a day is the time a query compares.

use chrono::{Datelike, NaiveDate};

const MS_PER_SECOND: i64 = 1_000;

/// Parses ISO 8601 as `from_iso8601_timestamp` does: a date (`2019`, `2019-10`, `2019-10-29`),
/// optionally `T` (or a space) and a time (`06`, `06:40`, `06:40:00`, `06:40:00.123456`), optionally
/// a zone (`Z`, `+02:00`, `+0200`, `+02`). Without a zone the time is UTC. Returns milliseconds since
/// the epoch, or `None` when the text is not such a timestamp.
pub fn parse_iso8601_millis(text: &str) -> Option<i64> {
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
