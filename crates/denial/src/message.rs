//! Reading a denial's `errorMessage`.
//!
//! AWS writes one sentence, `User: <principal> is not authorized to perform: <action> [on resource:
//! <resource>] <verdict>`, where the verdict names the kind of policy that decided (or, in older
//! messages, nothing). Services wrap it: EC2 puts `You are not authorized to perform this operation.`
//! before it and an encoded authorization message after it, S3 writes the resource in quotes or says
//! only `Access Denied`. The parser looks for the landmarks of that sentence rather than matching it
//! whole, so a wrapper it has not seen still yields the parts it recognises.

use std::borrow::Cow;

use crate::{find_ignore_case, strip_prefix_ignore_case};

/// What a denial's message says. Parts the message does not state are `None` (or
/// [`Decision::NotStated`]); nothing is guessed from elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Denial {
    /// The principal after `User: `, usually an ARN (`arn:aws:sts::…:assumed-role/Role/Session`).
    pub principal: Option<String>,
    /// The action refused, such as `iam:PassRole`, as AWS spelled it (case included).
    pub action: Option<String>,
    /// The resource, without quotes. Not always an ARN: some services write a name
    /// (`my-example-widget`, `role MyRole`).
    pub resource: Option<String>,
    pub decision: Decision,
    /// The kind of policy that denied (explicit) or that failed to allow (implicit).
    pub policy_type: Option<PolicyType>,
    /// The ARN of the denying policy, which messages carry since 2026.
    pub policy_arn: Option<String>,
    /// The kind of policy the denying one was applied through, as in a VPC endpoint policy
    /// enforced `transitively through a service control policy`.
    pub transitive_through: Option<PolicyType>,
    /// EC2's encoded authorization failure message, to decode with
    /// `aws sts decode-authorization-message`.
    pub encoded_message: Option<String>,
}

/// Whether a policy said no, or none said yes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// A `Deny` statement matched; no `Allow` anywhere can override it.
    Explicit,
    /// No statement allowed the request (`because no … allows`).
    Implicit,
    /// The message does not say (older messages, `Access Denied`, empty messages).
    #[default]
    NotStated,
}

impl Decision {
    /// A stable snake_case name, the same as its serde form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Explicit => "explicit",
            Decision::Implicit => "implicit",
            Decision::NotStated => "not_stated",
        }
    }
}

/// The kinds of policy AWS names in a denial message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    ServiceControlPolicy,
    ResourceControlPolicy,
    #[serde(rename = "identity_based_policy")]
    IdentityBased,
    #[serde(rename = "resource_based_policy")]
    ResourceBased,
    PermissionsBoundary,
    SessionPolicy,
    VpcEndpointPolicy,
    RoleTrustPolicy,
}

impl PolicyType {
    /// Every policy type, in declaration order.
    pub const ALL: [PolicyType; 8] = [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
        PolicyType::IdentityBased,
        PolicyType::ResourceBased,
        PolicyType::PermissionsBoundary,
        PolicyType::SessionPolicy,
        PolicyType::VpcEndpointPolicy,
        PolicyType::RoleTrustPolicy,
    ];

    /// A stable snake_case name, the same as its serde form.
    pub fn as_str(&self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "service_control_policy",
            PolicyType::ResourceControlPolicy => "resource_control_policy",
            PolicyType::IdentityBased => "identity_based_policy",
            PolicyType::ResourceBased => "resource_based_policy",
            PolicyType::PermissionsBoundary => "permissions_boundary",
            PolicyType::SessionPolicy => "session_policy",
            PolicyType::VpcEndpointPolicy => "vpc_endpoint_policy",
            PolicyType::RoleTrustPolicy => "role_trust_policy",
        }
    }

    /// The name a person reads, as the IAM documentation writes it.
    pub fn describe(&self) -> &'static str {
        match self {
            PolicyType::ServiceControlPolicy => "service control policy (SCP)",
            PolicyType::ResourceControlPolicy => "resource control policy (RCP)",
            PolicyType::IdentityBased => "identity-based policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
            PolicyType::VpcEndpointPolicy => "VPC endpoint policy",
            PolicyType::RoleTrustPolicy => "role trust policy",
        }
    }
}

