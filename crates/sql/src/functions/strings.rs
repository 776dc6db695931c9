//! Trino's string functions that Athena CloudTrail queries use and DataFusion lacks or spells
//! differently: `replace` with two arguments, `regexp_extract`, `regexp_extract_all`, `split`,
//! `url_decode`, `url_extract_host`.
//!
//! Regular expressions are Rust's `regex` syntax (through DataFusion), which agrees with Trino's
//! Java-style syntax on what CloudTrail queries write but has no look-around or back-references.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, ListBuilder, StringArray, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::functions::regex::compile_regex;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::common::{
    check_arity, constant_text, default_from_new, is_text, text_array, text_parameter,
};

fn user_defined() -> Signature {
    Signature::user_defined(Volatility::Immutable)
}

fn text_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `replace(s, search)` removes every `search`; `replace(s, search, replacement)` is DataFusion's
/// (and Trino's) replace-all, which this delegates to.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Replace {
    signature: Signature,
}

impl Replace {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[2, 3])?;
        arg_types
            .iter()
            .map(|t| match t {
                // Keep the string representation DataFusion's replace is fastest on.
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(t.clone()),
                other => text_parameter(self.name(), other),
            })
            .collect()
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let mut types = arg_types.to_vec();
        types.resize(3, DataType::Utf8);
        datafusion::functions::string::replace().return_type(&types)
    }
    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() == 2 {
            args.args.push(ColumnarValue::Scalar(ScalarValue::Utf8(
                Some(String::new()),
            )));
            args.arg_fields
                .push(Arc::new(Field::new("replacement", DataType::Utf8, false)));
        }
        datafusion::functions::string::replace().invoke_with_args(args)
    }
}

/// Compiles each distinct pattern once per batch: a literal pattern is compiled once.
struct PatternCache<R> {
    last: Option<(String, R)>,
}

impl<R> PatternCache<R> {
    fn get(
        &mut self,
        function: &str,
        pattern: &str,
        compile: impl Fn(&str) -> std::result::Result<R, String>,
    ) -> Result<&R> {
        if self.last.as_ref().is_none_or(|(p, _)| p != pattern) {
            let compiled = compile(pattern).map_err(|why| {
                DataFusionError::Execution(format!(
                    "{function}: invalid pattern {pattern:?}: {why}"
                ))
            })?;
            self.last = Some((pattern.to_string(), compiled));
        }
        if let Some((_, compiled)) = &self.last {
            Ok(compiled)
        } else {
            exec_err!("{function}: pattern cache is empty")
        }
    }
}

fn regexp_coerce(function: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    check_arity(function, arg_types, &[2, 3])?;
    let mut types = vec![
        text_parameter(function, &arg_types[0])?,
        text_parameter(function, &arg_types[1])?,
    ];
    if let Some(group) = arg_types.get(2) {
        if !(group.is_integer() || group.is_null()) {
            return plan_err!("{function}() takes a group number, not {group}");
        }
        types.push(DataType::Int64);
    }
    Ok(types)
}

/// The group numbers of a call (0, the whole match, when none is given).
fn groups(arrays: &[ArrayRef], rows: usize) -> Result<Int64Array> {
    Ok(match arrays.get(2) {
        Some(group) => cast(group, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .clone(),
        None => Int64Array::from(vec![0; rows]),
    })
}

/// Trino's check of a group number against a pattern.
fn group_index(function: &str, group: i64, groups_in_pattern: usize) -> Result<usize> {
    let pattern_groups = groups_in_pattern.saturating_sub(1);
    match usize::try_from(group) {
        Err(_) => exec_err!("{function}: group cannot be negative"),
        Ok(g) if g > pattern_groups => exec_err!(
            "{function}: pattern has {pattern_groups} groups. Cannot access group {group}"
        ),
        Ok(g) => Ok(g),
    }
}

/// `regexp_extract(s, pattern)`: the first match, NULL when none; `regexp_extract(s, pattern,
/// group)`: that group of the first match (NULL when the group did not take part). A group the
/// pattern does not have is an error, as in Trino.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegexpExtract {
    signature: Signature,
}

