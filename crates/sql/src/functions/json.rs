//! Athena's JSON functions over JSON text (`requestparameters` and the other document columns):
//! a JSONPath subset and Trino's rules for what counts as a scalar.

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

fn walk<'v>(value: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
    steps.iter().try_fold(value, |v, step| match step {
        PathStep::Key(k) => v.get(k.as_str()),
        PathStep::Index(i) => v.get(*i),
    })
}

/// `json_extract_scalar`: the string, number or boolean at the path, as text; NULL for objects,
/// arrays, JSON null, a missing path or text that is not JSON.
pub fn extract_scalar(json: &str, steps: &[PathStep]) -> Option<String> {
    let value: Value = serde_json::from_str(json).ok()?;
    match walk(&value, steps)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `json_extract`: the JSON text of the value at the path; NULL for a missing path or bad JSON.
pub fn extract(json: &str, steps: &[PathStep]) -> Option<String> {
    let value: Value = serde_json::from_str(json).ok()?;
    walk(&value, steps).map(Value::to_string)
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
