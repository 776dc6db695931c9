//! Trino's date-time functions that Athena CloudTrail queries use beyond the ones in
//! [`super`]: parsing with a pattern (`parse_datetime`, `date_parse`), `from_unixtime`,
//! `from_iso8601_date`, and the date-part functions (`year`, `day_of_week`, `week`, …).
//!
//! Every timestamp is `timestamp(3) with time zone` in UTC ([`timestamp_type`]); a timestamp of
//! another unit or zone, or a date, is cast to it first, so date parts read the UTC calendar.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use datafusion::arrow::array::{
    Array, AsArray, Date32Array, Int64Array, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::common::{
    check_arity, constant_text, default_from_new, millis_array, text_array, text_parameter,
    timestamp_parameter,
};
use super::datetime_pattern::{self, Item};
use super::timestamp_type;

fn user_defined() -> Signature {
    Signature::user_defined(Volatility::Immutable)
}

type Translate = fn(&str) -> std::result::Result<Vec<Item>, String>;

/// Parses text with a pattern. A constant text that does not match is an error naming both (a
/// mistake in the query, not in the data); a column value that does not match is NULL.
fn parse_with_pattern(
    function: &str,
    language: &str,
    translate: Translate,
    args: &ScalarFunctionArgs,
) -> Result<ColumnarValue> {
    let bad_pattern = |pattern: &str, why: String| {
        DataFusionError::Execution(format!(
            "{function}: invalid {language} pattern {pattern:?}: {why}"
        ))
    };
    if let (Some(text), Some(pattern)) =
        (constant_text(&args.args[0]), constant_text(&args.args[1]))
    {
        let items = translate(pattern).map_err(|why| bad_pattern(pattern, why))?;
        if datetime_pattern::parse(text, &items).is_none() {
            return exec_err!(
                "{function}: {text:?} does not match the {language} pattern {pattern:?}"
            );
        }
    }
    let arrays = ColumnarValue::values_to_arrays(&args.args)?;
    let (texts, patterns) = (text_array(&arrays[0])?, text_array(&arrays[1])?);
    // The pattern is nearly always a literal: translate it once.
    let mut translated: Option<(String, Vec<Item>)> = None;
    let mut out = Vec::with_capacity(texts.len());
    for (text, pattern) in texts.iter().zip(patterns.iter()) {
        let (Some(text), Some(pattern)) = (text, pattern) else {
            out.push(None);
            continue;
        };
        let items = match &translated {
            Some((p, items)) if p == pattern => items,
            _ => {
                let items = translate(pattern).map_err(|why| bad_pattern(pattern, why))?;
                &translated.insert((pattern.to_string(), items)).1
            }
        };
        out.push(datetime_pattern::parse(text, items));
    }
    Ok(ColumnarValue::Array(Arc::new(
        TimestampMillisecondArray::from(out).with_timezone("UTC"),
    )))
}

/// `parse_datetime(text, pattern)`: text read with a Joda-Time pattern, as Trino does; an
/// offset in the pattern (`Z`, `ZZ`) is applied, text without one is read as UTC.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ParseDatetime {
    signature: Signature,
}

impl ParseDatetime {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for ParseDatetime {
    fn name(&self) -> &'static str {
        "parse_datetime"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[2])?;
        arg_types
            .iter()
            .map(|t| text_parameter(self.name(), t))
            .collect()
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        parse_with_pattern(self.name(), "Joda", datetime_pattern::joda_items, &args)
    }
}

/// `date_parse(text, format)`: text read with MySQL specifiers (`%Y-%m-%d %H:%i:%s`), as
/// Trino's `date_parse` reads them. Trino returns a timestamp without a zone; ctq's timestamps
/// are all UTC, so the text is read as UTC.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DateParse {
    signature: Signature,
}

impl DateParse {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for DateParse {
    fn name(&self) -> &'static str {
        "date_parse"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[2])?;
        arg_types
            .iter()
            .map(|t| text_parameter(self.name(), t))
            .collect()
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        parse_with_pattern(self.name(), "MySQL", datetime_pattern::mysql_items, &args)
    }
}

/// `from_unixtime(seconds)`: seconds since the epoch, whole or fractional (rounded to the
/// millisecond, as Trino does), as `timestamp(3) with time zone`. Replaces DataFusion's, which
/// drops the fraction. Trino's `from_unixtime(seconds, zone)` is not supported.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromUnixtime {
    signature: Signature,
}

