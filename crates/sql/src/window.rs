//! Event time as typed values: an [`Instant`] to the millisecond and a [`TimeWindow`] between two
//! of them, read from what a person types (ISO 8601 or an age such as `24h`).
//!
//! Instants travel between crates as values; they become ISO 8601 text only where SQL binds them
//! as `$from` and `$to` ([`TimeWindow::params`]), the form `from_iso8601_timestamp` takes.

use std::fmt;

use crate::functions::time::{iso8601_text, parse_iso8601_millis};

/// `0000-01-01T00:00:00.000Z`.
const EARLIEST_MS: i64 = -62_167_219_200_000;
/// `9999-12-31T23:59:59.999Z`.
const LATEST_MS: i64 = 253_402_300_799_999;

/// A point in time, in milliseconds since the epoch, between the years 0000 and 9999: what ISO
/// 8601 with a four-digit year writes, and so what a query can read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

/// A time that cannot be read, or that no trail can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "invalid time {text:?}: expected ISO 8601 (2019-10-29T06:40:00Z) or an age such as 15m, 24h, 7d"
    )]
    Unreadable { text: String },
    /// An age reaching back before the year 0000 (or past any number ctq can count).
    #[error(
        "invalid time {text:?}: the age reaches back before the year 0000; give an age such as 15m, 24h, 7d, or ISO 8601"
    )]
    OutOfRange { text: String },
    #[error("the window {from} to {to} is empty; --from must come before --to")]
    EmptyWindow { from: Instant, to: Instant },
}

impl Instant {
    /// The instant `millis` after the epoch, if it lies between the years 0000 and 9999.
    pub fn from_millis(millis: i64) -> Option<Self> {
        (EARLIEST_MS..=LATEST_MS)
            .contains(&millis)
            .then_some(Instant(millis))
    }

    /// The clock's time now.
    pub fn now() -> Self {
        let millis = chrono::Utc::now().timestamp_millis();
        Instant(millis.clamp(EARLIEST_MS, LATEST_MS))
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Reads ISO 8601 as `from_iso8601_timestamp` does.
    pub fn parse_iso8601(text: &str) -> Option<Self> {
        parse_iso8601_millis(text).and_then(Instant::from_millis)
    }

    /// Reads a time given on the command line: ISO 8601 (`2019-10-29T06:40:00Z`, `2019-10-29`) or
    /// an age back from `now` (`90s`, `15m`, `24h`, `7d`, `2w`).
    pub fn resolve(text: &str, now: Instant) -> Result<Self, TimeError> {
        let trimmed = text.trim();
        if let Some(instant) = Instant::parse_iso8601(trimmed) {
            return Ok(instant);
        }
        let out_of_range = || TimeError::OutOfRange {
            text: text.to_string(),
        };
        match age(trimmed) {
            Age::Millis(ago) => now
                .0
                .checked_sub(ago)
                .and_then(Instant::from_millis)
                .ok_or_else(out_of_range),
            Age::TooLong => Err(out_of_range()),
            Age::Unreadable => Err(TimeError::Unreadable {
                text: text.to_string(),
            }),
        }
    }
}

/// ISO 8601 in UTC to the millisecond: `2019-10-29T06:40:00.000Z`.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&iso8601_text(self.0))
    }
}

/// A window of event time, `from` inclusive, `to` exclusive, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    from: Instant,
    to: Instant,
}

impl TimeWindow {
    pub fn new(from: Instant, to: Instant) -> Result<Self, TimeError> {
        if from >= to {
            return Err(TimeError::EmptyWindow { from, to });
        }
        Ok(TimeWindow { from, to })
    }

    pub fn from(&self) -> Instant {
        self.from
    }

    pub fn to(&self) -> Instant {
        self.to
    }

    /// `$from` and `$to`, as a query binds them.
    pub fn params(&self) -> Vec<(String, String)> {
        vec![
            ("from".to_string(), self.from.to_string()),
            ("to".to_string(), self.to.to_string()),
        ]
    }
}

enum Age {
    Millis(i64),
    /// Digits and a unit, too many to count in milliseconds.
    TooLong,
    Unreadable,
}

