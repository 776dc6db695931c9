//! Argument checks and conversions the Trino functions share.

use datafusion::arrow::array::{ArrayRef, AsArray, StringArray, TimestampMillisecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimestampMillisecondType};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::ColumnarValue;

use super::timestamp_type;

pub fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// The type a text argument is cast to: `Utf8`; anything else is a planning error.
pub fn text_parameter(function: &str, given: &DataType) -> Result<DataType> {
    if is_text(given) {
        Ok(DataType::Utf8)
    } else {
        plan_err!("{function}() takes text here, not {given}")
    }
}

/// The type a timestamp argument is cast to: `timestamp(3) with time zone` in UTC, from a
/// timestamp of any unit or zone or a date.
pub fn timestamp_parameter(function: &str, given: &DataType) -> Result<DataType> {
    match given {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 | DataType::Null => {
            Ok(timestamp_type())
        }
        other => plan_err!("{function}() takes a timestamp or a date, not {other}"),
    }
}

pub fn check_arity(function: &str, given: &[DataType], allowed: &[usize]) -> Result<()> {
    if allowed.contains(&given.len()) {
        return Ok(());
    }
    let counts: Vec<String> = allowed.iter().map(usize::to_string).collect();
    plan_err!(
        "{function}() takes {} arguments, {} given",
        counts.join(" or "),
        given.len()
    )
}

/// The text of a constant argument (a literal or a parameter), if it is one and not NULL.
pub fn constant_text(arg: &ColumnarValue) -> Option<&str> {
    match arg {
        ColumnarValue::Scalar(value) => value.try_as_str().flatten(),
        ColumnarValue::Array(_) => None,
    }
}

pub fn text_array(array: &ArrayRef) -> Result<StringArray> {
    Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
}

pub fn millis_array(array: &ArrayRef) -> Result<TimestampMillisecondArray> {
    Ok(cast(array, &timestamp_type())?
        .as_primitive::<TimestampMillisecondType>()
        .clone())
}

/// `Default` for function structs, which are built by `new()`.
macro_rules! default_from_new {
    ($($ty:ident),* $(,)?) => {
        $(impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        })*
    };
}
pub(crate) use default_from_new;
