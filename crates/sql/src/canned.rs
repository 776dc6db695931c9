//! The queries behind ctq's commands, with their parameters as placeholders, never as text.

use crate::window::{Instant, TimeWindow};

/// Which denials a canned query reads. Each filter is in the SQL only when its value is given, and
/// every value is bound as a parameter, never pasted into the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenialFilter {
    /// Who made the calls, as a person names a principal: see [`PrincipalMatcher`]. The same
    /// matching in every command.
    pub principal: Option<String>,
    /// Only records delivered for this account (`recipientaccountid`).
    pub account: Option<String>,
    /// Only records of this region (`awsregion`).
    pub region: Option<String>,
    pub from: Option<Instant>,
    pub to: Option<Instant>,
}

/// A principal as a person names it, read into `LIKE` patterns over `useridentity.arn` and the
/// session issuer's ARN (`useridentity.sessioncontext.sessionissuer.arn`):
///
/// - a full ARN matches itself, and the sessions it issued: a role's assumed-role sessions, an
///   IAM user's federated-user sessions (their session issuer is the user); a role ARN also
///   matches `arn:…:sts::ACCOUNT:assumed-role/NAME/*`, as a session's ARN drops the role's path;
/// - text with `*` is a glob over either ARN;
/// - a bare name matches `user/NAME`, `role/NAME` (with or without a path) and
///   `assumed-role/NAME/*` in any account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalMatcher {
    /// Patterns over `useridentity.arn`.
    pub arn_patterns: Vec<String>,
    /// Patterns over the session issuer's ARN.
    pub issuer_patterns: Vec<String>,
}

impl PrincipalMatcher {
    pub fn new(text: &str) -> Self {
        let text = text.trim();
        if text.contains('*') {
            let glob = glob_to_like(text);
            return PrincipalMatcher {
                arn_patterns: vec![glob.clone()],
                issuer_patterns: vec![glob],
            };
        }
        if text.starts_with("arn:") {
            let exact = escape_like(text);
            let mut arn_patterns = vec![exact.clone()];
            if let Some(session) = role_session_pattern(text) {
                arn_patterns.push(session);
            }
            return PrincipalMatcher {
                arn_patterns,
                issuer_patterns: vec![exact],
            };
        }
        let name = escape_like(text);
        PrincipalMatcher {
            arn_patterns: vec![
                format!("%:user/{name}"),
                format!("%:user/%/{name}"),
                format!("%:role/{name}"),
                format!("%:role/%/{name}"),
                format!("%:assumed-role/{name}/%"),
            ],
            issuer_patterns: vec![format!("%:role/{name}"), format!("%:role/%/{name}")],
        }
    }

    /// The SQL condition, its placeholders named `{prefix}_arn_N` and `{prefix}_issuer_N`.
    fn condition(&self, prefix: &str) -> String {
        let arn = (0..self.arn_patterns.len())
            .map(|i| format!("useridentity.arn LIKE ${prefix}_arn_{i}"));
        let issuer = (0..self.issuer_patterns.len()).map(|i| {
            format!("useridentity.sessioncontext.sessionissuer.arn LIKE ${prefix}_issuer_{i}")
        });
        format!("({})", arn.chain(issuer).collect::<Vec<_>>().join(" OR "))
    }

    fn params(&self, prefix: &str) -> Vec<(String, String)> {
        let arn = self
            .arn_patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("{prefix}_arn_{i}"), p.clone()));
        let issuer = self
            .issuer_patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("{prefix}_issuer_{i}"), p.clone()));
        arn.chain(issuer).collect()
    }
}

/// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/%` for a role ARN
/// (`arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`): a session's ARN names the role without its
/// path.
fn role_session_pattern(arn: &str) -> Option<String> {
    let arn = ctq_denial::Arn::parse(arn)?;
    let name = arn.resource.strip_prefix("role/")?.rsplit('/').next()?;
    (arn.service == "iam" && !name.is_empty()).then(|| {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/%",
            escape_like(arn.partition),
            escape_like(arn.account),
            escape_like(name)
        )
    })
}