impl FromUnixtime {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for FromUnixtime {
    fn name(&self) -> &'static str {
        "from_unixtime"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() > 1 {
            return plan_err!(
                "from_unixtime() with a time zone is not supported by ctq (its timestamps are UTC); use from_unixtime(seconds)"
            );
        }
        check_arity(self.name(), arg_types, &[1])?;
        Ok(vec![match &arg_types[0] {
            t if t.is_integer() || t.is_null() => DataType::Int64,
            t if t.is_numeric() => DataType::Float64,
            other => return plan_err!("from_unixtime() takes a number of seconds, not {other}"),
        }])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: TimestampMillisecondArray = match arrays[0].data_type() {
            DataType::Float64 => arrays[0]
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.and_then(seconds_to_millis))
                .collect(),
            _ => cast(&arrays[0], &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.and_then(|s| s.checked_mul(1_000)))
                .collect(),
        };
        Ok(ColumnarValue::Array(Arc::new(out.with_timezone("UTC"))))
    }
}

default_from_new!(ParseDatetime, DateParse, FromUnixtime, FromIso8601Date);

fn seconds_to_millis(seconds: f64) -> Option<i64> {
    let millis = (seconds * 1_000.0).round();
    // Beyond ±2^63 ms (or NaN) there is no timestamp to give.
    (millis.is_finite() && millis.abs() < 9.2e18).then_some(millis as i64)
}

/// `from_iso8601_date(text)`: an ISO 8601 date (`2021-09-08`, `2021-09`, `2021`, `2021-251`,
/// `2021-W36`, `2021-W36-3`) as a `date`. A constant that is not one is an error; a column
/// value that is not one is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromIso8601Date {
    signature: Signature,
}

impl FromIso8601Date {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for FromIso8601Date {
    fn name(&self) -> &'static str {
        "from_iso8601_date"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[1])?;
        Ok(vec![text_parameter(self.name(), &arg_types[0])?])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let Some(text) = constant_text(&args.args[0])
            && parse_iso8601_date(text).is_none()
        {
            return exec_err!(
                "from_iso8601_date: {text:?} is not an ISO 8601 date; write it like 2021-09-08"
            );
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: Date32Array = text_array(&arrays[0])?
            .iter()
            .map(|t| t.and_then(parse_iso8601_date).and_then(epoch_days))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

fn epoch_days(date: NaiveDate) -> Option<i32> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

fn fixed_number(text: &str, len: usize) -> Option<u32> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// The date forms of ISO 8601 that Trino's `from_iso8601_date` accepts.
pub fn parse_iso8601_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('-');
    let year = i32::try_from(fixed_number(parts.next()?, 4)?).ok()?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => NaiveDate::from_ymd_opt(year, 1, 1),
        (Some(week), day, None) if week.starts_with('W') => {
            let week = fixed_number(&week[1..], 2)?;
            let day = match day {
                Some(d) => fixed_number(d, 1)?,
                None => 1,
            };
            let weekday =
                chrono::Weekday::try_from(u8::try_from(day.checked_sub(1)?).ok()?).ok()?;
            NaiveDate::from_isoywd_opt(year, week, weekday)
        }
        (Some(ordinal), None, _) if ordinal.len() == 3 => {
            NaiveDate::from_yo_opt(year, fixed_number(ordinal, 3)?)
        }
        (Some(month), None, _) => NaiveDate::from_ymd_opt(year, fixed_number(month, 2)?, 1),
        (Some(month), Some(day), None) => {
            NaiveDate::from_ymd_opt(year, fixed_number(month, 2)?, fixed_number(day, 2)?)
        }
        _ => None,
    }
}

fn utc(millis: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(millis).single()
}

fn date_part(args: &ScalarFunctionArgs, part: fn(&DateTime<Utc>) -> i64) -> Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(&args.args)?;
    let out: Int64Array = millis_array(&arrays[0])?
        .iter()
        .map(|ms| ms.and_then(utc).map(|t| part(&t)))
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

macro_rules! date_part_function {
    ($(#[$doc:meta])* $ty:ident, $name:literal, [$($alias:literal),*], $part:expr) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub struct $ty {
            signature: Signature,
            aliases: Vec<String>,
        }

        impl $ty {
            pub fn new() -> Self {
                Self {
                    signature: user_defined(),
                    aliases: vec![$($alias.to_string()),*],
                }
            }
        }

        default_from_new!($ty);

        impl ScalarUDFImpl for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn aliases(&self) -> &[String] {
                &self.aliases
            }
            fn signature(&self) -> &Signature {
                &self.signature
            }
            fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
                check_arity(self.name(), arg_types, &[1])?;
                Ok(vec![timestamp_parameter(self.name(), &arg_types[0])?])
            }
            fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
                Ok(DataType::Int64)
            }
            fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
                date_part(&args, $part)
            }
        }
    };
}

