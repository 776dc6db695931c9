//! Understanding one access denial.
//!
//! This crate owns the knowledge of what AWS writes when it refuses a request: which CloudTrail
//! error codes are denials at all ([`error_class`]), what the `errorMessage` of a denial says about
//! who was refused what and by which kind of policy ([`parse_message`] into a [`Denial`]), and what
//! an operator should do about it ([`advice::advise`]), and how a window's denials fold into the
//! few problems behind them ([`triage`]: grouping, duplicate deliveries, noise, suppressions).
//!
//! It works on plain strings, one record at a time, and never fails: a message it cannot read
//! gives a [`Denial`] with the unknown parts left empty. It does not read trails, run queries or
//! format output: `ctq-sql` calls into it per row (its denial functions), and `ctq-report` and the
//! binary hand it the rows they read.

pub mod advice;
mod arn;
mod message;
pub mod triage;

pub use advice::{Advice, Context, advise};
pub use arn::Arn;
pub use message::{Decision, Denial, PolicyType, parse_message};

/// What an error code means for triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Authorization refused the request: some policy did not allow it.
    Denial,
    /// The caller could not prove who it is (a failed console sign-in); no policy was consulted.
    AuthenticationFailure,
    /// Any other outcome, errors included (throttling, missing keys, bad parameters).
    NotDenial,
}

impl ErrorClass {
    /// A stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Denial => "denial",
            ErrorClass::AuthenticationFailure => "authentication_failure",
            ErrorClass::NotDenial => "not_denial",
        }
    }
}

/// Classifies a record by its `errorCode`, and for `ConsoleLogin` also by its `errorMessage`.
///
/// A denial is any code containing `accessdenied` or `unauthorized` in any case, which covers
/// `AccessDenied`, `AccessDeniedException`, `Client.UnauthorizedOperation`,
/// `UnauthorizedOperation`, `UnauthorizedException`, `VpceAccessDenied` and the per-service
/// variants (`Client.UnauthorizedAccess`, `S3AccessDenied`); it is the rule of AWS's own Athena
/// query for denials, so counts agree with it. A `ConsoleLogin` that failed with
/// `Failed authentication` is a wrong password or MFA code, whatever its code says, and no change
/// of policy would fix it, so it is never a denial.
pub fn error_class(
    error_code: Option<&str>,
    error_message: Option<&str>,
    event_name: Option<&str>,
) -> ErrorClass {
    if event_name == Some("ConsoleLogin")
        && error_message.is_some_and(|m| contains_ignore_case(m, "failed authentication"))
    {
        return ErrorClass::AuthenticationFailure;
    }
    match error_code {
        Some(code)
            if contains_ignore_case(code, "accessdenied")
                || contains_ignore_case(code, "unauthorized") =>
        {
            ErrorClass::Denial
        }
        _ => ErrorClass::NotDenial,
    }
}

/// Byte offset of the first ASCII-case-insensitive match of an ASCII `needle`.
///
/// The offset is always a char boundary: a match starts with an ASCII byte, and ASCII bytes never
/// occur inside a multi-byte UTF-8 sequence.
pub(crate) fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, pat) = (haystack.as_bytes(), needle.as_bytes());
    if pat.is_empty() {
        return Some(0);
    }
    hay.windows(pat.len())
        .position(|w| w.eq_ignore_ascii_case(pat))
}

pub(crate) fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    find_ignore_case(haystack, needle).is_some()
}

/// `s` without an ASCII-case-insensitive `prefix`, or `None` when it does not start with it.
pub(crate) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.as_bytes().get(..prefix.len())?;
    // Comparing against an ASCII prefix means a match ends on a char boundary.
    head.eq_ignore_ascii_case(prefix.as_bytes())
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// errorCode, errorMessage, eventName, and the class they make.
    type Row = (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        ErrorClass,
    );

    #[test]
    fn error_codes_classify() {
        let rows: &[Row] = &[
            (
                Some("AccessDenied"),
                None,
                Some("GetObject"),
                ErrorClass::Denial,
            ),
            (
                Some("AccessDeniedException"),
                None,
                None,
                ErrorClass::Denial,
            ),
            (
                Some("Client.UnauthorizedOperation"),
                None,
                None,
                ErrorClass::Denial,
            ),
            (
                Some("UnauthorizedOperation"),
                None,
                None,
                ErrorClass::Denial,
            ),
            (
                Some("UnauthorizedException"),
                None,
                None,
                ErrorClass::Denial,
            ),
            (Some("VpceAccessDenied"), None, None, ErrorClass::Denial),
            (
                Some("Client.UnauthorizedAccess"),
                None,
                None,
                ErrorClass::Denial,
            ),
            (Some("S3AccessDenied"), None, None, ErrorClass::Denial),
            (Some("accessdenied"), None, None, ErrorClass::Denial),
            (
                Some("ThrottlingException"),
                None,
                None,
                ErrorClass::NotDenial,
            ),
            (Some("NoSuchKey"), None, None, ErrorClass::NotDenial),
            (
                Some("NoSuchBucketPolicy"),
                None,
                None,
                ErrorClass::NotDenial,
            ),
            (Some(""), None, None, ErrorClass::NotDenial),
            (None, None, Some("GetObject"), ErrorClass::NotDenial),
            (
                None,
                Some("Failed authentication"),
                Some("ConsoleLogin"),
                ErrorClass::AuthenticationFailure,
            ),
            (
                Some("AccessDenied"),
                Some("Failed authentication"),
                Some("ConsoleLogin"),
                ErrorClass::AuthenticationFailure,
            ),
            // Only a console sign-in's message means a failed password.
            (
                Some("AccessDenied"),
                Some("Failed authentication"),
                Some("GetObject"),
                ErrorClass::Denial,
            ),
            (
                Some("AccessDenied"),
                None,
                Some("ConsoleLogin"),
                ErrorClass::Denial,
            ),
        ];
        for (code, message, event, want) in rows {
            assert_eq!(
                error_class(*code, *message, *event),
                *want,
                "{code:?} {message:?} {event:?}"
            );
        }
    }

    #[test]
    fn error_class_names_are_stable() {
        assert_eq!(ErrorClass::Denial.as_str(), "denial");
        assert_eq!(
            serde_json::to_string(&ErrorClass::AuthenticationFailure).unwrap(),
            "\"authentication_failure\""
        );
        assert_eq!(ErrorClass::NotDenial.as_str(), "not_denial");
    }

    #[test]
    fn case_insensitive_helpers_respect_char_boundaries() {
        assert_eq!(
            find_ignore_case("Ünïcode VPC Endpoint", "vpc endpoint"),
            Some(10)
        );
        assert_eq!(find_ignore_case("é", "e"), None);
        assert_eq!(strip_prefix_ignore_case("The role", "the "), Some("role"));
        assert_eq!(strip_prefix_ignore_case("ü", "u"), None);
        assert_eq!(strip_prefix_ignore_case("th", "the "), None);
    }
}