/// `text` as a `LIKE` pattern matching only itself (`\` is the escape character).
fn escape_like(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

/// A glob (`*` any run of characters) as a `LIKE` pattern.
fn glob_to_like(glob: &str) -> String {
    glob.split('*')
        .map(escape_like)
        .collect::<Vec<_>>()
        .join("%")
}

/// Who made a call, for display: the ARN, else for an IAM Identity Center user (whose records have
/// no ARN, only `onBehalfOf`) `<identityStoreArn>/user/<userId>`, which names the user as the
/// identity store does.
const PRINCIPAL: &str = "coalesce(useridentity.arn, CASE WHEN useridentity.onbehalfof.userid IS NOT NULL \
     THEN concat(useridentity.onbehalfof.identitystorearn, '/user/', useridentity.onbehalfof.userid) END)";

/// The condition every denial query shares: access-denied and unauthorized error codes.
const DENIED: [&str; 2] = [
    "errorcode IS NOT NULL",
    "(lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%')",
];

impl DenialFilter {
    /// Every principal's denials in `window`.
    pub fn in_window(window: &TimeWindow) -> Self {
        DenialFilter {
            from: Some(window.from()),
            to: Some(window.to()),
            ..DenialFilter::default()
        }
    }

    /// `ctq denials`: the knowledge-center query and its parameters.
    pub fn denials_query(&self) -> (String, Vec<(String, String)>) {
        let mut filters = self.conditions(true);
        filters.push("eventtype = 'AwsApiCall'".to_string());
        filters.extend(DENIED.map(String::from));
        (denials_sql_with(&filters), self.params(true))
    }

    /// `ctq explain` and `ctq report`: the denials with the record fields the triage reads, and
    /// the parameters.
    pub fn explain_query(&self) -> (String, Vec<(String, String)>) {
        let mut filters: Vec<String> = DENIED.map(String::from).to_vec();
        filters.extend(self.conditions(true));
        (explain_sql(&filters), self.params(true))
    }

    /// The principals with the most denials under every filter but the principal one (at most
    /// `limit`, most denials first): what to suggest when the principal asked for has none.
    pub fn principals_query(&self, limit: usize) -> (String, Vec<(String, String)>) {
        let mut filters: Vec<String> = DENIED.map(String::from).to_vec();
        filters.extend(self.conditions(false));
        (
            format!(
                "SELECT coalesce({PRINCIPAL}, useridentity.invokedby) AS principal, \
                 count(*) AS denials\n\
                 FROM cloudtrail\n\
                 WHERE {}\n\
                 GROUP BY 1\n\
                 ORDER BY denials DESC, principal\n\
                 LIMIT {limit}",
                filters.join("\n  AND ")
            ),
            self.params(false),
        )
    }

    /// The filters of this scope (window, account, region, principal) as SQL conditions over the
    /// `cloudtrail` table, and their parameters, for a query that reads every record in scope,
    /// denied or not (`ctq hunt`).
    pub fn scope_conditions(&self) -> (Vec<String>, Vec<(String, String)>) {
        (self.conditions(true), self.params(true))
    }

    /// The expression naming the principal of a record, as every canned query names it: the
    /// caller's ARN, or an Identity Center user acting through a service.
    pub const PRINCIPAL_EXPR: &'static str = PRINCIPAL;

    fn matcher(&self) -> Option<PrincipalMatcher> {
        self.principal.as_deref().map(PrincipalMatcher::new)
    }

    fn conditions(&self, with_principal: bool) -> Vec<String> {
        let mut filters: Vec<String> = window_filters(self.from.is_some(), self.to.is_some())
            .into_iter()
            .map(String::from)
            .collect();
        if self.account.is_some() {
            filters.push("recipientaccountid = $account".to_string());
        }
        if self.region.is_some() {
            filters.push("awsregion = $region".to_string());
        }
        if with_principal && let Some(matcher) = self.matcher() {
            filters.push(matcher.condition("principal"));
        }
        filters
    }

    fn params(&self, with_principal: bool) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if with_principal && let Some(matcher) = self.matcher() {
            params.extend(matcher.params("principal"));
        }
        for (name, value) in [("account", &self.account), ("region", &self.region)] {
            if let Some(value) = value {
                params.push((name.to_string(), value.clone()));
            }
        }
        for (name, instant) in [("from", self.from), ("to", self.to)] {
            if let Some(instant) = instant {
                params.push((name.to_string(), instant.to_string()));
            }
        }
        params
    }
}

