//! Amazon Security Lake's copies of a trail: OCSF API Activity rows in Parquet files
//! (`aws/CLOUD_TRAIL_MGMT/<version>/region=…/accountId=…/eventDay=…/*.gz.parquet`), read back
//! into CloudTrail records.
//!
//! Each row is turned into the JSON record CloudTrail would have written (the OCSF fields put
//! back under their CloudTrail names), and the file's records go through the same decoding as a
//! trail file's. That costs a JSON round trip per row, and reuses every column's reading as is.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use serde_json::{Map, Value};

use crate::decode::FileDamage;

const PARQUET_MAGIC: &[u8] = b"PAR1";

/// Whether `bytes` are a Parquet file: `PAR1` at its start and its end, whatever its name.
pub(crate) fn is_parquet(bytes: &[u8]) -> bool {
    bytes.len() >= 2 * PARQUET_MAGIC.len()
        && bytes.starts_with(PARQUET_MAGIC)
        && bytes.ends_with(PARQUET_MAGIC)
}

/// The records of an OCSF Parquet file as the text of a trail file, `{"Records":[...]}`.
pub(crate) fn records_text(bytes: Vec<u8>) -> Result<String, FileDamage> {
    let unreadable = |e: parquet::errors::ParquetError| {
        FileDamage::NotCloudTrail(format!("a Parquet file that cannot be read: {e}"))
    };
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(bytes),
    )
    .map_err(unreadable)?;
    let schema = builder.schema().clone();
    let is_ocsf = schema.field_with_name("class_uid").is_ok()
        && schema
            .field_with_name("api")
            .is_ok_and(|api| matches!(api.data_type(), DataType::Struct(_)));
    if !is_ocsf {
        return Err(FileDamage::NotCloudTrail(
            "a Parquet file without OCSF API Activity columns".into(),
        ));
    }
    let mut records = Vec::new();
    for batch in builder.build().map_err(unreadable)? {
        let batch = batch.map_err(|e| {
            FileDamage::NotCloudTrail(format!("a Parquet file that cannot be read: {e}"))
        })?;
        for row in 0..batch.num_rows() {
            records.push(trail_record(&row_value(&batch, row)));
        }
    }
    Ok(serde_json::json!({ "Records": records }).to_string())
}

/// One row as a JSON object of its columns.
fn row_value(batch: &RecordBatch, row: usize) -> Value {
    let schema = batch.schema();
    let object = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, column)| (field.name().clone(), value_at(column.as_ref(), row)))
        .collect();
    Value::Object(object)
}

/// The value of `array` at `row` as JSON; a type no OCSF column of a trail has reads as null.
fn value_at(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => number::<arrow_array::types::Int8Type>(array, row),
        DataType::Int16 => number::<arrow_array::types::Int16Type>(array, row),
        DataType::Int32 => number::<arrow_array::types::Int32Type>(array, row),
        DataType::Int64 => number::<arrow_array::types::Int64Type>(array, row),
        DataType::UInt8 => number::<arrow_array::types::UInt8Type>(array, row),
        DataType::UInt16 => number::<arrow_array::types::UInt16Type>(array, row),
        DataType::UInt32 => number::<arrow_array::types::UInt32Type>(array, row),
        DataType::UInt64 => number::<arrow_array::types::UInt64Type>(array, row),
        DataType::Float32 => f64::from(
            array
                .as_primitive::<arrow_array::types::Float32Type>()
                .value(row),
        )
        .into(),
        DataType::Float64 => number::<arrow_array::types::Float64Type>(array, row),
        // OCSF times are epoch milliseconds; a Parquet timestamp column is read as such.
        DataType::Timestamp(unit, _) => {
            use arrow_array::types::{
                TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
                TimestampSecondType,
            };
            let millis = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1000),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row) / 1000
                }
                TimeUnit::Nanosecond => {
                    array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000_000
                }
            };
            millis.into()
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).into(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).into(),
        DataType::Utf8View => array.as_string_view().value(row).into(),
        DataType::List(_) => list_value(&array.as_list::<i32>().value(row)),
        DataType::LargeList(_) => list_value(&array.as_list::<i64>().value(row)),
        DataType::Struct(fields) => {
            let array = array.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(array.columns())
                    .map(|(field, column)| (field.name().clone(), value_at(column.as_ref(), row)))
                    .collect(),
            )
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            Value::Object(
                (0..entries.len())
                    .filter_map(|i| match value_at(keys.as_ref(), i) {
                        Value::String(key) => Some((key, value_at(values.as_ref(), i))),
                        _ => None,
                    })
                    .collect(),
            )
        }
        _ => Value::Null,
    }
}

/// A number column's value at `row`.
fn number<T: arrow_array::ArrowPrimitiveType>(array: &dyn Array, row: usize) -> Value
where
    T::Native: Into<Value>,
{
    array.as_primitive::<T>().value(row).into()
}

