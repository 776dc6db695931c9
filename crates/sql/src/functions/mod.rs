//! Athena's functions that CloudTrail queries use, with Athena's semantics, registered on a
//! DataFusion session. Functions DataFusion already has with the same meaning (`lower`,
//! `cardinality`, `regexp_like`, `split_part`, `strpos`...) are left to it. ctq's own functions
//! that explain denials are in [`denial`]. Trino functions that Athena CloudTrail queries use
//! beyond these are in [`trino_time`], [`strings`], [`ip`] and [`json_map`], one
//! `ScalarUDFImpl` each.

mod common;
pub mod datetime_pattern;
pub mod denial;
pub mod ip;
pub mod json;
pub mod json_map;
pub mod strings;
pub mod time;
pub mod trino_time;

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray, StringBuilder,
    TimestampMillisecondArray, UInt32Array, new_null_array,
};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, TimeUnit as ArrowTimeUnit};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use self::time::TimeUnit;

/// The SQL type of `timestamp(3) with time zone`.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(ArrowTimeUnit::Millisecond, Some("UTC".into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    FromIso8601Timestamp,
    ToIso8601,
    DateAdd,
    DateDiff,
    DateFormat,
    ToUnixtime,
    JsonExtractScalar,
    JsonExtract,
    JsonArrayLength,
    ElementAt,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::FromIso8601Timestamp,
        Kind::ToIso8601,
        Kind::DateAdd,
        Kind::DateDiff,
        Kind::DateFormat,
        Kind::ToUnixtime,
        Kind::JsonExtractScalar,
        Kind::JsonExtract,
        Kind::JsonArrayLength,
        Kind::ElementAt,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::FromIso8601Timestamp => "from_iso8601_timestamp",
            Kind::ToIso8601 => "to_iso8601",
            Kind::DateAdd => "date_add",
            Kind::DateDiff => "date_diff",
            Kind::DateFormat => "date_format",
            Kind::ToUnixtime => "to_unixtime",
            Kind::JsonExtractScalar => "json_extract_scalar",
            Kind::JsonExtract => "json_extract",
            Kind::JsonArrayLength => "json_array_length",
            Kind::ElementAt => "element_at",
        }
    }

    /// Argument types the call is cast to; the arity check is here too.
    fn parameter_types(self, given: &[DataType]) -> Result<Vec<DataType>> {
        let ts = timestamp_type();
        let text = DataType::Utf8;
        let expected: Vec<DataType> = match self {
            Kind::FromIso8601Timestamp | Kind::JsonArrayLength => vec![text],
            Kind::ToIso8601 | Kind::ToUnixtime => vec![ts],
            Kind::DateAdd => vec![text, DataType::Int64, ts],
            Kind::DateDiff => vec![text, ts.clone(), ts],
            Kind::DateFormat => vec![ts, text],
            Kind::JsonExtractScalar | Kind::JsonExtract => vec![text.clone(), text],
            Kind::ElementAt => match given.first() {
                Some(DataType::Map(..)) => vec![given[0].clone(), DataType::Utf8],
                Some(DataType::List(_) | DataType::LargeList(_)) => {
                    vec![given[0].clone(), DataType::Int64]
                }
                other => return plan_err!("element_at takes an array or a map, not {other:?}"),
            },
        };
        if given.len() != expected.len() {
            return plan_err!(
                "{}() takes {} arguments, {} given",
                self.name(),
                expected.len(),
                given.len()
            );
        }
        Ok(expected)
    }

    fn return_type(self, args: &[DataType]) -> Result<DataType> {
        Ok(match self {
            Kind::FromIso8601Timestamp | Kind::DateAdd => timestamp_type(),
            Kind::ToIso8601 | Kind::DateFormat | Kind::JsonExtractScalar | Kind::JsonExtract => {
                DataType::Utf8
            }
            Kind::DateDiff | Kind::JsonArrayLength => DataType::Int64,
            Kind::ToUnixtime => DataType::Float64,
            Kind::ElementAt => match args.first() {
                Some(DataType::List(item) | DataType::LargeList(item)) => item.data_type().clone(),
                Some(DataType::Map(entries, _)) => match entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => kv[1].data_type().clone(),
                    _ => return plan_err!("element_at: malformed map type"),
                },
                other => return plan_err!("element_at takes an array or a map, not {other:?}"),
            },
        })
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct AthenaFunction {
    kind: Kind,
    signature: Signature,
}

