//! Properties of the message parser over generated messages: whatever the text, no panic and
//! nothing extracted that the text does not hold; a message written from a principal, an action
//! and a resource reads back as them.
//!
//! Each property runs a few thousand cases; `PROPTEST_CASES=100000 cargo test -p ctq-denial
//! properties` runs more.

use ctq_denial::{Decision, PolicyType, parse_message};
use proptest::prelude::*;

/// Pieces of the message forms AWS writes, and characters that are not ASCII (some change length
/// when case-folded, some are whitespace).
const FRAGMENTS: &[&str] = &[
    "User: ",
    "User",
    "arn:aws:iam::123456789012:user/x",
    "arn:aws:sts::123456789012:assumed-role/Role/session",
    " is not authorized to perform: ",
    "not authorized to perform:",
    "s3:GetObject",
    " on resource: ",
    "on resource:",
    " on \"",
    "arn:aws:s3:::bucket/key",
    "\"",
    "'",
    " because no ",
    "identity-based policy",
    " allows the s3:GetObject action",
    " with an explicit deny",
    " with an implicit deny",
    " in a ",
    "the ",
    "service control policy",
    "sessions policy",
    "permissions boundary",
    ": arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-1",
    " transitively through ",
    "a VPC endpoint polic",
    "You are not authorized to perform this operation. ",
    "Encoded authorization failure message: ",
    "QmxvYg",
    ".",
    ",",
    ":",
    " ",
    "  \n\t",
    "\u{a0}",
    "\u{2028}",
    "é",
    "İ",
    "ẞ",
    "\u{212a}",
    "😀",
    "\u{0}",
];

/// Fragments cut anywhere (at a character) and put back together in any order.
fn chopped_message() -> impl Strategy<Value = String> {
    let piece = (
        prop::sample::select(FRAGMENTS),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(fragment, from, to)| {
            let chars: Vec<char> = fragment.chars().collect();
            let (a, b) = (from.index(chars.len() + 1), to.index(chars.len() + 1));
            chars[a.min(b)..a.max(b)].iter().collect::<String>()
        });
    let piece = prop_oneof![
        6 => piece,
        2 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

/// A name as IAM allows it in an ARN's last parts: letters, digits and `+=,.@_-`.
fn iam_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+=,.@_-]{1,24}"
}

fn principal() -> impl Strategy<Value = String> {
    (
        "[0-9]{12}",
        iam_name(),
        iam_name(),
        prop::sample::select(vec!["user", "role", "assumed-role"]),
    )
        .prop_map(|(account, name, session, kind)| match kind {
            "assumed-role" => format!("arn:aws:sts::{account}:assumed-role/{name}/{session}"),
            _ => format!("arn:aws:iam::{account}:{kind}/{name}"),
        })
}

fn action() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{1,15}:[A-Z][A-Za-z0-9]{1,30}"
}

/// Resources as services write them: ARNs (S3 keys may hold spaces and dots) and names. The
/// parser reads a run of whitespace as one space (messages are wrapped over lines), so keys hold
/// single spaces.
fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[0-9]{12}", iam_name())
            .prop_map(|(account, name)| format!("arn:aws:iam::{account}:role/{name}")),
        "[a-z0-9][a-z0-9.-]{2,20}/[A-Za-z0-9/_.-]{0,12}[A-Za-z0-9_]( [A-Za-z0-9/_.-]{0,12}[A-Za-z0-9_]){0,2}"
            .prop_map(|path| format!("arn:aws:s3:::{path}")),
        "[A-Za-z][A-Za-z0-9-]{0,20}",
        iam_name().prop_map(|name| format!("role {name}")),
    ]
}

const PHRASES: &[(&str, &str, PolicyType)] = &[
    (
        "a",
        "service control policy",
        PolicyType::ServiceControlPolicy,
    ),
    (
        "a",
        "resource control policy",
        PolicyType::ResourceControlPolicy,
    ),
    ("an", "identity-based policy", PolicyType::IdentityBased),
    ("a", "resource-based policy", PolicyType::ResourceBased),
    ("a", "permissions boundary", PolicyType::PermissionsBoundary),
    ("a", "session policy", PolicyType::SessionPolicy),
    ("a", "VPC endpoint policy", PolicyType::VpcEndpointPolicy),
    ("the", "role trust policy", PolicyType::RoleTrustPolicy),
];

/// What the message ends with after the resource.
#[derive(Debug, Clone)]
enum Verdict {
    None,
    Explicit(Option<(usize, Option<String>)>),
    Implicit(usize),
}

fn verdict() -> impl Strategy<Value = Verdict> {
    let phrase = 0..PHRASES.len();
    let policy_arn = proptest::option::of(
        ("[0-9]{12}", iam_name())
            .prop_map(|(account, name)| format!("arn:aws:iam::{account}:policy/{name}")),
    );
    prop_oneof![
        Just(Verdict::None),
        proptest::option::of((phrase.clone(), policy_arn)).prop_map(Verdict::Explicit),
        phrase.prop_map(Verdict::Implicit),
    ]
}

/// A message in one of AWS's forms, and the parse it should read as.
#[derive(Debug, Clone)]
struct Written {
    message: String,
    principal: String,
    action: String,
    resource: Option<String>,
    decision: Decision,
    policy_type: Option<PolicyType>,
    policy_arn: Option<String>,
    encoded: Option<String>,
}