fn list_value(items: &dyn Array) -> Value {
    Value::Array((0..items.len()).map(|i| value_at(items, i)).collect())
}

/// The CloudTrail record an OCSF API Activity row was made from, as far as the row tells.
fn trail_record(row: &Value) -> Value {
    let text = |pointer: &str| {
        row.pointer(pointer)
            .filter(|value| !value.is_null())
            .cloned()
    };
    let mut record = Map::new();
    let mut put = |path: &[&str], value: Option<Value>| {
        if let Some(value) = value {
            insert_at(&mut record, path, value);
        }
    };
    // Source version 1 (OCSF 1.0.0-rc.2) has the ARN in `uuid` and the principal ID in `uid`;
    // version 2 (OCSF 1.1.0) has the ARN in `uid` and the principal ID in `uid_alt`.
    let (arn, principal_id) = match text("/actor/user/uuid") {
        Some(arn) => (
            Some(arn),
            text("/actor/user/uid_alt").or_else(|| text("/actor/user/uid")),
        ),
        None => (text("/actor/user/uid"), text("/actor/user/uid_alt")),
    };
    put(&["userIdentity", "arn"], arn);
    put(&["userIdentity", "principalId"], principal_id);
    put(
        &["userIdentity", "accessKeyId"],
        text("/actor/user/credential_uid"),
    );
    put(&["userIdentity", "type"], text("/actor/user/type"));
    put(&["userIdentity", "userName"], text("/actor/user/name"));
    put(
        &["userIdentity", "accountId"],
        text("/actor/user/account/uid").or_else(|| text("/actor/user/account_uid")),
    );
    put(
        &["userIdentity", "sessionContext", "sessionIssuer", "arn"],
        text("/actor/session/issuer"),
    );
    put(&["eventName"], text("/api/operation"));
    put(&["eventSource"], text("/api/service/name"));
    put(&["errorCode"], text("/api/response/error"));
    put(&["errorMessage"], text("/api/response/message"));
    put(
        &["requestParameters"],
        text("/api/request/data").map(json_text),
    );
    put(
        &["responseElements"],
        text("/api/response/data").map(json_text),
    );
    put(&["requestID"], text("/api/request/uid"));
    put(&["sourceIPAddress"], text("/src_endpoint/ip"));
    put(&["vpcEndpointId"], text("/src_endpoint/uid"));
    put(&["userAgent"], text("/http_request/user_agent"));
    put(&["awsRegion"], text("/cloud/region"));
    put(&["recipientAccountId"], text("/cloud/account/uid"));
    put(&["eventID"], text("/metadata/uid"));
    put(&["eventType"], text("/metadata/event_code"));
    put(&["eventVersion"], text("/metadata/product/version"));
    put(
        &["eventTime"],
        text("/time")
            .and_then(|time| time.as_i64())
            .and_then(trail_time)
            .map(Value::String),
    );
    // What OCSF has no field for is kept under `unmapped`, by its CloudTrail name.
    if let Some(Value::Object(unmapped)) = row.get("unmapped") {
        for field in ["readOnly", "eventCategory", "managementEvent", "apiVersion"] {
            if !record.contains_key(field)
                && let Some(value) = unmapped.get(field).filter(|value| !value.is_null())
            {
                record.insert(field.to_owned(), value.clone());
            }
        }
    }
    Value::Object(record)
}

/// JSON text (`api.request.data` is a string) as the document it holds; other values as they
/// are.
fn json_text(value: Value) -> Value {
    match value {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    }
}

/// Epoch milliseconds as CloudTrail writes a time: `2019-10-29T06:41:48Z`.
fn trail_time(millis: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Puts `value` at `path` in `object`, making the objects on the way.
fn insert_at(object: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            object.insert((*last).to_owned(), value);
        }
        [first, rest @ ..] => {
            let slot = object
                .entry(*first)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                insert_at(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_cloudtrail_writes_them() {
        assert_eq!(
            trail_time(1_572_331_308_123).as_deref(),
            Some("2019-10-29T06:41:48Z")
        );
    }

    #[test]
    fn version_one_arns_in_uuid_are_read() {
        let row = serde_json::json!({"actor": {"user": {
            "uuid": "arn:aws:iam::1:user/a", "uid": "AIDAEXAMPLE", "account_uid": "1"
        }}});
        let record = trail_record(&row);
        assert_eq!(
            record.pointer("/userIdentity/arn"),
            Some(&Value::from("arn:aws:iam::1:user/a"))
        );
        assert_eq!(
            record.pointer("/userIdentity/principalId"),
            Some(&Value::from("AIDAEXAMPLE"))
        );
        assert_eq!(
            record.pointer("/userIdentity/accountId"),
            Some(&Value::from("1"))
        );
    }
}