fn strings(array: &ArrayRef) -> Result<StringArray> {
    Ok(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
}

fn millis(array: &ArrayRef) -> Result<TimestampMillisecondArray> {
    Ok(cast(array, &timestamp_type())?
        .as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
        .clone())
}

fn unit_of(name: &str, text: Option<&str>) -> Result<Option<TimeUnit>> {
    match text {
        None => Ok(None),
        Some(t) => TimeUnit::parse(t).map(Some).ok_or_else(|| {
            DataFusionError::Execution(format!(
                "{name}: unknown unit '{t}'; use millisecond, second, minute, hour, day, week, month, quarter or year"
            ))
        }),
    }
}

impl ScalarUDFImpl for AthenaFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.kind.parameter_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.kind.return_type(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // A constant that is not a timestamp is a mistake in the query or a parameter, not in
        // the data: say so instead of quietly matching nothing. Column values stay lenient.
        if self.kind == Kind::FromIso8601Timestamp
            && let Some(ColumnarValue::Scalar(constant)) = args.args.first()
            && let Some(Some(text)) = constant.try_as_str()
            && time::parse_iso8601_millis(text).is_none()
        {
            return exec_err!(
                "from_iso8601_timestamp: {text:?} is not an ISO 8601 timestamp; write it like 2019-10-29T06:40:00Z"
            );
        }
        // The path is nearly always a constant: parse it once and leave it unrepeated, rather
        // than copied onto every row as `values_to_arrays` would.
        if matches!(self.kind, Kind::JsonExtractScalar | Kind::JsonExtract)
            && let [ColumnarValue::Array(docs), ColumnarValue::Scalar(path)] = args.args.as_slice()
        {
            let docs = strings(docs)?;
            let Some(Some(path)) = path.try_as_str() else {
                return Ok(ColumnarValue::Array(new_null_array(
                    &DataType::Utf8,
                    docs.len(),
                )));
            };
            let steps = json::parse_path(path).map_err(DataFusionError::Execution)?;
            let mut out = StringBuilder::with_capacity(docs.len(), 0);
            for doc in &docs {
                out.append_option(doc.and_then(|doc| {
                    if self.kind == Kind::JsonExtract {
                        json::extract(doc, &steps)
                    } else {
                        json::extract_scalar(doc, &steps)
                    }
                }));
            }
            return Ok(ColumnarValue::Array(Arc::new(out.finish())));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let result: ArrayRef = match self.kind {
            Kind::FromIso8601Timestamp => {
                let text = strings(&arrays[0])?;
                let out: TimestampMillisecondArray = text
                    .iter()
                    .map(|v| v.and_then(time::parse_iso8601_millis))
                    .collect();
                Arc::new(out.with_timezone("UTC"))
            }
            Kind::ToIso8601 => {
                let ts = millis(&arrays[0])?;
                Arc::new(
                    ts.iter()
                        .map(|v| v.map(time::iso8601_text))
                        .collect::<StringArray>(),
                )
            }
            Kind::ToUnixtime => {
                let ts = millis(&arrays[0])?;
                Arc::new(
                    ts.iter()
                        .map(|v| v.map(|ms| ms as f64 / 1000.0))
                        .collect::<Float64Array>(),
                )
            }
            Kind::DateFormat => {
                let (ts, format) = (millis(&arrays[0])?, strings(&arrays[1])?);
                Arc::new(
                    ts.iter()
                        .zip(format.iter())
                        .map(|(t, f)| time::mysql_format(t?, f?))
                        .collect::<StringArray>(),
                )
            }
            Kind::DateAdd => {
                let units = strings(&arrays[0])?;
                let amounts = arrays[1].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                let ts = millis(&arrays[2])?;
                let mut out = Vec::with_capacity(ts.len());
                for i in 0..ts.len() {
                    let unit = unit_of("date_add", units.is_valid(i).then(|| units.value(i)))?;
                    out.push(match (unit, amounts.is_valid(i), ts.is_valid(i)) {
                        (Some(u), true, true) => time::add_units(u, amounts.value(i), ts.value(i)),
                        _ => None,
                    });
                }
                Arc::new(TimestampMillisecondArray::from(out).with_timezone("UTC"))
            }
            Kind::DateDiff => {
                let units = strings(&arrays[0])?;
                let (from, to) = (millis(&arrays[1])?, millis(&arrays[2])?);
                let mut out = Vec::with_capacity(from.len());
                for i in 0..from.len() {
                    let unit = unit_of("date_diff", units.is_valid(i).then(|| units.value(i)))?;
                    out.push(match (unit, from.is_valid(i), to.is_valid(i)) {
                        (Some(u), true, true) => time::diff_units(u, from.value(i), to.value(i)),
                        _ => None,
                    });
                }
                Arc::new(Int64Array::from(out))
            }
            Kind::JsonExtractScalar | Kind::JsonExtract => {
                let (docs, paths) = (strings(&arrays[0])?, strings(&arrays[1])?);
                let mut parsed: Option<(String, Vec<json::PathStep>)> = None;
                let mut out = Vec::with_capacity(docs.len());
                for (doc, path) in docs.iter().zip(paths.iter()) {
                    let (Some(doc), Some(path)) = (doc, path) else {
                        out.push(None);
                        continue;
                    };
                    // The path is nearly always a literal: parse it once.
                    if parsed.as_ref().is_none_or(|(p, _)| p != path) {
                        let steps = json::parse_path(path).map_err(DataFusionError::Execution)?;
                        parsed = Some((path.to_string(), steps));
                    }
                    let steps = &parsed.as_ref().expect("set above").1;
                    out.push(if self.kind == Kind::JsonExtract {
                        json::extract(doc, steps)
                    } else {
                        json::extract_scalar(doc, steps)
                    });
                }
                Arc::new(StringArray::from(out))
            }
            Kind::JsonArrayLength => {
                let docs = strings(&arrays[0])?;
                Arc::new(
                    docs.iter()
                        .map(|d| d.and_then(json::array_length))
                        .collect::<Int64Array>(),
                )
            }
            Kind::ElementAt => element_at(&arrays[0], &arrays[1])?,
        };
        Ok(ColumnarValue::Array(result))
    }
}

/// `element_at(array, index)` (1-based, negative from the end) and `element_at(map, key)`; NULL
/// when out of range or absent, as Athena returns.
fn element_at(container: &ArrayRef, selector: &ArrayRef) -> Result<ArrayRef> {
    let mut indices: Vec<Option<u32>> = Vec::with_capacity(container.len());
    let values = match container.data_type() {
        DataType::List(_) => {
            let list = container.as_list::<i32>();
            let wanted = selector.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            for row in 0..list.len() {
                let (start, end) = (
                    i64::from(list.value_offsets()[row]),
                    i64::from(list.value_offsets()[row + 1]),
                );
                let len = end - start;
                let index = (list.is_valid(row) && wanted.is_valid(row))
                    .then(|| wanted.value(row))
                    .and_then(|i| match i {
                        0 => None,
                        i if i > 0 && i <= len => Some(start + i - 1),
                        i if i < 0 && -i <= len => Some(end + i),
                        _ => None,
                    });
                indices.push(index.map(|i| i as u32));
            }
            list.values().clone()
        }
        DataType::Map(..) => {
            let map = container.as_map();
            let keys = strings(map.keys())?;
            let wanted = strings(selector)?;
            for row in 0..map.len() {
                let (start, end) = (
                    map.value_offsets()[row] as usize,
                    map.value_offsets()[row + 1] as usize,
                );
                let index = (map.is_valid(row) && wanted.is_valid(row))
                    .then(|| wanted.value(row))
                    .and_then(|key| {
                        (start..end).find(|&i| keys.is_valid(i) && keys.value(i) == key)
                    });
                indices.push(index.map(|i| i as u32));
            }
            map.values().clone()
        }
        other => return exec_err!("element_at takes an array or a map, not {other}"),
    };
    Ok(take(values.as_ref(), &UInt32Array::from(indices), None)?)
}

/// The Trino functions of the submodules.
fn trino_functions() -> Vec<ScalarUDF> {
    let mut functions = trino_time::functions();
    functions.extend(strings::functions());
    functions.extend(ip::functions());
    functions.extend(json_map::functions());
    functions
}

/// Trino's `arbitrary(x)` is DataFusion's `any_value`.
const AGGREGATE_ALIASES: [(&str, &str); 1] = [("arbitrary", "any_value")];

/// Registers the Athena functions, replacing DataFusion's where the name is the same but the
/// meaning differs (`date_format` there is `to_char` with chrono patterns, `element_at` on a map
/// returns a list, `to_unixtime` an integer, `from_unixtime` drops fractions, `replace` needs
/// three arguments, `contains` is only a substring test).
pub fn register(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for kind in Kind::ALL {
        let function = AthenaFunction {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        };
        registry.register_udf(Arc::new(ScalarUDF::new_from_impl(function)))?;
    }
    for function in trino_functions() {
        registry.register_udf(Arc::new(function))?;
    }
    for (alias, name) in AGGREGATE_ALIASES {
        let aggregate = registry.udaf(name)?;
        registry.register_udaf(Arc::new(aggregate.as_ref().clone().with_aliases([alias])))?;
    }
    denial::register(registry)
}

/// Names of the functions [`register`] adds (aliases included), for documentation and
/// `ctq functions`-style listings.
pub fn names() -> impl Iterator<Item = &'static str> {
    Kind::ALL
        .into_iter()
        .map(Kind::name)
        .chain(TRINO_NAMES)
        .chain(AGGREGATE_ALIASES.into_iter().map(|(alias, _)| alias))
        .chain(denial::names())
}

/// The names and aliases of [`trino_functions`], in order (a test keeps the two in step).
const TRINO_NAMES: [&str; 31] = [
    "parse_datetime",
    "date_parse",
    "from_unixtime",
    "from_iso8601_date",
    "year",
    "quarter",
    "month",
    "week",
    "week_of_year",
    "year_of_week",
    "yow",
    "day",
    "day_of_month",
    "day_of_week",
    "dow",
    "day_of_year",
    "doy",
    "hour",
    "minute",
    "second",
    "millisecond",
    "replace",
    "regexp_extract",
    "regexp_extract_all",
    "split",
    "url_decode",
    "url_extract_host",
    "ipaddress",
    "ipaddress_text",
    "contains",
    "json_object_map",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_names_are_the_registered_ones() {
        let registered: Vec<String> = trino_functions()
            .iter()
            .flat_map(|f| std::iter::once(f.name().to_string()).chain(f.aliases().iter().cloned()))
            .collect();
        assert_eq!(registered, TRINO_NAMES);
    }
}
