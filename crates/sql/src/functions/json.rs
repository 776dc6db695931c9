//! Athena's JSON functions over JSON text (`requestparameters` and the other document columns):
//! a JSONPath subset and Trino's rules for what counts as a scalar.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// Parses `$.a.b[0]["c d"]` (also `$['a']` and a bare `a.b`). Returns a message naming the
/// problem when the path is not understood.
pub fn parse_path(path: &str) -> Result<Vec<PathStep>, String> {
    let bad = |why: &str| format!("invalid JSON path '{path}': {why}");
    let mut s = path.trim();
    s = s.strip_prefix('$').unwrap_or(s);
    let mut steps = Vec::new();
    let mut first = !path.trim().starts_with('$');
    while !s.is_empty() {
        if let Some(rest) = s.strip_prefix('[') {
            let close = rest.find(']').ok_or_else(|| bad("missing ]"))?;
            let inner = rest[..close].trim();
            if let Some(quoted) = inner
                .strip_prefix('"')
                .and_then(|q| q.strip_suffix('"'))
                .or_else(|| inner.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')))
            {
                steps.push(PathStep::Key(quoted.to_string()));
            } else {
                let index = inner
                    .parse()
                    .map_err(|_| bad("an index must be a number"))?;
                steps.push(PathStep::Index(index));
            }
            s = &rest[close + 1..];
        } else {
            let rest = if first {
                s
            } else {
                s.strip_prefix('.').ok_or_else(|| bad("expected . or ["))?
            };
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(bad("empty key"));
            }
            steps.push(PathStep::Key(rest[..end].to_string()));
            s = &rest[end..];
        }
        first = false;
    }
    Ok(steps)
}

/// The value at `steps`, found in one pass over the text: every other value is skipped without
/// being built (an S3 request is read for its bucket name without allocating its other members).
/// `None` for a missing path or text that is not JSON: the whole text is still read, so a fault
/// after the value counts as it would for a parse into a tree, and of duplicate keys the last
/// counts, as in one.
fn value_at(json: &str, steps: &[PathStep]) -> Option<Value> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let found = PathSeed(steps).deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    found
}

/// Reads one value, keeping only what lies at the path's end.
struct PathSeed<'p>(&'p [PathStep]);

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        match self.0.split_first() {
            None => Value::deserialize(deserializer).map(Some),
            Some((step, rest)) => deserializer.deserialize_any(StepVisitor { step, rest }),
        }
    }
}

/// Takes one step into the value being read: a key of an object, an index of an array. A
/// scalar has nothing inside it.
struct StepVisitor<'p> {
    step: &'p PathStep,
    rest: &'p [PathStep],
}

