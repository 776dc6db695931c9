//! The queries behind ctq's commands, with their parameters as placeholders, never as text.

use crate::window::{Instant, TimeWindow};

/// Which denials a canned query reads. Each filter is in the SQL only when its value is given, and
/// every value is bound as a parameter, never pasted into the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenialFilter {
    /// A principal ARN: `$arn` in `ctq denials`' query; `$principal` in `ctq explain`'s, where a
    /// role ARN matches every session of the role.
    pub principal: Option<String>,
    pub from: Option<Instant>,
    pub to: Option<Instant>,
}

impl DenialFilter {
    /// Every principal's denials in `window`.
    pub fn in_window(window: &TimeWindow) -> Self {
        DenialFilter {
            principal: None,
            from: Some(window.from()),
            to: Some(window.to()),
        }
    }

    /// `ctq denials`: the knowledge-center query and its parameters.
    pub fn denials_query(&self) -> (String, Vec<(String, String)>) {
        (denials_sql_for(self.present()), self.params("arn"))
    }

    /// `ctq explain`: the denials with the record fields the triage reads, and the parameters.
    pub fn explain_query(&self) -> (String, Vec<(String, String)>) {
        (explain_sql(self.present()), self.params("principal"))
    }

    fn present(&self) -> Present {
        Present {
            principal: self.principal.is_some(),
            from: self.from.is_some(),
            to: self.to.is_some(),
        }
    }

    fn params(&self, principal_name: &str) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if let Some(principal) = &self.principal {
            params.push((principal_name.to_string(), principal.clone()));
        }
        for (name, instant) in [("from", self.from), ("to", self.to)] {
            if let Some(instant) = instant {
                params.push((name.to_string(), instant.to_string()));
            }
        }
        params
    }
}

/// Which filters a query holds.
#[derive(Debug, Clone, Copy)]
struct Present {
    principal: bool,
    from: bool,
    to: bool,
}

/// The knowledge-center query for access denials (AWS's Athena example), as `ctq denials` runs
/// it: each filter is present only when asked for, and values are `$arn`, `$from`, `$to`
/// placeholders. [`DenialFilter::denials_query`] gives it with its parameters.
pub fn denials_sql(by_arn: bool, from: bool, to: bool) -> String {
    denials_sql_for(Present {
        principal: by_arn,
        from,
        to,
    })
}

fn denials_sql_for(present: Present) -> String {
    let mut filters = window_filters(present);
    if present.principal {
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

/// The denials `ctq explain` reads, with the record fields its triage needs; a role ARN as
/// `$principal` matches every session of the role through its session issuer.
fn explain_sql(present: Present) -> String {
    let mut filters = vec![
        "errorcode IS NOT NULL",
        "(lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%')",
    ];
    filters.extend(window_filters(present));
    if present.principal {
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

fn window_filters(present: Present) -> Vec<&'static str> {
    let mut filters = Vec::new();
    if present.from {
        filters.push("from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)");
    }
    if present.to {
        filters.push("from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)");
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_appear_only_when_given() {
        let all = denials_sql(true, true, true);
        assert!(all.contains("$arn") && all.contains("$from") && all.contains("$to"));
        let none = denials_sql(false, false, false);
        assert!(!none.contains('$'));
        assert!(none.contains("eventtype = 'AwsApiCall'"));
    }

    #[test]
    fn sql_and_parameters_come_from_the_same_values() {
        let from = Instant::parse_iso8601("2019-10-29T06:40:00Z").unwrap();
        let to = Instant::parse_iso8601("2019-10-29T06:55:00Z").unwrap();
        let window = DenialFilter::in_window(&TimeWindow::new(from, to).unwrap());
        let (sql, params) = window.explain_query();
        assert!(sql.contains("$from") && sql.contains("$to") && !sql.contains("$principal"));
        assert_eq!(
            params,
            [
                ("from".to_string(), "2019-10-29T06:40:00.000Z".to_string()),
                ("to".to_string(), "2019-10-29T06:55:00.000Z".to_string()),
            ]
        );
        let principal = DenialFilter {
            principal: Some("arn:aws:iam::123456789012:role/r".into()),
            ..DenialFilter::default()
        };
        let (sql, params) = principal.explain_query();
        assert!(sql.contains("$principal") && !sql.contains("$from"));
        assert_eq!(params[0].0, "principal");
        let (sql, params) = principal.denials_query();
        assert_eq!(sql, denials_sql(true, false, false));
        assert_eq!(params[0].0, "arn");
        let (sql, params) = DenialFilter::default().explain_query();
        assert!(!sql.contains('$') && params.is_empty());
    }
}