fn age(text: &str) -> Age {
    let Some(split) = text.find(|c: char| !c.is_ascii_digit()) else {
        return Age::Unreadable;
    };
    let (number, unit) = text.split_at(split);
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Age::Unreadable,
    };
    if number.is_empty() {
        return Age::Unreadable;
    }
    // Only digits are left: a number that does not parse is too long.
    match number
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_ms))
    {
        Some(ms) => Age::Millis(ms),
        None => Age::TooLong,
    }
}

/// A duration such as `90s`, `15m`, `24h`, `7d`, `2w`, in milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    match age(text.trim()) {
        Age::Millis(ms) => Some(ms),
        Age::TooLong | Age::Unreadable => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        Instant::parse_iso8601(text).unwrap()
    }

    #[test]
    fn times_are_absolute_or_relative() {
        let now = at("2019-10-29T07:00:00Z");
        let resolve = |text: &str| Instant::resolve(text, now).unwrap().to_string();
        assert_eq!(resolve("2019-10-29T06:40:00Z"), "2019-10-29T06:40:00.000Z");
        assert_eq!(resolve("2019-10-29"), "2019-10-29T00:00:00.000Z");
        assert_eq!(resolve("20m"), "2019-10-29T06:40:00.000Z");
        assert_eq!(resolve(" 1d "), "2019-10-28T07:00:00.000Z");
        assert_eq!(resolve("0s"), "2019-10-29T07:00:00.000Z");
        for bad in ["", "yesterday", "15x", "m", "last tuesday", "-5m"] {
            assert_eq!(
                Instant::resolve(bad, now),
                Err(TimeError::Unreadable {
                    text: bad.to_string()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn ages_before_year_zero_or_beyond_counting_are_out_of_range() {
        let now = at("2019-10-29T07:00:00Z");
        for absurd in [
            "1000000w",
            "200000000d",
            "99999999999999999999s",
            "9223372036854775807w",
        ] {
            let error = Instant::resolve(absurd, now).unwrap_err();
            assert_eq!(
                error,
                TimeError::OutOfRange {
                    text: absurd.to_string()
                }
            );
            assert!(error.to_string().contains(absurd), "{error}");
        }
        // Back to the first instant of year 0 is still a time.
        let seconds = (now.millis() - EARLIEST_MS) / 1000;
        assert_eq!(
            Instant::resolve(&format!("{seconds}s"), now)
                .unwrap()
                .to_string(),
            "0000-01-01T00:00:00.000Z"
        );
        let one_more = format!("{}s", seconds + 1);
        assert!(matches!(
            Instant::resolve(&one_more, now),
            Err(TimeError::OutOfRange { .. })
        ));
    }

    #[test]
    fn the_range_is_what_four_digit_years_write() {
        assert_eq!(at("0000-01-01T00:00:00Z").millis(), EARLIEST_MS);
        assert_eq!(at("9999-12-31T23:59:59.999Z").millis(), LATEST_MS);
        assert_eq!(Instant::from_millis(EARLIEST_MS - 1), None);
        assert_eq!(Instant::from_millis(LATEST_MS + 1), None);
        for edge in [EARLIEST_MS, LATEST_MS] {
            let instant = Instant::from_millis(edge).unwrap();
            assert_eq!(Instant::parse_iso8601(&instant.to_string()), Some(instant));
        }
    }

    #[test]
    fn windows_are_never_empty_and_bind_as_iso_text() {
        let (from, to) = (at("2019-10-29T06:40:00Z"), at("2019-10-29T06:55:00Z"));
        let window = TimeWindow::new(from, to).unwrap();
        assert_eq!((window.from(), window.to()), (from, to));
        assert_eq!(
            window.params(),
            [
                ("from".to_string(), "2019-10-29T06:40:00.000Z".to_string()),
                ("to".to_string(), "2019-10-29T06:55:00.000Z".to_string()),
            ]
        );
        let empty = TimeWindow::new(to, from).unwrap_err();
        assert_eq!(
            empty.to_string(),
            "the window 2019-10-29T06:55:00.000Z to 2019-10-29T06:40:00.000Z is empty; --from must come before --to"
        );
        assert!(TimeWindow::new(from, from).is_err());
    }

    #[test]
    fn durations_are_digits_and_a_unit() {
        assert_eq!(parse_duration_ms("90s"), Some(90_000));
        assert_eq!(parse_duration_ms("15min"), Some(900_000));
        assert_eq!(parse_duration_ms("2w"), Some(14 * 86_400_000));
        for bad in ["", "h", "1y", "1.5h", "99999999999999999999h"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }
}