/// How messages name each policy type, matched case-insensitively. These are stems (`polic`,
/// `boundar`) so that plurals match as well; `sessions polic` is AWS's own spelling in some
/// messages.
const TYPE_PHRASES: &[(&str, PolicyType)] = &[
    ("service control polic", PolicyType::ServiceControlPolicy),
    ("resource control polic", PolicyType::ResourceControlPolicy),
    ("identity-based polic", PolicyType::IdentityBased),
    ("identity based polic", PolicyType::IdentityBased),
    ("resource-based polic", PolicyType::ResourceBased),
    ("resource based polic", PolicyType::ResourceBased),
    ("permissions boundar", PolicyType::PermissionsBoundary),
    ("permission boundar", PolicyType::PermissionsBoundary),
    ("sessions polic", PolicyType::SessionPolicy),
    ("session polic", PolicyType::SessionPolicy),
    ("vpc endpoint polic", PolicyType::VpcEndpointPolicy),
    ("role trust polic", PolicyType::RoleTrustPolicy),
    ("trust polic", PolicyType::RoleTrustPolicy),
];

const ENCODED_MARKER: &str = "Encoded authorization failure message:";
// With the colon: EC2's lead-in `not authorized to perform this operation` must not match.
const PERFORM: &str = "not authorized to perform:";
const PRINCIPAL_MARKER: &str = "User: ";
/// What can follow an unquoted resource. A resource may hold spaces (`role MyRole`), so it runs
/// up to one of these or to the end.
const RESOURCE_ENDS: &[&str] = &[
    " with an explicit deny",
    " with an implicit deny",
    " because no ",
];

/// Parses a denial's `errorMessage`. Never fails: whatever is not recognised stays `None` or
/// [`Decision::NotStated`].
///
/// ```
/// use ctq_denial::{Decision, parse_message};
///
/// let denial = parse_message(
///     "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: \
///      cloudtrail:LookupEvents with an explicit deny",
/// );
/// assert_eq!(denial.principal.as_deref(), Some("arn:aws:iam::123456789012:user/alice"));
/// assert_eq!(denial.action.as_deref(), Some("cloudtrail:LookupEvents"));
/// assert_eq!(denial.decision, Decision::Explicit);
/// ```
pub fn parse_message(error_message: &str) -> Denial {
    let text = collapse_whitespace(error_message);
    let text = text.trim();
    let mut denial = Denial::default();

    let sentence = match text.find(ENCODED_MARKER) {
        Some(at) => {
            let blob = text[at + ENCODED_MARKER.len()..].trim();
            denial.encoded_message = (!blob.is_empty()).then(|| blob.to_owned());
            // Up to the marker, without the space before it: the sentence ends there.
            text[..at].trim_end()
        }
        None => text,
    };

    let verdict = if let Some(at) = find_ignore_case(sentence, PERFORM) {
        denial.principal = principal(&sentence[..at]);
        let after = sentence[at + PERFORM.len()..].trim_start();
        let end = after.find(' ').unwrap_or(after.len());
        denial.action = clean_token(&after[..end], ends_sentence(&after[end..]));
        let (resource, rest) = resource(&after[end..]);
        denial.resource = resource;
        rest
    } else {
        // `User: <arn> is not authorized to access this resource` and the like still name the
        // principal.
        denial.principal = principal(sentence);
        sentence
    };
    read_verdict(verdict, &mut denial);
    denial
}

/// Runs of whitespace (newlines included) as one space, so that landmarks such as `on resource:`
/// match however the message was wrapped. Borrows when there is nothing to change, the usual case.
fn collapse_whitespace(s: &str) -> Cow<'_, str> {
    let needs = s.contains("  ") || s.chars().any(|c| c.is_whitespace() && c != ' ');
    if needs {
        Cow::Owned(s.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Cow::Borrowed(s)
    }
}

