//! The queries behind ctq's commands, with their parameters as placeholders, never as text.

use crate::SqlError;
use crate::functions::time::{iso8601_text, parse_iso8601_millis};

/// The knowledge-center query for access denials (AWS's Athena example), as `ctq denials` runs
/// it: each filter is present only when its value is given, and values are `$arn`, `$from`,
/// `$to` placeholders.
pub fn denials_sql(by_arn: bool, from: bool, to: bool) -> String {
    let mut filters = Vec::new();
    if from {
        filters.push("from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)");
    }
    if to {
        filters.push("from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)");
    }
    if by_arn {
        filters.push("useridentity.arn = $arn");
    }
    filters.extend([
        "eventtype = 'AwsApiCall'",
        "errorcode IS NOT NULL",
        "(lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%')",
    ]);
    format!(
        "SELECT from_iso8601_timestamp(eventtime) AS \"Time\", useridentity.arn AS \"Identity ARN\", \
         eventid AS \"Event ID\", eventsource AS \"Service\", eventname AS \"Action\", \
         errorcode AS \"Error\", errormessage AS \"Message\"\n\
         FROM cloudtrail\n\
         WHERE {}\n\
         ORDER BY eventtime DESC, eventid",
        filters.join("\n  AND ")
    )
}

/// The denials `ctq explain` reads, with the record fields its triage needs. Filters are present
/// only when their value is given (`$from`, `$to`, `$principal`); a role ARN as `$principal`
/// matches every session of the role through its session issuer.
pub fn explain_sql(principal: bool, from: bool, to: bool) -> String {
    let mut filters = vec![
        "errorcode IS NOT NULL",
        "(lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%')",
    ];
    if from {
        filters.push("from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)");
    }
    if to {
        filters.push("from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)");
    }
    if principal {
        filters.push(
            "(useridentity.arn = $principal OR useridentity.sessioncontext.sessionissuer.arn = $principal)",
        );
    }
    format!(
        "SELECT eventtime, eventid, eventsource, eventname, errorcode, errormessage, \
         useridentity.type AS identity_type, useridentity.arn AS principal_arn, \
         useridentity.invokedby AS invoked_by, \
         useridentity.sessioncontext.sessionissuer.arn AS session_issuer_arn, \
         sourceipaddress, useragent, requestparameters, \
         element_at(resources, 1)['arn'] AS resource_arn\n\
         FROM cloudtrail\n\
         WHERE {}",
        filters.join("\n  AND ")
    )
}

/// Reads a time given on the command line: ISO 8601 (`2019-10-29T06:40:00Z`, `2019-10-29`) or an
/// age relative to `now_millis` (`90s`, `15m`, `24h`, `7d`, `2w`). Returns it as ISO 8601 text in
/// UTC, the form `from_iso8601_timestamp` takes.
pub fn resolve_time(text: &str, now_millis: i64) -> Result<String, SqlError> {
    let trimmed = text.trim();
    if let Some(ms) = parse_iso8601_millis(trimmed) {
        return Ok(iso8601_text(ms));
    }
    let ago = parse_duration_ms(trimmed).ok_or_else(|| SqlError::Time {
        text: text.to_string(),
        reason: "expected ISO 8601 (2019-10-29T06:40:00Z) or an age such as 15m, 24h, 7d".into(),
    })?;
    Ok(iso8601_text(now_millis - ago))
}

/// A duration such as `90s`, `15m`, `24h`, `7d`, `2w`, in milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let amount: i64 = number.parse().ok()?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    amount.checked_mul(unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_or_relative() {
        let now = parse_iso8601_millis("2019-10-29T07:00:00Z").unwrap();
        assert_eq!(
            resolve_time("2019-10-29T06:40:00Z", now).unwrap(),
            "2019-10-29T06:40:00.000Z"
        );
        assert_eq!(
            resolve_time("2019-10-29", now).unwrap(),
            "2019-10-29T00:00:00.000Z"
        );
        assert_eq!(
            resolve_time("20m", now).unwrap(),
            "2019-10-29T06:40:00.000Z"
        );
        assert_eq!(resolve_time("1d", now).unwrap(), "2019-10-28T07:00:00.000Z");
        for bad in ["", "yesterday", "15x", "m"] {
            assert!(resolve_time(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_appear_only_when_given() {
        let all = denials_sql(true, true, true);
        assert!(all.contains("$arn") && all.contains("$from") && all.contains("$to"));
        let none = denials_sql(false, false, false);
        assert!(!none.contains('$'));
        assert!(none.contains("eventtype = 'AwsApiCall'"));
    }
}
