//! What to do about a denial.
//!
//! The guidance follows the IAM troubleshooting pages: the kind of policy that decided says who
//! can fix it (the organization for SCPs and RCPs, an administrator for a permissions boundary,
//! the caller for a session policy, the resource owner for a resource policy), and a few actions
//! fail for reasons of their own (`iam:PassRole`, `sts:AssumeRole`). Texts are short and the same
//! input always gives the same text, so that reports can be compared and snapshot-tested.

use std::collections::BTreeMap;

use crate::{Arn, Decision, Denial, PolicyType, contains_ignore_case, strip_prefix_ignore_case};

/// What the rest of the record says about the denied request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// `eventSource`, such as `ec2.amazonaws.com`.
    pub event_source: Option<&'a str>,
    /// `eventName`, such as `RunInstances`.
    pub event_name: Option<&'a str>,
    /// `userIdentity.arn`.
    pub principal_arn: Option<&'a str>,
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role behind a role session.
    pub session_issuer_arn: Option<&'a str>,
    /// `requestParameters` as raw JSON text.
    pub request_parameters: Option<&'a str>,
    /// `userIdentity.type`: `AWSService` for a service calling on the account's behalf.
    pub identity_type: Option<&'a str>,
    /// `userIdentity.invokedBy`: the service that made the call, such as `config.amazonaws.com`.
    pub invoked_by: Option<&'a str>,
}

/// A diagnosis and the next step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Advice {
    /// One line: what refused the request and why.
    pub cause: String,
    /// What to change, and who can change it.
    pub next_step: String,
    /// A least-privilege policy document (pretty JSON) granting exactly the denied action, when
    /// the fix is an Allow in the principal's own policy. A draft to review, never to apply blind.
    pub draft_policy: Option<String>,
}

/// Advises on one denial: `denial` from [`crate::parse_message`], `code` the record's
/// `errorCode`.
pub fn advise(denial: &Denial, code: &str, context: &Context) -> Advice {
    let facts = Facts::new(denial, code, context);
    // The kind of policy that decided comes first: an explicit deny in an SCP cannot be lifted by
    // the Allow the action-specific advice would suggest. A service calling on the account's
    // behalf has no session to re-assume nor a policy of its own: its advice names its role.
    let mut advice = facts
        .is_service()
        .then(|| service_call(&facts))
        .flatten()
        .or_else(|| organization_or_session(&facts))
        .map(|mut advice| {
            if facts.is_action("iam:PassRole") && !facts.is_service() {
                advice.next_step.push_str(&format!(
                    " It also needs iam:PassRole on {} passed to {}.",
                    facts.passed_role(),
                    facts.service()
                ));
            }
            advice
        })
        .or_else(|| facts.is_action("iam:PassRole").then(|| pass_role(&facts)))
        .or_else(|| {
            let assume = facts
                .action
                .is_some_and(|a| strip_prefix_ignore_case(a, "sts:AssumeRole").is_some());
            (assume || denial.policy_type == Some(PolicyType::RoleTrustPolicy))
                .then(|| assume_role(&facts))
        })
        .unwrap_or_else(|| by_policy(&facts));
    if let Some(message) = &denial.encoded_message
        && !advice.next_step.contains("decode-authorization")
    {
        advice.next_step.push_str(&format!(
            " For the full context decode the event's encoded message (needs sts:DecodeAuthorizationMessage): {}",
            decode_command(message)
        ));
    }
    advice
}

/// The command that decodes EC2's encoded authorization message, with the message in full.
fn decode_command(message: &str) -> String {
    format!(
        "`aws sts decode-authorization-message --encoded-message {message} --query DecodedMessage --output text`"
    )
}

/// `a` or `an` before a phrase, by the sound of its first word: `an identity-based policy`,
/// `a VPC endpoint policy`, `an SCP`.
pub fn with_article(phrase: &str) -> String {
    let word = phrase.split([' ', '-']).next().unwrap_or_default();
    let acronym = word.len() > 1
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let first = word.chars().next().unwrap_or('x');
    let lower = word.to_ascii_lowercase();
    let vowel_sound = if acronym {
        // Letters whose names start with a vowel sound: "an SCP", "an RCP", "an IAM role".
        "AEFHILMNORSX".contains(first)
    } else {
        "aeiou".contains(first.to_ascii_lowercase())
            && !["uni", "use", "usu", "uti", "one", "eu"]
                .iter()
                .any(|p| lower.starts_with(p))
    };
    format!("{} {phrase}", if vowel_sound { "an" } else { "a" })
}

/// What the advice texts refer to, with the fallbacks they read best with.
struct Facts<'a> {
    denial: &'a Denial,
    code: &'a str,
    context: &'a Context<'a>,
    action: Option<&'a str>,
    principal: Option<&'a str>,
}

impl<'a> Facts<'a> {
    fn new(denial: &'a Denial, code: &'a str, context: &'a Context<'a>) -> Self {
        Facts {
            denial,
            code,
            context,
            action: denial.action.as_deref(),
            principal: denial
                .principal
                .as_deref()
                .or(context.principal_arn)
                .or(context.invoked_by),
        }
    }

    /// Whether an AWS service made the call on the account's behalf.
    fn is_service(&self) -> bool {
        self.context.identity_type == Some("AWSService")
            || self.calling_service().is_some()
            || self
                .principal
                .is_some_and(|p| !p.starts_with("arn:") && p.ends_with(".amazonaws.com"))
    }

    /// The service that made the call: `invokedBy`, else a service principal's own name.
    fn calling_service(&self) -> Option<&str> {
        self.context.invoked_by.filter(|s| !s.is_empty()).or(self
            .principal
            .filter(|p| !p.starts_with("arn:") && p.ends_with(".amazonaws.com")))
    }

