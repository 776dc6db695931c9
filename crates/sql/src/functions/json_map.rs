//! `json_object_map(text)`: a JSON object's top-level members as `map(varchar, varchar)`, the
//! shape CloudTrail Lake gives `requestParameters`, `responseElements`,
//! `additionalEventData` and the other document fields, so a query written for CloudTrail Lake
//! (`element_at(requestparameters, 'bucketName')`) runs over the JSON text ctq holds.

use std::sync::Arc;

use datafusion::arrow::array::{MapBuilder, MapFieldNames, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::Value;

use super::common::{check_arity, default_from_new, text_array, text_parameter};

/// `Map<Utf8, Utf8>` with the field names DataFusion and Arrow use (`entries`, `key`, `value`),
/// keys not nullable, not sorted.
pub fn text_map_type() -> DataType {
    let entries = Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

/// The members of a JSON object as (key, text): a string as itself, JSON null as `None`, any
/// other value as its compact JSON text. `None` when `json` is not an object. Members come in
/// key order (serde_json's map is ordered by key); a repeated key keeps its last value.
pub fn object_members(json: &str) -> Option<Vec<(String, Option<String>)>> {
    let Value::Object(members) = serde_json::from_str(json).ok()? else {
        return None;
    };
    Some(
        members
            .into_iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s),
                    other => Some(other.to_string()),
                };
                (key, text)
            })
            .collect(),
    )
}

/// `json_object_map(text)`: NULL for NULL or for text that is not a JSON object.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonObjectMap {
    signature: Signature,
}

impl JsonObjectMap {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonObjectMap {
    fn name(&self) -> &'static str {
        "json_object_map"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[1])?;
        Ok(vec![text_parameter(self.name(), &arg_types[0])?])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(text_map_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let names = MapFieldNames {
            entry: "entries".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let mut out = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
        for doc in &text_array(&arrays[0])? {
            match doc.and_then(object_members) {
                Some(members) => {
                    for (key, value) in members {
                        out.keys().append_value(key);
                        out.values().append_option(value);
                    }
                    out.append(true)?;
                }
                None => out.append(false)?,
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

default_from_new!(JsonObjectMap);

/// The functions of this module, for [`super::register`].
pub fn functions() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(JsonObjectMap::new())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Array;

    #[test]
    fn members_render_like_cloudtrail_lake() {
        let members = object_members(
            r#"{"bucketName":"b","n":3,"ok":true,"tags":[{"k":"a"}],"x":{"y":1.5},"gone":null,"n":4}"#,
        )
        .unwrap();
        let expected: Vec<(String, Option<String>)> = [
            ("bucketName", Some("b")),
            ("gone", None),
            ("n", Some("4")),
            ("ok", Some("true")),
            ("tags", Some(r#"[{"k":"a"}]"#)),
            ("x", Some(r#"{"y":1.5}"#)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect();
        assert_eq!(members, expected);
        assert_eq!(object_members("[1,2]"), None);
        assert_eq!(object_members("\"text\""), None);
        assert_eq!(object_members("not json"), None);
        assert_eq!(object_members("{}"), Some(vec![]));
    }

    #[test]
    fn the_builder_makes_the_declared_type() {
        let names = MapFieldNames {
            entry: "entries".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let mut builder = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
        builder.append(false).unwrap();
        assert_eq!(builder.finish().data_type(), &text_map_type());
    }
}