impl<'de> Visitor<'de> for StepVisitor<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.step {
                PathStep::Key(wanted) if *key.0 == **wanted => {
                    found = map.next_value_seed(PathSeed(self.rest))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut index = 0;
        loop {
            if *self.step == PathStep::Index(index) {
                match seq.next_element_seed(PathSeed(self.rest))? {
                    Some(value) => found = value,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index += 1;
        }
        Ok(found)
    }
}

/// An object's key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// `json_extract_scalar`: the string, number or boolean at the path, as text; NULL for objects,
/// arrays, JSON null, a missing path or text that is not JSON.
pub fn extract_scalar(json: &str, steps: &[PathStep]) -> Option<String> {
    match value_at(json, steps)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `json_extract`: the JSON text of the value at the path; NULL for a missing path or bad JSON.
pub fn extract(json: &str, steps: &[PathStep]) -> Option<String> {
    value_at(json, steps).map(|value| value.to_string())
}

/// `json_array_length`: the length of the array at the top of the text.
pub fn array_length(json: &str) -> Option<i64> {
    match serde_json::from_str::<Value>(json).ok()? {
        Value::Array(items) => Some(items.len() as i64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the path finds when the whole text is parsed into a tree first: the meaning
    /// [`value_at`] keeps.
    fn value_in_tree(json: &str, steps: &[PathStep]) -> Option<Value> {
        let value: Value = serde_json::from_str(json).ok()?;
        steps
            .iter()
            .try_fold(&value, |v, step| match step {
                PathStep::Key(k) => v.get(k.as_str()),
                PathStep::Index(i) => v.get(*i),
            })
            .cloned()
    }

    /// Every path into `value`, each also followed by a step that finds nothing.
    fn paths_into(value: &Value, prefix: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        out.push(prefix.clone());
        for missing in [PathStep::Key("absent".into()), PathStep::Index(7)] {
            prefix.push(missing);
            out.push(prefix.clone());
            prefix.pop();
        }
        let children: Vec<(PathStep, &Value)> = match value {
            Value::Object(members) => members
                .iter()
                .map(|(k, v)| (PathStep::Key(k.clone()), v))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (PathStep::Index(i), v))
                .collect(),
            _ => Vec::new(),
        };
        for (step, child) in children {
            prefix.push(step);
            paths_into(child, prefix, out);
            prefix.pop();
        }
    }

    fn assert_same_as_tree(json: &str, steps: &[PathStep]) {
        assert_eq!(
            value_at(json, steps),
            value_in_tree(json, steps),
            "{steps:?} in {json}"
        );
    }

    #[test]
    fn one_pass_finds_what_a_tree_finds_in_odd_documents() {
        let documents = [
            r#"{"a":1,"a":{"b":2}}"#,
            r#"{"a":{"b":2},"a":3}"#,
            r#"{"a":[1,{"b":[true,null]}],"c":"x"}"#,
            r#"{"k\u0065y":"escaped","key":"plain"}"#,
            r#"{"a":1} trailing"#,
            r#"{"a":1,"b":}"#,
            r#"{"a":"found","b":[1,2"#,
            r#" [ {"a" : -0.5e3} , 18446744073709551615, -9223372036854775808 ] "#,
            r#""just a string""#,
            "null",
            "",
            r#"{"deep":{"deep":{"deep":{"deep":"end"}}}}"#,
        ];
        let paths = [
            "$",
            "$.a",
            "$.a.b",
            "$.a[1].b[0]",
            "$.a[1].b[1]",
            "$.key",
            "$.c",
            "$[0].a",
            "$[1]",
            "$[2]",
            "$[0]",
            "$.deep.deep.deep.deep",
            "$.deep.deep.missing",
            "$.a[0]",
        ];
        for document in documents {
            for path in paths {
                assert_same_as_tree(document, &parse_path(path).unwrap());
            }
        }
        assert_eq!(
            extract_scalar(r#"{"a":1,"a":{"b":2}}"#, &parse_path("$.a.b").unwrap()).as_deref(),
            Some("2"),
            "the last of duplicate keys counts"
        );
        assert_eq!(
            extract_scalar(r#"{"a":"found","b":[1,2"#, &parse_path("$.a").unwrap()),
            None,
            "text that is not JSON finds nothing, even before its fault"
        );
    }

    /// Every document of the bundled sample trail, compact and indented, at every path into it
    /// and past it.
    #[test]
    fn one_pass_finds_what_a_tree_finds_in_the_sample_trail() {
        use std::io::Read;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
        let mut stack = vec![root];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let raw = std::fs::read(&path).unwrap();
                let mut text = String::new();
                if raw.starts_with(&[0x1f, 0x8b]) {
                    flate2::read::MultiGzDecoder::new(&raw[..])
                        .read_to_string(&mut text)
                        .unwrap();
                } else {
                    text = String::from_utf8_lossy(&raw).into_owned();
                }
                let Ok(file) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let records = file["Records"].as_array().cloned().unwrap_or_default();
                for record in records {
                    for field in ["requestParameters", "responseElements", "userIdentity"] {
                        let document = &record[field];
                        if !document.is_object() {
                            continue;
                        }
                        let mut paths = Vec::new();
                        paths_into(document, &mut Vec::new(), &mut paths);
                        for text in [
                            document.to_string(),
                            serde_json::to_string_pretty(document).unwrap(),
                        ] {
                            for steps in &paths {
                                assert_same_as_tree(&text, steps);
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(
            checked > 1000,
            "only {checked} paths checked: is sample-logs/ there?"
        );
    }

    #[test]
    fn extracts_like_athena() {
        let doc = r#"{"bucketName":"b","n":3,"ok":true,"tags":[{"k":"a"}],"x y":{"z":null}}"#;
        let path = |p: &str| parse_path(p).unwrap();
        assert_eq!(
            extract_scalar(doc, &path("$.bucketName")).as_deref(),
            Some("b")
        );
        assert_eq!(extract_scalar(doc, &path("$.n")).as_deref(), Some("3"));
        assert_eq!(extract_scalar(doc, &path("$.ok")).as_deref(), Some("true"));
        assert_eq!(
            extract_scalar(doc, &path("$.tags[0].k")).as_deref(),
            Some("a")
        );
        assert_eq!(extract_scalar(doc, &path("$[\"x y\"].z")), None);
        assert_eq!(
            extract_scalar(doc, &path("$.tags")),
            None,
            "arrays are not scalars"
        );
        assert_eq!(
            extract(doc, &path("$.tags")).as_deref(),
            Some(r#"[{"k":"a"}]"#)
        );
        assert_eq!(extract(doc, &path("$.missing")), None);
        assert_eq!(extract_scalar("not json", &path("$.a")), None);
        assert_eq!(array_length(r"[1,2,3]"), Some(3));
        assert!(parse_path("$.a[").is_err());
        assert!(parse_path("$..a").is_err());
    }
}