fn written_message() -> impl Strategy<Value = Written> {
    (
        principal(),
        action(),
        proptest::option::of((resource(), any::<bool>())),
        verdict(),
        any::<bool>(),
        proptest::option::of("[A-Za-z0-9_-]{1,40}"),
        prop::sample::select(vec!["", ".", "\n", " .\r\n"]),
    )
        .prop_map(
            |(principal, action, resource, verdict, ec2, encoded, ending)| {
                let mut message = String::new();
                if ec2 || encoded.is_some() {
                    message += "You are not authorized to perform this operation. ";
                }
                message += &format!("User: {principal} is not authorized to perform: {action}");
                // Ending the sentence unquoted, a name's last `.` would read as the sentence's
                // period: such a resource ends otherwise. Anywhere else the `.` is the name's.
                let resource = resource.map(|(resource, quoted)| {
                    if matches!(verdict, Verdict::None) && !quoted && resource.ends_with('.') {
                        (format!("{resource}_"), quoted)
                    } else {
                        (resource, quoted)
                    }
                });
                match &resource {
                    // S3 quotes the resource.
                    Some((resource, true)) => message += &format!(" on \"{resource}\""),
                    Some((resource, false)) => message += &format!(" on resource: {resource}"),
                    None => {}
                }
                let (decision, policy_type, policy_arn) = match &verdict {
                    Verdict::None => (Decision::NotStated, None, None),
                    Verdict::Explicit(None) => {
                        message += " with an explicit deny";
                        (Decision::Explicit, None, None)
                    }
                    Verdict::Explicit(Some((phrase, arn))) => {
                        let (article, name, policy_type) = PHRASES[*phrase];
                        message += &format!(" with an explicit deny in {article} {name}");
                        if let Some(arn) = arn {
                            message += &format!(": {arn}");
                        }
                        (Decision::Explicit, Some(policy_type), arn.clone())
                    }
                    Verdict::Implicit(phrase) => {
                        let (_, name, policy_type) = PHRASES[*phrase];
                        message += &format!(" because no {name} allows the {action} action");
                        (Decision::Implicit, Some(policy_type), None)
                    }
                };
                match &encoded {
                    Some(blob) => {
                        message += &format!(". Encoded authorization failure message: {blob}");
                    }
                    None => message += ending,
                }
                // The policy's ARN ends the sentence: its punctuation is the sentence's.
                let policy_arn =
                    policy_arn.map(|arn: String| arn.trim_end_matches(['.', ',', ';']).to_owned());
                Written {
                    message,
                    principal,
                    action,
                    resource: resource.map(|(resource, _)| resource),
                    decision,
                    policy_type,
                    policy_arn,
                    encoded,
                }
            },
        )
}

/// Runs of whitespace as one space, as the parser reads the message.
fn collapsed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

proptest! {
    #![proptest_config(ctq_testkit::proptest_config(3000))]

    /// No panic, whatever the text; every part read is text the message holds.
    #[test]
    fn any_text_parses_to_parts_it_holds(
        message in prop_oneof![any::<String>(), chopped_message()]
    ) {
        let denial = parse_message(&message);
        let text = collapsed(&message);
        for part in [
            &denial.principal,
            &denial.action,
            &denial.resource,
            &denial.policy_arn,
            &denial.encoded_message,
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(!part.is_empty() && text.contains(part.as_str()), "{:?} from {:?}", part, message);
        }
    }

    #[test]
    fn a_written_message_reads_back(written in written_message()) {
        let denial = parse_message(&written.message);
        let message = &written.message;
        prop_assert_eq!(denial.principal.as_deref(), Some(written.principal.as_str()), "{:?}", message);
        prop_assert_eq!(denial.action.as_deref(), Some(written.action.as_str()), "{:?}", message);
        prop_assert_eq!(&denial.resource, &written.resource, "{:?}", message);
        prop_assert_eq!(denial.decision, written.decision, "{:?}", message);
        prop_assert_eq!(denial.policy_type, written.policy_type, "{:?}", message);
        prop_assert_eq!(&denial.policy_arn, &written.policy_arn, "{:?}", message);
        prop_assert_eq!(&denial.encoded_message, &written.encoded, "{:?}", message);
    }
}

/// Found by `a_written_message_reads_back`: IAM names may end in `,` or `.`, which the parser took
/// for the sentence's punctuation wherever they stood.
#[test]
fn a_name_ending_in_punctuation_keeps_it_mid_sentence() {
    let denial = parse_message(
        "User: arn:aws:sts::000000000000:assumed-role/0/, is not authorized to perform: a-:Aa",
    );
    assert_eq!(
        denial.principal.as_deref(),
        Some("arn:aws:sts::000000000000:assumed-role/0/,")
    );
    let denial = parse_message(
        "User: arn:aws:iam::123456789012:user/ops. is not authorized to perform: iam:PassRole on \
         resource: arn:aws:iam::123456789012:role/deploy. because no identity-based policy allows \
         the iam:PassRole action",
    );
    assert_eq!(
        denial.principal.as_deref(),
        Some("arn:aws:iam::123456789012:user/ops.")
    );
    assert_eq!(
        denial.resource.as_deref(),
        Some("arn:aws:iam::123456789012:role/deploy.")
    );
    // Quoted, an S3 key keeps its last `.`; ending the sentence, a period is the sentence's.
    let denial = parse_message(
        "User: arn:aws:iam::123456789012:user/x is not authorized to perform: s3:GetObject on \
         \"arn:aws:s3:::bucket/notes.\" because no resource-based policy allows the s3:GetObject \
         action.",
    );
    assert_eq!(
        denial.resource.as_deref(),
        Some("arn:aws:s3:::bucket/notes.")
    );
    let denial = parse_message(
        "User: arn:aws:iam::123456789012:user/x is not authorized to perform: iam:GetRole on \
         resource: role Deploy.",
    );
    assert_eq!(denial.resource.as_deref(), Some("role Deploy"));
}