/// The knowledge-center query for access denials (AWS's Athena example) as the article writes
/// it: each filter is present only when asked for, the principal compared whole with `$arn`, and
/// values are `$arn`, `$from`, `$to` placeholders. `ctq denials` runs it with
/// [`DenialFilter::denials_query`]'s principal matching instead.
pub fn denials_sql(by_arn: bool, from: bool, to: bool) -> String {
    let mut filters: Vec<String> = window_filters(from, to)
        .into_iter()
        .map(String::from)
        .collect();
    if by_arn {
        filters.push("useridentity.arn = $arn".to_string());
    }
    filters.push("eventtype = 'AwsApiCall'".to_string());
    filters.extend(DENIED.map(String::from));
    denials_sql_with(&filters)
}

fn denials_sql_with(filters: &[String]) -> String {
    format!(
        "SELECT from_iso8601_timestamp(eventtime) AS \"Time\", {PRINCIPAL} AS \"Identity ARN\", \
         eventid AS \"Event ID\", eventsource AS \"Service\", eventname AS \"Action\", \
         errorcode AS \"Error\", errormessage AS \"Message\"\n\
         FROM cloudtrail\n\
         WHERE {}\n\
         ORDER BY eventtime DESC, eventid",
        filters.join("\n  AND ")
    )
}

/// The denials `ctq explain` reads, with the record fields its triage needs.
fn explain_sql(filters: &[String]) -> String {
    format!(
        "SELECT eventtime, eventid, eventsource, eventname, errorcode, errormessage, \
         useridentity.type AS identity_type, {PRINCIPAL} AS principal_arn, \
         useridentity.invokedby AS invoked_by, \
         useridentity.sessioncontext.sessionissuer.arn AS session_issuer_arn, \
         sourceipaddress, useragent, requestparameters, \
         element_at(resources, 1)['arn'] AS resource_arn\n\
         FROM cloudtrail\n\
         WHERE {}",
        filters.join("\n  AND ")
    )
}

fn window_filters(from: bool, to: bool) -> Vec<&'static str> {
    let mut filters = Vec::new();
    if from {
        filters.push("from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)");
    }
    if to {
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
        let filter = DenialFilter {
            principal: Some("arn:aws:iam::123456789012:role/r".into()),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            ..DenialFilter::default()
        };
        for (sql, params) in [filter.explain_query(), filter.denials_query()] {
            assert!(!sql.contains("123456789012") && !sql.contains("us-east-1"));
            for (name, _) in &params {
                assert!(sql.contains(&format!("${name}")), "{name} not in {sql}");
            }
            assert!(
                params
                    .iter()
                    .any(|(_, v)| v == "arn:aws:iam::123456789012:role/r")
            );
        }
        let (sql, params) = filter.principals_query(10);
        assert!(!sql.contains("$principal") && params.len() == 2);
        let (sql, params) = DenialFilter::default().explain_query();
        assert!(!sql.contains('$') && params.is_empty());
    }

    #[test]
    fn a_role_arn_matches_its_sessions_without_the_role_path() {
        let matcher = PrincipalMatcher::new("arn:aws:iam::123456789012:role/team/Admin_1");
        assert_eq!(
            matcher.arn_patterns,
            [
                "arn:aws:iam::123456789012:role/team/Admin\\_1",
                "arn:aws:sts::123456789012:assumed-role/Admin\\_1/%",
            ]
        );
        assert_eq!(
            matcher.issuer_patterns,
            ["arn:aws:iam::123456789012:role/team/Admin\\_1"]
        );
        let user = PrincipalMatcher::new("arn:aws:iam::123456789012:user/bob");
        assert_eq!(user.arn_patterns, ["arn:aws:iam::123456789012:user/bob"]);
    }

    #[test]
    fn a_glob_escapes_everything_but_its_stars() {
        let matcher = PrincipalMatcher::new("arn:aws:sts::*:assumed-role/a_b%/*");
        assert_eq!(
            matcher.arn_patterns,
            ["arn:aws:sts::%:assumed-role/a\\_b\\%/%"]
        );
    }

    #[test]
    fn a_bare_name_matches_users_roles_and_sessions_of_that_name() {
        let matcher = PrincipalMatcher::new("Admin");
        assert!(
            matcher
                .arn_patterns
                .contains(&"%:assumed-role/Admin/%".to_string())
        );
        assert!(matcher.arn_patterns.contains(&"%:user/Admin".to_string()));
        assert!(
            matcher
                .issuer_patterns
                .contains(&"%:role/Admin".to_string())
        );
    }
}