    /// `requestParameters` as JSON, when it is an object.
    fn request(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_str(self.context.request_parameters?).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The ARN of the resource the request names, built from its parameters (`userName` of an
    /// IAM call is the user `arn:aws:iam::<account>:user/<name>`), when the record says enough.
    fn requested_resource(&self) -> Option<String> {
        let request = self.request()?;
        let text = |key: &str| request.get(key)?.as_str().filter(|v| !v.is_empty());
        let (partition, account) = self.partition_and_account();
        let service = self
            .context
            .event_source
            .map_or("", |s| s.split('.').next().unwrap_or(s));
        let in_account = |service: &str, region: &str, name: &str| {
            account.map(|account| format!("arn:{partition}:{service}:{region}:{account}:{name}"))
        };
        let arn_value = [
            "roleArn",
            "policyArn",
            "topicArn",
            "secretId",
            "keyId",
            "functionName",
        ]
        .into_iter()
        .filter_map(text)
        .find(|v| v.starts_with("arn:"));
        if let Some(arn) = arn_value {
            return Some(arn.to_owned());
        }
        match service {
            "iam" => [
                ("userName", "user"),
                ("roleName", "role"),
                ("groupName", "group"),
                ("instanceProfileName", "instance-profile"),
            ]
            .into_iter()
            .find_map(|(key, kind)| in_account("iam", "", &format!("{kind}/{}", text(key)?))),
            "s3" => {
                let bucket = text("bucketName")?;
                let object = self
                    .context
                    .event_name
                    .is_some_and(|n| n.contains("Object"));
                match text("key") {
                    Some(key) if object => Some(format!("arn:{partition}:s3:::{bucket}/{key}")),
                    _ => Some(format!("arn:{partition}:s3:::{bucket}")),
                }
            }
            // Secret ARNs end in six random characters the request does not carry.
            "secretsmanager" => in_account(
                "secretsmanager",
                "*",
                &format!("secret:{}-??????", text("secretId")?),
            ),
            "ssm" => {
                let name = text("name")?;
                let name = name.strip_prefix('/').unwrap_or(name);
                in_account("ssm", "*", &format!("parameter/{name}"))
            }
            "dynamodb" => in_account("dynamodb", "*", &format!("table/{}", text("tableName")?)),
            "lambda" => in_account(
                "lambda",
                "*",
                &format!("function:{}", text("functionName")?),
            ),
            _ => None,
        }
    }

    /// The resource for a draft policy and whether it is exact: the denied resource's ARN, else
    /// the one the request names, else `*`.
    fn draft_target(&self) -> (String, bool) {
        match draft_resource(self.resource()) {
            (resource, true) if resource != "*" => (resource.to_owned(), true),
            (resource, exact) => self
                .requested_resource()
                .map_or_else(|| (resource.to_owned(), exact), |built| (built, true)),
        }
    }

    /// The partition and account of the caller, from its ARN or its role's.
    fn partition_and_account(&self) -> (&str, Option<&str>) {
        let arn = self
            .principal
            .filter(|p| p.starts_with("arn:"))
            .or(self.context.session_issuer_arn)
            .unwrap_or_default();
        let mut parts = arn.split(':');
        let partition = parts.nth(1).filter(|p| !p.is_empty()).unwrap_or("aws");
        let account = parts
            .nth(2)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
        (partition, account)
    }

    fn is_action(&self, action: &str) -> bool {
        self.action.is_some_and(|a| a.eq_ignore_ascii_case(action))
    }

    fn explicit(&self) -> bool {
        self.denial.decision == Decision::Explicit
    }

    fn principal(&self) -> &str {
        self.principal.unwrap_or("the caller")
    }

    /// Whose policies grant the principal its permissions: for a role session, the role.
    fn holder(&self) -> String {
        let Some(principal) = self.principal else {
            return "the caller".to_owned();
        };
        if !principal.contains(":assumed-role/") {
            return principal.to_owned();
        }
        if let Some(issuer) = self.context.session_issuer_arn {
            return issuer.to_owned();
        }
        // arn:aws:sts::<account>:assumed-role/<role>/<session> names the role without its path,
        // so this is the role only when it has none; the session issuer is exact when present.
        match Arn::parse(principal).and_then(|arn| {
            let role = arn.resource.split('/').nth(1)?;
            (!role.is_empty()).then_some((arn, role))
        }) {
            Some((arn, role)) => format!("arn:{}:iam::{}:role/{role}", arn.partition, arn.account),
            None => principal.to_owned(),
        }
    }

    fn action(&self) -> &str {
        self.action
            .or(self.context.event_name)
            .unwrap_or("the request")
    }

    fn resource(&self) -> Option<&str> {
        self.denial.resource.as_deref()
    }

    /// The resource for a sentence about its own policy, where `*` would read as nonsense.
    fn resource_name(&self) -> &str {
        self.resource()
            .filter(|r| *r != "*")
            .unwrap_or("the resource")
    }

    /// ` on <resource>` when the resource is known.
    fn on_resource(&self) -> String {
        self.resource()
            .map(|r| format!(" on {r}"))
            .unwrap_or_default()
    }

    /// ` (<policy ARN>)` when the message named the policy.
    fn policy_arn(&self) -> String {
        self.denial
            .policy_arn
            .as_deref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default()
    }

    fn passed_role(&self) -> String {
        self.resource()
            .map_or_else(|| "the role in the request".to_owned(), str::to_owned)
    }

    /// The service a role is passed to. CloudTrail records the service called, which is the one
    /// that takes the role in the common cases (EC2 instance profiles, Lambda functions).
    fn service(&self) -> &str {
        self.context
            .event_source
            .filter(|s| !s.is_empty())
            .unwrap_or("the service that uses it")
    }

    fn target_role(&self) -> String {
        if let Some(resource) = self.resource().filter(|r| r.contains(":role/")) {
            return resource.to_owned();
        }
        self.context
            .request_parameters
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p.get("roleArn")?.as_str().map(str::to_owned))
            .or_else(|| self.resource().map(str::to_owned))
            .unwrap_or_else(|| "the target role".to_owned())
    }

    fn is_s3(&self) -> bool {
        self.context.event_source == Some("s3.amazonaws.com")
            || self
                .action
                .is_some_and(|a| strip_prefix_ignore_case(a, "s3:").is_some())
    }
}

/// Denials by a policy outside the principal's own: the organization's, a boundary, a session's,
/// a VPC endpoint's. `None` when the denial names none of them.
fn organization_or_session(f: &Facts) -> Option<Advice> {
    let (action, principal, on) = (f.action(), f.principal(), f.on_resource());
    let policy_type = f.denial.policy_type.or_else(|| {
        contains_ignore_case(f.code, "vpceaccessdenied").then_some(PolicyType::VpcEndpointPolicy)
    })?;
    let organization = "the organization's management account (or a delegated administrator)";
    let advice = match (policy_type, f.denial.transitive_through) {
        (inner, Some(through)) => Advice {
            cause: format!(
                "An explicit deny in {} applied transitively through {} blocks {action}{on} for {principal}.",
                with_article(inner.describe()),
                with_article(through.describe()),
            ),
            next_step: format!(
                "No IAM policy in this account can override it: {organization} must change the {}{} that applies it, or the {} itself must allow {action}.",
                through.describe(),
                f.policy_arn(),
                inner.describe(),
            ),
            draft_policy: None,
        },
        (PolicyType::ServiceControlPolicy, None) if f.explicit() => Advice {
            cause: format!(
                "An explicit deny in a service control policy (SCP){} blocks {action}{on} for {principal}.",
                f.policy_arn()
            ),
            next_step: format!(
                "No IAM policy in this account can override it: {organization} must change that SCP{} or exempt this principal from it.",
                f.policy_arn()
            ),
            draft_policy: None,
        },
        (PolicyType::ServiceControlPolicy, None) => Advice {
            cause: format!(
                "No service control policy (SCP) of the organization allows {action}{on} for {principal}."
            ),
            next_step: format!(
                "No IAM policy in this account can fix it: {organization} must allow {action} in the SCPs that apply to this account."
            ),
            draft_policy: None,
        },
        (PolicyType::ResourceControlPolicy, None) if f.explicit() => Advice {
            cause: format!(
                "An explicit deny in a resource control policy (RCP){} blocks {action}{on} for {principal}.",
                f.policy_arn()
            ),
            next_step: format!(
                "No IAM or resource policy in this account can override it: {organization} must change that RCP{} or exempt this principal or resource.",
                f.policy_arn()
            ),
            draft_policy: None,
        },
        (PolicyType::ResourceControlPolicy, None) => Advice {
            cause: format!(
                "No resource control policy (RCP) of the organization allows {action}{on} for {principal}."
            ),
            next_step: format!(
                "No IAM or resource policy in this account can fix it: {organization} must allow {action} in the RCPs that apply to the resource."
            ),
            draft_policy: None,
        },
        (PolicyType::PermissionsBoundary, None) => Advice {
            cause: format!(
                "The permissions boundary of {} {} {action}{on}.",
                f.holder(),
                if f.explicit() {
                    "explicitly denies"
                } else {
                    "does not allow"
                }
            ),
            next_step: format!(
                "An administrator must change the boundary policy{} attached to {}, not its identity policy, so that it allows {action}; permissions are the intersection of the two.",
                f.policy_arn(),
                f.holder()
            ),
            draft_policy: None,
        },
        (PolicyType::SessionPolicy, None) => Advice {
            cause: format!(
                "The session policy of {principal} {} {action}{on}; a session gets only the intersection of {}'s policies and the session policy passed at AssumeRole or GetFederationToken.",
                if f.explicit() {
                    "explicitly denies"
                } else {
                    "does not allow"
                },
                f.holder()
            ),
            next_step: format!(
                "Re-assume {} without the narrowing session policy (the Policy and PolicyArns parameters), or widen that policy to allow {action}.",
                f.holder()
            ),
            draft_policy: None,
        },
        (PolicyType::VpcEndpointPolicy, None) => Advice {
            cause: format!(
                "The request went through a VPC endpoint whose policy {} {action}{on} for {principal}.",
                if f.explicit() {
                    "explicitly denies"
                } else {
                    "does not allow"
                }
            ),
            next_step: format!(
                "Change the VPC endpoint policy{} to allow {action} for {principal}, or send the request by a route that does not use that endpoint.",
                f.policy_arn()
            ),
            draft_policy: None,
        },
        _ => return None,
    };
    Some(advice)
}

/// A call an AWS service made on the account's behalf: no one re-assumes anything, the fix is in
/// the role the service uses or in the policy of the resource it reached. `None` for a denial by
/// the organization's policies, whose advice holds for services too.
fn service_call(f: &Facts) -> Option<Advice> {
    let organization = matches!(
        f.denial.policy_type,
        Some(PolicyType::ServiceControlPolicy | PolicyType::ResourceControlPolicy)
    ) || f.denial.transitive_through.is_some();
    if organization {
        return None;
    }
    let service = f.calling_service().unwrap_or("an AWS service");
    let (action, on) = (f.action(), f.on_resource());
    let known_role = f
        .principal
        .filter(|p| p.contains(":assumed-role/") || p.contains(":role/"))
        .map(|_| f.holder());
    let role = known_role.as_ref().map_or_else(
        || format!("the role {service} uses in this account (its service-linked role, or the role configured for it)"),
        |role| format!("the role it used, {role}"),
    );
    let cause = format!(
        "{service}, calling on the account's behalf, was denied {action}{on}: {}.",
        crate::triage::cause_summary(f.denial)
    );
    let next_step = match f.denial.policy_type {
        Some(PolicyType::ResourceBased | PolicyType::RoleTrustPolicy) => format!(
            "Allow {service} (or {role}) to {action} in the policy of {} (bucket, key, queue, topic or role trust policy), with aws:SourceAccount or aws:SourceArn conditions for the service.",
            f.resource_name()
        ),
        Some(PolicyType::VpcEndpointPolicy) => format!(
            "Change the VPC endpoint policy{} to allow {action} for {service} and {role}.",
            f.policy_arn()
        ),
        Some(PolicyType::PermissionsBoundary) => format!(
            "Change the permissions boundary{} attached to {role} so that it allows {action}.",
            f.policy_arn()
        ),
        _ => format!(
            "{} may {action}{on}; a service-linked role's policy is AWS's own, so then look at the resource's policy (bucket policy, KMS key policy) and the service's settings for this account.",
            known_role.as_ref().map_or_else(
                || format!("Find {role} and check that it"),
                |role| format!("Check that {role}"),
            )
        ),
    };
    Some(Advice {
        cause,
        next_step,
        draft_policy: None,
    })
}

fn pass_role(f: &Facts) -> Advice {
    let (role, service, holder) = (f.passed_role(), f.service(), f.holder());
    let cause = format!(
        "{} may not pass the role {role} to {service} (iam:PassRole).",
        f.principal()
    );
    if f.explicit() {
        let policy = f.denial.policy_type.map_or_else(
            || format!("the policies of {holder}"),
            |t| format!("the {}{}", t.describe(), f.policy_arn()),
        );
        return Advice {
            cause,
            next_step: format!(
                "Remove or narrow the Deny on iam:PassRole for {role} in {policy}; no Allow can override it."
            ),
            draft_policy: None,
        };
    }
    let condition = f.context.event_source.filter(|s| !s.is_empty());
    let (resource, exact) = f.draft_target();
    Advice {
        cause,
        next_step: format!(
            "Allow iam:PassRole on {role} with the condition iam:PassedToService = {service} in a policy of {holder} (draft below, review before use){}.",
            if exact {
                String::new()
            } else {
                format!("; replace \"*\" with the ARN of {role}")
            }
        ),
        draft_policy: Some(draft("iam:PassRole", &resource, condition)),
    }
}

fn assume_role(f: &Facts) -> Advice {
    let (role, principal, action) = (f.target_role(), f.principal(), f.action());
    let trust = format!(
        "its Principal must name the account or ARN of {principal}, and its conditions (aws:PrincipalTag, aws:CurrentTime dates, sts:ExternalId, source IP) must hold"
    );
    match (f.denial.policy_type, f.denial.decision) {
        (Some(PolicyType::IdentityBased), Decision::Implicit) => {
            let (resource, _) = draft_resource(Some(&role));
            Advice {
                cause: format!(
                    "No identity-based policy of {} allows {action} on {role}.",
                    f.holder()
                ),
                next_step: format!(
                    "Allow {action} on {role} in a policy of {} (draft below, review before use); the trust policy of {role} must also trust the caller: {trust}.",
                    f.holder()
                ),
                draft_policy: Some(draft(action, resource, None)),
            }
        }
        (Some(PolicyType::IdentityBased), Decision::Explicit) => Advice {
            cause: format!(
                "An explicit Deny in an identity-based policy{} of {} blocks {action} on {role}.",
                f.policy_arn(),
                f.holder()
            ),
            next_step: format!(
                "Remove or narrow the Deny on {action} in the policies of {}; no Allow can override it.",
                f.holder()
            ),
            draft_policy: None,
        },
        (Some(PolicyType::RoleTrustPolicy), decision) => Advice {
            cause: format!(
                "The trust policy of {role} {} {principal}.",
                if decision == Decision::Explicit {
                    "explicitly denies"
                } else {
                    "does not allow assuming it to"
                }
            ),
            next_step: format!(
                "Fix the trust policy of {role}: {trust}. Role names are case-sensitive."
            ),
            draft_policy: None,
        },
        _ => Advice {
            cause: format!(
                "{principal} could not assume {role}: either the role's trust policy does not trust it or the caller lacks {action} on the role."
            ),
            next_step: format!(
                "Check the trust policy of {role} ({trust}) and that {} has {action} on {role} in its own policy; role names are case-sensitive.",
                f.holder()
            ),
            draft_policy: None,
        },
    }
}

/// Denials decided by the principal's or the resource's own policies, or not said at all.
fn by_policy(f: &Facts) -> Advice {
    let (action, principal, on, holder) = (f.action(), f.principal(), f.on_resource(), f.holder());
    let arn_principal = f.principal.is_some_and(|p| p.starts_with("arn:"));
    match (f.denial.policy_type, f.denial.decision) {
        (Some(PolicyType::IdentityBased), Decision::Explicit) => Advice {
            cause: format!(
                "An explicit Deny in an identity-based policy{} of {holder} blocks {action}{on}.",
                f.policy_arn()
            ),
            next_step: format!(
                "Find the Deny statement matching {action} in {} and remove or narrow it; no Allow can override it.",
                f.denial
                    .policy_arn
                    .clone()
                    .unwrap_or_else(|| format!("the policies of {holder} and its groups"))
            ),
            draft_policy: None,
        },
        (Some(PolicyType::ResourceBased), Decision::Explicit) => Advice {
            cause: format!(
                "An explicit Deny in the resource-based policy{} of {} blocks {action} for {principal}.",
                f.policy_arn(),
                f.resource_name()
            ),
            next_step: format!(
                "Find the Deny statement matching {principal} in the policy of {} (bucket, key, queue or other resource policy) and remove or narrow it.",
                f.resource_name()
            ),
            draft_policy: None,
        },
        (None, Decision::Explicit) => Advice {
            cause: format!(
                "An explicit Deny blocks {action}{on} for {principal}; this older message does not say in which policy."
            ),
            next_step: format!(
                "Look for a Deny matching {action} in the policies of {holder}, its permissions boundary, the resource's policy and the organization's SCPs; no Allow can override it."
            ),
            draft_policy: None,
        },
        (Some(PolicyType::ResourceBased), _) => Advice {
            cause: format!(
                "The resource-based policy of {} does not grant {action} to {principal}.",
                f.resource_name()
            ),
            next_step: format!(
                "Add a statement allowing {action} with {holder} as Principal to the policy of {} (bucket, key, queue or other resource policy); across accounts the caller's identity policy must allow it too.",
                f.resource_name()
            ),
            draft_policy: None,
        },
        (Some(PolicyType::IdentityBased), _) => identity_allow(f, true),
        (None, _) if f.action.is_some() && arn_principal => identity_allow(f, false),
        (None, _) if f.denial.encoded_message.is_some() => Advice {
            cause: format!(
                "{} refused {} and put the details in an encoded authorization message.",
                if contains_ignore_case(f.code, "unauthorizedoperation") {
                    "EC2"
                } else {
                    "The service"
                },
                f.action()
            ),
            next_step: format!(
                "Decode the event's encoded message to see the action, resource and the policy that decided (needs sts:DecodeAuthorizationMessage): {}",
                decode_command(f.denial.encoded_message.as_deref().unwrap_or_default())
            ),
            draft_policy: None,
        },
        _ => Advice {
            cause: format!(
                "{action}{on} was denied for {principal} and the log does not say by which policy."
            ),
            next_step: if f.is_s3() {
                format!(
                    "Check the identity policy of {holder}, the bucket policy, SCPs, the bucket's ACLs and Object Ownership, and for SSE-KMS objects the KMS key policy; the IAM policy simulator or the event's additionalEventData can narrow it down."
                )
            } else {
                format!(
                    "Check the identity policy of {holder}, its permissions boundary, any resource policy and the SCPs; the IAM policy simulator can tell which one refuses it."
                )
            },
            draft_policy: None,
        },
    }
}

/// The usual fix: an Allow for exactly this action in the principal's own policy.
fn identity_allow(f: &Facts, stated: bool) -> Advice {
    let (action, principal, on, holder) = (f.action(), f.principal(), f.on_resource(), f.holder());
    let (resource, exact) = f.draft_target();
    let cause = if stated {
        format!("No identity-based policy of {holder} allows {action}{on}.")
    } else {
        format!(
            "{principal} was denied {action}{on}; the message does not say by which policy, and most often no identity-based policy allows it."
        )
    };
    let mut next_step = format!(
        "Add a statement allowing {action} on {resource} to a policy of {holder} (draft below, review before use); IAM changes can take a few seconds to apply."
    );
    if !exact && let Some(named) = f.resource() {
        next_step.push_str(&format!(" Replace \"*\" with the ARN of {named}."));
    }
    if !stated {
        next_step.push_str(
            " If a policy already allows it, look for a Deny in an SCP, the permissions boundary or the resource's policy.",
        );
    }
    Advice {
        cause,
        next_step,
        draft_policy: f.action.map(|a| draft(a, &resource, None)),
    }
}

/// The resource to put in a draft, and whether it is the denied resource itself. Some services
/// name a resource rather than give its ARN (`role MyRole`); a policy needs an ARN, so those
/// become `*` for the reader to narrow.
fn draft_resource(resource: Option<&str>) -> (&str, bool) {
    match resource {
        Some(r) if r == "*" || (r.starts_with("arn:") && !r.contains(' ')) => (r, true),
        _ => ("*", false),
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyDocument<'a> {
    version: &'a str,
    statement: [Statement<'a>; 1],
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement<'a> {
    sid: String,
    effect: &'a str,
    action: &'a str,
    resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>>,
}

/// A policy document for one statement. Structs rather than a `serde_json::Value`, so that the
/// keys keep IAM's customary order whatever features serde_json was built with.
fn draft(action: &str, resource: &str, passed_to_service: Option<&str>) -> String {
    let document = PolicyDocument {
        version: "2012-10-17",
        statement: [Statement {
            sid: sid(action),
            effect: "Allow",
            action,
            resource,
            condition: passed_to_service.map(|service| {
                BTreeMap::from([(
                    "StringEquals",
                    BTreeMap::from([("iam:PassedToService", service)]),
                )])
            }),
        }],
    };
    // Serializing strings and maps cannot fail.
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// `Allow` and the action in PascalCase: a Sid may hold only letters and digits.
fn sid(action: &str) -> String {
    let mut sid = String::from("Allow");
    for word in action.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            sid.push(first.to_ascii_uppercase());
            sid.extend(chars);
        }
    }
    sid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_message;

    const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/Deployer/ci-run";
    const ISSUER: &str = "arn:aws:iam::123456789012:role/ci/Deployer";
    const SCP_ARN: &str =
        "arn:aws:organizations::111111111111:policy/o-a1b2c3d4e5/service_control_policy/p-12345678";

    fn session_context<'a>(source: &'a str, name: &'a str) -> Context<'a> {
        Context {
            event_source: Some(source),
            event_name: Some(name),
            principal_arn: Some(SESSION),
            session_issuer_arn: Some(ISSUER),
            request_parameters: None,
            identity_type: Some("AssumedRole"),
            invoked_by: None,
        }
    }

    fn statement(draft: &str) -> serde_json::Value {
        let document: serde_json::Value = serde_json::from_str(draft).unwrap();
        assert_eq!(document["Version"], "2012-10-17");
        let statements = document["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        statements[0].clone()
    }

    #[test]
    fn scp_deny_names_the_policy_and_the_organization() {
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* with an explicit deny in a service control policy: {SCP_ARN}"
        ));
        let advice = advise(
            &denial,
            "Client.UnauthorizedOperation",
            &session_context("ec2.amazonaws.com", "RunInstances"),
        );
        assert!(advice.cause.contains(SCP_ARN), "{advice:?}");
        assert!(advice.next_step.contains(SCP_ARN), "{advice:?}");
        assert!(advice.next_step.contains("organization"), "{advice:?}");
        assert!(advice.cause.contains("ec2:RunInstances"), "{advice:?}");
        assert_eq!(advice.draft_policy, None);
    }

    #[test]
    fn rcp_and_transitive_denials_point_at_the_organization() {
        for message in [
            "User: a is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in a resource control policy",
            "User: a is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in a VPC endpoint policy transitively through a service control policy",
        ] {
            let advice = advise(&parse_message(message), "AccessDenied", &Context::default());
            assert!(advice.next_step.contains("organization"), "{advice:?}");
            assert_eq!(advice.draft_policy, None);
        }
        let transitive = advise(
            &parse_message(
                "User: a is not authorized to perform: s3:GetObject with an explicit deny in a VPC endpoint policy transitively through a service control policy",
            ),
            "AccessDenied",
            &Context::default(),
        );
        assert!(transitive.cause.contains("VPC endpoint policy"));
        assert!(transitive.cause.contains("service control policy"));
    }

    #[test]
    fn boundary_session_and_endpoint_denials_say_who_changes_what() {
        let cases = [
            ("permissions boundary", "boundary policy"),
            ("session policy", "Re-assume"),
            ("sessions policy", "intersection"),
            ("VPC endpoint policy", "VPC endpoint policy"),
        ];
        for (phrase, expected) in cases {
            for verdict in [
                format!("with an explicit deny in a {phrase}"),
                format!("because no {phrase} allows the s3:PutObject action"),
            ] {
                let denial = parse_message(&format!(
                    "User: {SESSION} is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k {verdict}"
                ));
                let advice = advise(
                    &denial,
                    "AccessDenied",
                    &session_context("s3.amazonaws.com", "PutObject"),
                );
                let text = format!("{} {}", advice.cause, advice.next_step);
                assert!(text.contains(expected), "{verdict}: {advice:?}");
                assert!(text.contains("s3:PutObject"), "{verdict}: {advice:?}");
                assert_eq!(advice.draft_policy, None);
            }
        }
        let vpce = advise(
            &parse_message("The request was denied due to a VPC endpoint policy"),
            "VpceAccessDenied",
            &session_context("s3.amazonaws.com", "GetObject"),
        );
        assert!(vpce.cause.contains("VPC endpoint"), "{vpce:?}");
    }

    #[test]
    fn pass_role_names_the_role_and_the_service() {
        let role = "arn:aws:iam::123456789012:role/app-instance";
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: iam:PassRole on resource: {role}"
        ));
        let advice = advise(
            &denial,
            "AccessDenied",
            &session_context("ec2.amazonaws.com", "RunInstances"),
        );
        let text = format!("{} {}", advice.cause, advice.next_step);
        assert!(text.contains(role), "{advice:?}");
        assert!(text.contains("ec2.amazonaws.com"), "{advice:?}");
        assert!(text.contains("iam:PassedToService"), "{advice:?}");
        assert!(advice.next_step.contains(ISSUER), "{advice:?}");
        let statement = statement(advice.draft_policy.as_deref().unwrap());
        assert_eq!(statement["Action"], "iam:PassRole");
        assert_eq!(statement["Resource"], role);
        assert_eq!(
            statement["Condition"]["StringEquals"]["iam:PassedToService"],
            "ec2.amazonaws.com"
        );
    }

    #[test]
    fn pass_role_denied_by_an_scp_still_names_role_and_service() {
        let role = "arn:aws:iam::123456789012:role/app-instance";
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: iam:PassRole on resource: {role} with an explicit deny in a service control policy"
        ));
        let advice = advise(
            &denial,
            "AccessDenied",
            &session_context("lambda.amazonaws.com", "CreateFunction"),
        );
        assert!(advice.next_step.contains("organization"), "{advice:?}");
        assert!(advice.next_step.contains(role), "{advice:?}");
        assert!(
            advice.next_step.contains("lambda.amazonaws.com"),
            "{advice:?}"
        );
        assert_eq!(advice.draft_policy, None);
    }

    #[test]
    fn assume_role_points_at_the_trust_policy() {
        let target = "arn:aws:iam::444455556666:role/Target";
        for message in [
            format!(
                "User: {SESSION} is not authorized to perform: sts:AssumeRole on resource: {target}"
            ),
            format!(
                "User: {SESSION} is not authorized to perform: sts:AssumeRole on resource: {target} because no role trust policy allows the sts:AssumeRole action"
            ),
            format!(
                "User: {SESSION} is not authorized to perform: sts:AssumeRole on resource: {target} with an explicit deny in the role trust policy"
            ),
            format!(
                "User: {SESSION} is not authorized to perform: sts:AssumeRole on resource: {target} because no identity-based policy allows the sts:AssumeRole action"
            ),
        ] {
            let advice = advise(
                &parse_message(&message),
                "AccessDenied",
                &session_context("sts.amazonaws.com", "AssumeRole"),
            );
            let text = format!("{} {}", advice.cause, advice.next_step);
            assert!(text.contains("trust policy"), "{message}: {advice:?}");
            assert!(text.contains(target), "{message}: {advice:?}");
            assert!(text.contains("Principal"), "{message}: {advice:?}");
        }
    }

    #[test]
    fn assume_role_without_a_resource_reads_the_request() {
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: sts:AssumeRole"
        ));
        let context = Context {
            request_parameters: Some(
                r#"{"roleArn":"arn:aws:iam::444455556666:role/FromRequest","roleSessionName":"x"}"#,
            ),
            ..session_context("sts.amazonaws.com", "AssumeRole")
        };
        let advice = advise(&denial, "AccessDenied", &context);
        assert!(
            advice
                .cause
                .contains("arn:aws:iam::444455556666:role/FromRequest"),
            "{advice:?}"
        );
    }

    #[test]
    fn implicit_identity_denial_drafts_exactly_the_action_and_resource() {
        let resource = "arn:aws:s3:::amzn-s3-demo-bucket/report.csv";
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: s3:GetObject on resource: {resource} because no identity-based policy allows the s3:GetObject action"
        ));
        let advice = advise(
            &denial,
            "AccessDenied",
            &session_context("s3.amazonaws.com", "GetObject"),
        );
        assert!(advice.next_step.contains("draft"), "{advice:?}");
        assert!(advice.next_step.contains(ISSUER), "{advice:?}");
        let statement = statement(advice.draft_policy.as_deref().unwrap());
        assert_eq!(statement["Action"], "s3:GetObject");
        assert_eq!(statement["Resource"], resource);
        assert_eq!(statement["Sid"], "AllowS3GetObject");
        assert_eq!(statement.as_object().unwrap().len(), 4, "{statement}");
    }

    #[test]
    fn a_named_resource_or_none_drafts_a_star() {
        for message in [
            "User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: ecs:GetWidget on resource: my-example-widget",
            "You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: ec2:DescribeVpcs because no identity-based policy allows the ec2:DescribeVpcs action",
        ] {
            let advice = advise(&parse_message(message), "AccessDenied", &Context::default());
            let statement = statement(advice.draft_policy.as_deref().unwrap());
            assert_eq!(statement["Resource"], "*", "{advice:?}");
            assert!(
                advice
                    .next_step
                    .contains("arn:aws:iam::123456789012:user/mateojackson")
            );
        }
    }

    #[test]
    fn explicit_identity_and_resource_denials_find_the_deny() {
        for (phrase, expected) in [
            ("an identity-based policy", "identity-based"),
            ("a resource-based policy", "resource-based"),
        ] {
            let advice = advise(
                &parse_message(&format!(
                    "User: {SESSION} is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:q with an explicit deny in {phrase}"
                )),
                "AccessDenied",
                &session_context("sqs.amazonaws.com", "SendMessage"),
            );
            assert!(advice.cause.contains(expected), "{advice:?}");
            assert!(advice.next_step.contains("Deny"), "{advice:?}");
            assert_eq!(advice.draft_policy, None);
        }
        let resource_policy = advise(
            &parse_message(&format!(
                "User: {SESSION} is not authorized to perform: s3:GetObject on \"arn:aws:s3:::b/k\" because no resource-based policy allows the s3:GetObject action"
            )),
            "AccessDenied",
            &session_context("s3.amazonaws.com", "GetObject"),
        );
        assert!(
            resource_policy.next_step.contains(ISSUER),
            "{resource_policy:?}"
        );
        assert!(resource_policy.next_step.contains("arn:aws:s3:::b/k"));
    }

    #[test]
    fn ec2_encoded_message_says_how_to_decode_it() {
        let denial = parse_message(
            "You are not authorized to perform this operation. Encoded authorization failure message: QmxvYg-xyz",
        );
        let advice = advise(
            &denial,
            "Client.UnauthorizedOperation",
            &session_context("ec2.amazonaws.com", "RunInstances"),
        );
        assert!(
            advice.next_step.contains("decode-authorization-message"),
            "{advice:?}"
        );
        assert!(
            advice.next_step.contains(
                "`aws sts decode-authorization-message --encoded-message QmxvYg-xyz --query DecodedMessage --output text`"
            ),
            "{advice:?}"
        );
        assert!(advice.cause.contains("RunInstances"), "{advice:?}");

        let with_sentence = advise(
            &parse_message(&format!(
                "You are not authorized to perform this operation. User: {SESSION} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: QmxvYg"
            )),
            "Client.UnauthorizedOperation",
            &session_context("ec2.amazonaws.com", "RunInstances"),
        );
        assert!(with_sentence.draft_policy.is_some());
        assert!(
            with_sentence
                .next_step
                .contains("decode-authorization-message")
        );
    }

    #[test]
    fn unexplained_denials_list_where_to_look() {
        let s3 = advise(
            &parse_message("Access Denied"),
            "AccessDenied",
            &session_context("s3.amazonaws.com", "GetObject"),
        );
        for expected in ["bucket policy", "SCP", "ACL", "KMS key policy", "simulator"] {
            assert!(s3.next_step.contains(expected), "{expected}: {s3:?}");
        }
        assert!(s3.cause.contains("GetObject"));
        assert_eq!(s3.draft_policy, None);

        let empty = advise(
            &parse_message(""),
            "UnauthorizedOperation",
            &Context::default(),
        );
        assert!(empty.next_step.contains("simulator"), "{empty:?}");
        assert_eq!(empty.draft_policy, None);
    }

    #[test]
    fn advice_is_deterministic() {
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/r"
        ));
        let context = session_context("ecs.amazonaws.com", "RunTask");
        assert_eq!(
            advise(&denial, "AccessDenied", &context),
            advise(&denial, "AccessDenied", &context)
        );
    }

    #[test]
    fn holder_of_a_session_without_issuer_is_its_role() {
        let denial = parse_message(&format!(
            "User: {SESSION} is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/k because no identity-based policy allows the kms:Decrypt action"
        ));
        let advice = advise(&denial, "AccessDeniedException", &Context::default());
        assert!(
            advice
                .cause
                .contains("arn:aws:iam::123456789012:role/Deployer"),
            "{advice:?}"
        );
    }

    #[test]
    fn articles_follow_the_next_word() {
        assert_eq!(
            with_article("identity-based policy"),
            "an identity-based policy"
        );
        assert_eq!(
            with_article("resource-based policy"),
            "a resource-based policy"
        );
        assert_eq!(with_article("VPC endpoint policy"), "a VPC endpoint policy");
        assert_eq!(with_article("SCP"), "an SCP");
        assert_eq!(with_article("user"), "a user");
        assert_eq!(
            crate::triage::cause_summary(&parse_message(
                "User: a is not authorized to perform: s3:GetObject with an explicit deny in an identity-based policy"
            )),
            "explicit deny in an identity-based policy"
        );
        let transitive = advise(
            &parse_message(
                "User: a is not authorized to perform: s3:GetObject with an explicit deny in an identity-based policy transitively through a service control policy",
            ),
            "AccessDenied",
            &Context::default(),
        );
        assert!(
            transitive
                .cause
                .contains("in an identity-based policy applied"),
            "{transitive:?}"
        );
        assert!(!transitive.cause.contains(" a identity"), "{transitive:?}");
    }

    #[test]
    fn a_service_principal_is_told_which_service_and_role() {
        for verdict in [
            "because no session policy allows the s3:PutObject action",
            "because no identity-based policy allows the s3:PutObject action",
            "with an explicit deny in a resource-based policy",
            "",
        ] {
            let denial = parse_message(&format!(
                "User: arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForConfig/session is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::config-bucket/AWSLogs/x {verdict}"
            ));
            let context = Context {
                event_source: Some("s3.amazonaws.com"),
                event_name: Some("PutObject"),
                identity_type: Some("AWSService"),
                invoked_by: Some("config.amazonaws.com"),
                ..Context::default()
            };
            let advice = advise(&denial, "AccessDenied", &context);
            let text = format!("{} {}", advice.cause, advice.next_step);
            assert!(!text.contains("Re-assume"), "{verdict}: {advice:?}");
            assert!(
                text.contains("config.amazonaws.com"),
                "{verdict}: {advice:?}"
            );
            assert!(
                text.contains("arn:aws:iam::123456789012:role/AWSServiceRoleForConfig"),
                "{verdict}: {advice:?}"
            );
        }
        // Without an ARN the service names itself, and the advice says what to look at.
        let advice = advise(
            &parse_message("Access Denied"),
            "AccessDenied",
            &Context {
                event_source: Some("s3.amazonaws.com"),
                event_name: Some("GetObject"),
                identity_type: Some("AWSService"),
                invoked_by: Some("cloudtrail.amazonaws.com"),
                ..Context::default()
            },
        );
        assert!(
            advice.cause.starts_with("cloudtrail.amazonaws.com"),
            "{advice:?}"
        );
        assert!(
            advice.next_step.contains("service-linked role"),
            "{advice:?}"
        );
        assert!(advice.next_step.contains("bucket policy"), "{advice:?}");
    }

    #[test]
    fn the_draft_names_the_resource_the_request_names() {
        let user = "arn:aws:iam::123456789012:user/bob";
        for (source, name, request, expected) in [
            (
                "iam.amazonaws.com",
                "GetUserPolicy",
                r#"{"userName":"bob","policyName":"p"}"#,
                user,
            ),
            (
                "iam.amazonaws.com",
                "ListAttachedUserPolicies",
                r#"{"userName":"bob"}"#,
                user,
            ),
            (
                "iam.amazonaws.com",
                "GetRole",
                r#"{"roleName":"Deployer"}"#,
                "arn:aws:iam::123456789012:role/Deployer",
            ),
            (
                "s3.amazonaws.com",
                "GetBucketPolicy",
                r#"{"bucketName":"b","Host":"b.s3"}"#,
                "arn:aws:s3:::b",
            ),
            (
                "s3.amazonaws.com",
                "GetObject",
                r#"{"bucketName":"b","key":"k/1"}"#,
                "arn:aws:s3:::b/k/1",
            ),
            (
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                r#"{"secretId":"db"}"#,
                "arn:aws:secretsmanager:*:123456789012:secret:db-??????",
            ),
        ] {
            let action = format!("{}:{name}", source.split('.').next().unwrap());
            let denial = parse_message(&format!(
                "User: {SESSION} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
            ));
            let context = Context {
                request_parameters: Some(request),
                ..session_context(source, name)
            };
            let advice = advise(&denial, "AccessDenied", &context);
            let statement = statement(advice.draft_policy.as_deref().unwrap());
            assert_eq!(statement["Resource"], expected, "{name}: {advice:?}");
            assert!(!advice.next_step.contains("Replace"), "{name}: {advice:?}");
        }
    }

    #[test]
    fn sids_are_alphanumeric() {
        assert_eq!(sid("iam:PassRole"), "AllowIamPassRole");
        assert_eq!(
            sid("ec2-instance-connect:SendSSHPublicKey"),
            "AllowEc2InstanceConnectSendSSHPublicKey"
        );
    }
}