date_part_function!(
    /// `year(ts)`.
    Year, "year", [], |t| i64::from(t.year())
);
date_part_function!(
    /// `quarter(ts)`: 1–4.
    Quarter, "quarter", [], |t| i64::from(t.month0() / 3 + 1)
);
date_part_function!(
    /// `month(ts)`: 1–12.
    Month, "month", [], |t| i64::from(t.month())
);
date_part_function!(
    /// `week(ts)`, `week_of_year(ts)`: the ISO 8601 week, 1–53.
    Week, "week", ["week_of_year"], |t| i64::from(t.iso_week().week())
);
date_part_function!(
    /// `year_of_week(ts)`, `yow(ts)`: the year the ISO week belongs to.
    YearOfWeek, "year_of_week", ["yow"], |t| i64::from(t.iso_week().year())
);
date_part_function!(
    /// `day(ts)`, `day_of_month(ts)`: 1–31.
    Day, "day", ["day_of_month"], |t| i64::from(t.day())
);
date_part_function!(
    /// `day_of_week(ts)`, `dow(ts)`: ISO, Monday = 1 … Sunday = 7.
    DayOfWeek, "day_of_week", ["dow"], |t| i64::from(t.weekday().number_from_monday())
);
date_part_function!(
    /// `day_of_year(ts)`, `doy(ts)`: 1–366.
    DayOfYear, "day_of_year", ["doy"], |t| i64::from(t.ordinal())
);
date_part_function!(
    /// `hour(ts)`: 0–23.
    Hour, "hour", [], |t| i64::from(t.hour())
);
date_part_function!(
    /// `minute(ts)`: 0–59.
    Minute, "minute", [], |t| i64::from(t.minute())
);
date_part_function!(
    /// `second(ts)`: 0–59.
    Second, "second", [], |t| i64::from(t.second())
);
date_part_function!(
    /// `millisecond(ts)`: 0–999.
    Millisecond, "millisecond", [], |t| i64::from(t.timestamp_subsec_millis())
);

/// The functions of this module, for [`super::register`].
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(ParseDatetime::new()),
        ScalarUDF::new_from_impl(DateParse::new()),
        ScalarUDF::new_from_impl(FromUnixtime::new()),
        ScalarUDF::new_from_impl(FromIso8601Date::new()),
        ScalarUDF::new_from_impl(Year::new()),
        ScalarUDF::new_from_impl(Quarter::new()),
        ScalarUDF::new_from_impl(Month::new()),
        ScalarUDF::new_from_impl(Week::new()),
        ScalarUDF::new_from_impl(YearOfWeek::new()),
        ScalarUDF::new_from_impl(Day::new()),
        ScalarUDF::new_from_impl(DayOfWeek::new()),
        ScalarUDF::new_from_impl(DayOfYear::new()),
        ScalarUDF::new_from_impl(Hour::new()),
        ScalarUDF::new_from_impl(Minute::new()),
        ScalarUDF::new_from_impl(Second::new()),
        ScalarUDF::new_from_impl(Millisecond::new()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_dates_in_every_form_trino_reads() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(parse_iso8601_date("2021-09-08"), d(2021, 9, 8));
        assert_eq!(parse_iso8601_date("2021-09"), d(2021, 9, 1));
        assert_eq!(parse_iso8601_date("2021"), d(2021, 1, 1));
        assert_eq!(parse_iso8601_date("2021-251"), d(2021, 9, 8));
        assert_eq!(parse_iso8601_date("2021-W36-3"), d(2021, 9, 8));
        assert_eq!(parse_iso8601_date("2021-W36"), d(2021, 9, 6));
        for bad in [
            "2021-9-8",
            "2021-02-30",
            "21-09-08",
            "2021-09-08T00:00",
            "",
            "2021-W36-8",
        ] {
            assert_eq!(parse_iso8601_date(bad), None, "{bad}");
        }
        assert_eq!(
            epoch_days(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()),
            Some(1)
        );
    }

    #[test]
    fn fractional_seconds_round_to_the_millisecond() {
        assert_eq!(seconds_to_millis(1.5), Some(1_500));
        assert_eq!(seconds_to_millis(1.0006), Some(1_001));
        assert_eq!(seconds_to_millis(-0.25), Some(-250));
        assert_eq!(seconds_to_millis(f64::NAN), None);
        assert_eq!(seconds_to_millis(1e300), None);
    }
}