/// The token after the last `User: ` in `before`. Principals never hold spaces.
fn principal(before: &str) -> Option<String> {
    let at = before.rfind(PRINCIPAL_MARKER)?;
    let rest = &before[at + PRINCIPAL_MARKER.len()..];
    let (token, last) = rest
        .split_once(' ')
        .map_or((rest, true), |(token, after)| (token, ends_sentence(after)));
    if token == "is" {
        return None;
    }
    clean_token(token, last)
}

/// Whether only the sentence's punctuation (and whitespace) follows.
fn ends_sentence(after: &str) -> bool {
    after
        .chars()
        .all(|c| c.is_whitespace() || matches!(c, '.' | ',' | ';'))
}

/// A token without the quotes around it, and, when it ends the sentence (`last`), without the
/// sentence's punctuation after it. IAM names may end in `.` or `,` (`user/ops.`, a session
/// `ci,run,`): followed by more of the sentence, those are the name's.
fn clean_token(token: &str, last: bool) -> Option<String> {
    let token = if last {
        token.trim_end_matches(['.', ',', ';'])
    } else {
        token
    };
    let token = token.trim_matches(['"', '\'']);
    (!token.is_empty()).then(|| token.to_owned())
}

/// The resource after the action, and the text after the resource.
fn resource(after_action: &str) -> (Option<String>, &str) {
    let rest = after_action.trim_start();
    // S3 writes `on "arn:aws:s3:::bucket/key"`, most services `on resource: <resource>`.
    let body = if let Some(body) = strip_prefix_ignore_case(rest, "on resource:") {
        body.trim_start()
    } else if rest.starts_with("on \"") {
        &rest[3..]
    } else {
        return (None, rest);
    };
    if let Some(quoted) = body.strip_prefix('"')
        && let Some(end) = quoted.find('"')
    {
        // Quoted, the resource is all that the quotes hold: an S3 key may end in `.`.
        let resource = quoted[..end].trim();
        return (
            (!resource.is_empty()).then(|| resource.to_owned()),
            &quoted[end + 1..],
        );
    }
    let end = RESOURCE_ENDS
        .iter()
        .filter_map(|t| find_ignore_case(body, t))
        .min();
    match end {
        Some(end) => (clean_resource(&body[..end], false), &body[end..]),
        None => (clean_resource(body, true), ""),
    }
}

/// The resource without the quotes around it, and, when it ends the sentence (`last`), without the
/// sentence's period: before `because no`, a `.` is the name's (`role/ops.`).
fn clean_resource(s: &str, last: bool) -> Option<String> {
    let s = s.trim();
    let s = if last {
        s.trim_end_matches('.').trim()
    } else {
        s
    };
    let s = ['"', '\'']
        .iter()
        .find_map(|q| s.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)))
        .unwrap_or(s)
        .trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Reads the decision and the policy types from what follows the resource.
fn read_verdict(text: &str, denial: &mut Denial) {
    // Whichever landmark comes first decides; the later text belongs to it.
    let landmark = [
        ("explicit deny", Decision::Explicit),
        ("implicit deny", Decision::Implicit),
        ("because no ", Decision::Implicit),
    ]
    .into_iter()
    .filter_map(|(phrase, decision)| {
        find_ignore_case(text, phrase).map(|at| (at, phrase, decision))
    })
    .min_by_key(|(at, _, _)| *at);

    if let Some((at, phrase, decision)) = landmark {
        denial.decision = decision;
        let after = text[at + phrase.len()..].trim_start();
        let after = strip_prefix_ignore_case(after, "in ").unwrap_or(after);
        if let Some((policy_type, rest)) = policy_type_at(after) {
            denial.policy_type = Some(policy_type);
            let rest = rest.trim_start();
            if let Some(arn) = rest.strip_prefix(':') {
                let arn = arn.trim_start();
                denial.policy_arn = match arn.split_once(' ') {
                    Some((token, after)) => clean_token(token, ends_sentence(after)),
                    None => clean_token(arn, true),
                };
            }
            if let Some(at) = find_ignore_case(rest, "transitively through ") {
                denial.transitive_through =
                    policy_type_at(&rest[at + "transitively through ".len()..]).map(|(t, _)| t);
            }
        }
    }

    // Messages outside the usual sentence still name the policy, as VpceAccessDenied's
    // `The request was denied due to a VPC endpoint policy`.
    if denial.policy_type.is_none() {
        denial.policy_type = TYPE_PHRASES
            .iter()
            .filter_map(|(stem, t)| find_ignore_case(text, stem).map(|at| (at, *t)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, t)| t);
    }
}