impl RegexpExtract {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &'static str {
        "regexp_extract"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        regexp_coerce(self.name(), arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, patterns) = (text_array(&arrays[0])?, text_array(&arrays[1])?);
        let groups = groups(&arrays, texts.len())?;
        let mut cache = PatternCache { last: None };
        let mut out = Vec::with_capacity(texts.len());
        for row in 0..texts.len() {
            if texts.is_null(row) || patterns.is_null(row) || groups.is_null(row) {
                out.push(None);
                continue;
            }
            let regex = cache.get(self.name(), patterns.value(row), |p| {
                compile_regex(p, None).map_err(|e| e.to_string())
            })?;
            let group = group_index(self.name(), groups.value(row), regex.captures_len())?;
            out.push(
                regex
                    .captures(texts.value(row))
                    .and_then(|c| c.get(group))
                    .map(|m| m.as_str().to_string()),
            );
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
    }
}

/// `regexp_extract_all(s, pattern[, group])`: every match (or that group of every match, NULL
/// where it did not take part), as an array; empty when nothing matches.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegexpExtractAll {
    signature: Signature,
}

impl RegexpExtractAll {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for RegexpExtractAll {
    fn name(&self) -> &'static str {
        "regexp_extract_all"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        regexp_coerce(self.name(), arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(text_list_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, patterns) = (text_array(&arrays[0])?, text_array(&arrays[1])?);
        let groups = groups(&arrays, texts.len())?;
        let mut cache = PatternCache { last: None };
        let mut out = ListBuilder::new(StringBuilder::new());
        for row in 0..texts.len() {
            if texts.is_null(row) || patterns.is_null(row) || groups.is_null(row) {
                out.append(false);
                continue;
            }
            let regex = cache.get(self.name(), patterns.value(row), |p| {
                compile_regex(p, None).map_err(|e| e.to_string())
            })?;
            let group = group_index(self.name(), groups.value(row), regex.captures_len())?;
            for captures in regex.captures_iter(texts.value(row)) {
                out.values()
                    .append_option(captures.get(group).map(|m| m.as_str()));
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `split(s, delimiter[, limit])`: the pieces between delimiters, as an array; with a limit, at
/// most that many, the last holding the rest. An empty delimiter or a limit below 1 is an error,
/// as in Trino.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Split {
    signature: Signature,
}

impl Split {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for Split {
    fn name(&self) -> &'static str {
        "split"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        regexp_coerce(self.name(), arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(text_list_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, delimiters) = (text_array(&arrays[0])?, text_array(&arrays[1])?);
        let limits = arrays
            .get(2)
            .map(|l| cast(l, &DataType::Int64))
            .transpose()?;
        let limits = limits
            .as_ref()
            .map(datafusion::arrow::array::AsArray::as_primitive::<Int64Type>);
        let mut out = ListBuilder::new(StringBuilder::new());
        for row in 0..texts.len() {
            let limit = match limits {
                Some(l) if l.is_null(row) => None,
                Some(l) => Some(l.value(row)),
                None => Some(i64::MAX),
            };
            let (false, false, Some(limit)) = (texts.is_null(row), delimiters.is_null(row), limit)
            else {
                out.append(false);
                continue;
            };
            let delimiter = delimiters.value(row);
            if delimiter.is_empty() {
                return exec_err!("split: the delimiter may not be the empty string");
            }
            if limit < 1 {
                return exec_err!("split: limit must be positive, not {limit}");
            }
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            for piece in texts.value(row).splitn(limit, delimiter) {
                out.values().append_value(piece);
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// `application/x-www-form-urlencoded` decoding as Java's `URLDecoder` does it (Trino's
/// `url_decode`): `+` is a space, `%XX` a byte, bytes that are not UTF-8 become U+FFFD.
/// `None` for a malformed escape.
pub fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The host of a URL, as `java.net.URI.getHost()` gives it to Trino's `url_extract_host`:
/// `None` without a `scheme://` authority or when the host is not a name, an IPv4 address or a
/// bracketed IPv6 address.
pub fn url_host(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let mut scheme_chars = scheme.chars();
    if !scheme_chars.next()?.is_ascii_alphabetic()
        || !scheme_chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        &host_port[..=host_port.find(']')?]
    } else {
        host_port.split(':').next()?
    };
    let valid = if let Some(inner) = host.strip_prefix('[') {
        inner
            .trim_end_matches(']')
            .parse::<std::net::Ipv6Addr>()
            .is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !host.starts_with(['-', '.'])
    };
    valid.then_some(host)
}

/// `url_decode(s)`. A malformed escape in a constant is an error; in a column value, NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UrlDecode {
    signature: Signature,
}

impl UrlDecode {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for UrlDecode {
    fn name(&self) -> &'static str {
        "url_decode"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[1])?;
        Ok(vec![text_parameter(self.name(), &arg_types[0])?])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let Some(text) = constant_text(&args.args[0])
            && url_decode(text).is_none()
        {
            return exec_err!("url_decode: {text:?} has a malformed %-escape");
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: StringArray = text_array(&arrays[0])?
            .iter()
            .map(|t| t.and_then(url_decode))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `url_extract_host(url)`: the host, NULL when the URL has none.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UrlExtractHost {
    signature: Signature,
}

impl UrlExtractHost {
    pub fn new() -> Self {
        Self {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for UrlExtractHost {
    fn name(&self) -> &'static str {
        "url_extract_host"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name(), arg_types, &[1])?;
        if !is_text(&arg_types[0]) {
            return plan_err!("url_extract_host() takes text, not {}", arg_types[0]);
        }
        Ok(vec![DataType::Utf8])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: StringArray = text_array(&arrays[0])?
            .iter()
            .map(|t| t.and_then(url_host))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

default_from_new!(
    Replace,
    RegexpExtract,
    RegexpExtractAll,
    Split,
    UrlDecode,
    UrlExtractHost
);

/// The functions of this module, for [`super::register`].
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(Replace::new()),
        ScalarUDF::new_from_impl(RegexpExtract::new()),
        ScalarUDF::new_from_impl(RegexpExtractAll::new()),
        ScalarUDF::new_from_impl(Split::new()),
        ScalarUDF::new_from_impl(UrlDecode::new()),
        ScalarUDF::new_from_impl(UrlExtractHost::new()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding_follows_javas_url_decoder() {
        assert_eq!(
            url_decode("build%2Fapp+v1.zip").as_deref(),
            Some("build/app v1.zip")
        );
        assert_eq!(url_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(url_decode("%FF").as_deref(), Some("\u{FFFD}"));
        assert_eq!(url_decode("100%"), None);
        assert_eq!(url_decode("%zz"), None);
        assert_eq!(url_decode("%é"), None);
    }

    #[test]
    fn url_hosts_are_what_java_uri_finds() {
        assert_eq!(
            url_host("https://console.aws.amazon.com/iam/home?region=us-east-1#/roles"),
            Some("console.aws.amazon.com")
        );
        assert_eq!(
            url_host("https://user:pw@example.com:8443/x"),
            Some("example.com")
        );
        assert_eq!(url_host("http://10.1.2.3"), Some("10.1.2.3"));
        assert_eq!(url_host("http://[2001:db8::1]:80/"), Some("[2001:db8::1]"));
        assert_eq!(url_host("example.com/path"), None);
        assert_eq!(url_host("s3.amazonaws.com"), None);
        assert_eq!(url_host("https://bad host/"), None);
        assert_eq!(url_host("https:///path"), None);
    }

    #[test]
    fn group_numbers_are_checked_as_trino_checks_them() {
        assert_eq!(group_index("f", 1, 2).unwrap(), 1);
        assert_eq!(group_index("f", 0, 1).unwrap(), 0);
        assert!(
            group_index("f", 2, 2)
                .unwrap_err()
                .to_string()
                .contains("pattern has 1 groups. Cannot access group 2")
        );
        assert!(group_index("f", -1, 2).is_err());
    }
}