/// The policy type named at the start of `s` (after an optional article), and the text after it.
fn policy_type_at(s: &str) -> Option<(PolicyType, &str)> {
    let s = s.trim_start();
    let s = ["the ", "an ", "a "]
        .iter()
        .find_map(|article| strip_prefix_ignore_case(s, article))
        .unwrap_or(s);
    TYPE_PHRASES.iter().find_map(|(stem, policy_type)| {
        let rest = strip_prefix_ignore_case(s, stem)?;
        Some((
            *policy_type,
            rest.trim_start_matches(|c: char| c.is_ascii_alphabetic()),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PolicyType::*;

    const USER: &str = "arn:aws:iam::123456789012:user/mateojackson";
    const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/Deployer/ci-run";
    const BUCKET_ROLE: &str = "arn:aws:iam::123456789012:role/app";
    const SCP_ARN: &str =
        "arn:aws:organizations::111111111111:policy/o-a1b2c3d4e5/service_control_policy/p-12345678";

    /// One expected parse. `message` is checked as written and with the endings AWS and copy-paste
    /// leave on it.
    struct Row {
        message: String,
        want: Denial,
    }

    fn want(
        principal: Option<&str>,
        action: Option<&str>,
        resource: Option<&str>,
        decision: Decision,
        policy_type: Option<PolicyType>,
    ) -> Denial {
        Denial {
            principal: principal.map(str::to_owned),
            action: action.map(str::to_owned),
            resource: resource.map(str::to_owned),
            decision,
            policy_type,
            ..Denial::default()
        }
    }

    /// Every way a message names each policy type, explicit and implicit.
    fn typed_rows() -> Vec<Row> {
        let phrases: &[(&str, PolicyType)] = &[
            ("a service control policy", ServiceControlPolicy),
            ("a resource control policy", ResourceControlPolicy),
            ("an identity-based policy", IdentityBased),
            ("a resource-based policy", ResourceBased),
            ("a permissions boundary", PermissionsBoundary),
            ("a session policy", SessionPolicy),
            ("a sessions policy", SessionPolicy),
            ("a VPC endpoint policy", VpcEndpointPolicy),
            ("the role trust policy", RoleTrustPolicy),
            ("a role trust policy", RoleTrustPolicy),
        ];
        let mut rows = Vec::new();
        for &(phrase, policy_type) in phrases {
            let (action, resource) = if policy_type == RoleTrustPolicy {
                ("sts:AssumeRole", "arn:aws:iam::444455556666:role/Target")
            } else {
                (
                    "s3:GetObject",
                    "arn:aws:s3:::amzn-s3-demo-bucket/report.csv",
                )
            };
            rows.push(Row {
                message: format!(
                    "User: {SESSION} is not authorized to perform: {action} on resource: {resource} with an explicit deny in {phrase}"
                ),
                want: want(
                    Some(SESSION),
                    Some(action),
                    Some(resource),
                    Decision::Explicit,
                    Some(policy_type),
                ),
            });
            let bare = phrase.split_once(' ').unwrap().1;
            rows.push(Row {
                message: format!(
                    "User: {SESSION} is not authorized to perform: {action} on resource: {resource} because no {bare} allows the {action} action"
                ),
                want: want(
                    Some(SESSION),
                    Some(action),
                    Some(resource),
                    Decision::Implicit,
                    Some(policy_type),
                ),
            });
        }
        rows
    }

    fn other_rows() -> Vec<Row> {
        let row = |message: &str, want: Denial| Row {
            message: message.to_owned(),
            want,
        };
        vec![
            // 2026: the denying policy's ARN after the type.
            row(
                &format!(
                    "User: {SESSION} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* with an explicit deny in a service control policy: {SCP_ARN}"
                ),
                Denial {
                    policy_arn: Some(SCP_ARN.to_owned()),
                    ..want(
                        Some(SESSION),
                        Some("ec2:RunInstances"),
                        Some("arn:aws:ec2:us-east-1:123456789012:instance/*"),
                        Decision::Explicit,
                        Some(ServiceControlPolicy),
                    )
                },
            ),
            row(
                &format!(
                    "User: {SESSION} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::amzn-s3-demo-bucket/x with an explicit deny in a VPC endpoint policy transitively through a service control policy"
                ),
                Denial {
                    transitive_through: Some(ServiceControlPolicy),
                    ..want(
                        Some(SESSION),
                        Some("s3:GetObject"),
                        Some("arn:aws:s3:::amzn-s3-demo-bucket/x"),
                        Decision::Explicit,
                        Some(VpcEndpointPolicy),
                    )
                },
            ),
            // Older messages: explicit without a type, and nothing at all.
            row(
                "User: arn:aws:iam::account:user/username is not authorized to perform: cloudtrail:LookupEvents with an explicit deny",
                want(
                    Some("arn:aws:iam::account:user/username"),
                    Some("cloudtrail:LookupEvents"),
                    None,
                    Decision::Explicit,
                    None,
                ),
            ),
            row(
                &format!("User: {USER} is not authorized to perform: iam:GetRole"),
                want(
                    Some(USER),
                    Some("iam:GetRole"),
                    None,
                    Decision::NotStated,
                    None,
                ),
            ),
            row(
                &format!(
                    "User: {SESSION} is not authorized to perform: iam:PassRole on resource: {BUCKET_ROLE}"
                ),
                want(
                    Some(SESSION),
                    Some("iam:PassRole"),
                    Some(BUCKET_ROLE),
                    Decision::NotStated,
                    None,
                ),
            ),
            // S3.
            row("Access Denied", Denial::default()),
            row(
                &format!(
                    "User: {SESSION} is not authorized to perform: s3:GetObject on \"arn:aws:s3:::amzn-s3-demo-bucket/a key.txt\" because no resource-based policy allows the s3:GetObject action"
                ),
                want(
                    Some(SESSION),
                    Some("s3:GetObject"),
                    Some("arn:aws:s3:::amzn-s3-demo-bucket/a key.txt"),
                    Decision::Implicit,
                    Some(ResourceBased),
                ),
            ),
            // EC2, with and without the sentence, with and without the encoded message.
            row(
                "You are not authorized to perform this operation.",
                Denial::default(),
            ),
            row(
                "You are not authorized to perform this operation. Encoded authorization failure message: 4Xv1k-AbC_dEf123 ",
                Denial {
                    encoded_message: Some("4Xv1k-AbC_dEf123".to_owned()),
                    ..Denial::default()
                },
            ),
            row(
                &format!(
                    "You are not authorized to perform this operation. User: {SESSION} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: QmxvYg"
                ),
                Denial {
                    encoded_message: Some("QmxvYg".to_owned()),
                    ..want(
                        Some(SESSION),
                        Some("ec2:RunInstances"),
                        Some("arn:aws:ec2:us-east-1:123456789012:instance/*"),
                        Decision::Implicit,
                        Some(IdentityBased),
                    )
                },
            ),
            row(
                &format!(
                    "You are not authorized to perform this operation. User: {SESSION} is not authorized to perform: ec2:DescribeVpcs because no identity-based policy allows the ec2:DescribeVpcs action"
                ),
                want(
                    Some(SESSION),
                    Some("ec2:DescribeVpcs"),
                    None,
                    Decision::Implicit,
                    Some(IdentityBased),
                ),
            ),
            // ECS: the resource is a name, not an ARN.
            row(
                "User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: ecs:GetWidget on resource: my-example-widget",
                want(
                    Some(USER),
                    Some("ecs:GetWidget"),
                    Some("my-example-widget"),
                    Decision::NotStated,
                    None,
                ),
            ),
            // IAM names a resource with its kind, space included.
            row(
                &format!(
                    "User: {USER} is not authorized to perform: iam:PutRolePolicy on resource: role Deploy-Role because no identity-based policy allows the iam:PutRolePolicy action"
                ),
                want(
                    Some(USER),
                    Some("iam:PutRolePolicy"),
                    Some("role Deploy-Role"),
                    Decision::Implicit,
                    Some(IdentityBased),
                ),
            ),
            // RDS leaves the principal out.
            row(
                "User is not authorized to perform: rds:CopyDBSnapshot",
                want(
                    None,
                    Some("rds:CopyDBSnapshot"),
                    None,
                    Decision::NotStated,
                    None,
                ),
            ),
            row(
                "The request was denied due to a VPC endpoint policy",
                want(
                    None,
                    None,
                    None,
                    Decision::NotStated,
                    Some(VpcEndpointPolicy),
                ),
            ),
            // Wrapped over lines, as a CLI prints it.
            row(
                &format!(
                    "An error occurred (AccessDenied) when calling the AssumeRole operation:\n  User: {USER}\n  is not authorized to perform: sts:AssumeRole\n  on resource: arn:aws:iam::444455556666:role/Target"
                ),
                want(
                    Some(USER),
                    Some("sts:AssumeRole"),
                    Some("arn:aws:iam::444455556666:role/Target"),
                    Decision::NotStated,
                    None,
                ),
            ),
            row("", Denial::default()),
        ]
    }

    #[test]
    fn every_message_form_parses() {
        let rows: Vec<Row> = typed_rows().into_iter().chain(other_rows()).collect();
        for row in &rows {
            // A period after an encoded message would be part of it: sanitized samples end in `...`.
            let endings: &[&str] = if row.want.encoded_message.is_some() {
                &["", "\n", "  \n\t"]
            } else {
                &["", ".", ".\n", "  \n\t", " .\r\n"]
            };
            for ending in endings {
                let message = format!("{}{ending}", row.message);
                assert_eq!(parse_message(&message), row.want, "{message:?}");
            }
        }
    }

    #[test]
    fn a_named_type_is_never_lost() {
        for row in typed_rows() {
            assert!(
                parse_message(&row.message).policy_type.is_some(),
                "{}",
                row.message
            );
        }
    }

    #[test]
    fn every_policy_type_is_covered_both_ways() {
        let rows = typed_rows();
        for policy_type in PolicyType::ALL {
            for decision in [Decision::Explicit, Decision::Implicit] {
                assert!(
                    rows.iter()
                        .any(|r| r.want.policy_type == Some(policy_type)
                            && r.want.decision == decision),
                    "{policy_type:?} {decision:?}"
                );
            }
        }
    }

    #[test]
    fn names_match_serde() {
        for policy_type in PolicyType::ALL {
            assert_eq!(
                serde_json::to_value(policy_type).unwrap(),
                policy_type.as_str(),
            );
            assert!(!policy_type.describe().is_empty());
        }
        for decision in [Decision::Explicit, Decision::Implicit, Decision::NotStated] {
            assert_eq!(serde_json::to_value(decision).unwrap(), decision.as_str());
        }
        assert_eq!(
            ServiceControlPolicy.describe(),
            "service control policy (SCP)"
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for message in [
            "User:",
            "User: ",
            "not authorized to perform:",
            "is not authorized to perform: on resource:",
            "x on resource: \"unterminated",
            "User: é is not authorized to perform: ü on \"ß",
            "with an explicit deny in a",
            "because no",
            "explicit deny in a service control policy:",
            "Encoded authorization failure message:",
            "… transitively through ",
        ] {
            let _ = parse_message(message);
        }
        assert_eq!(
            parse_message("explicit deny in a service control policy:").policy_arn,
            None
        );
    }
}
