//! Borrowed serde views of a CloudTrail record.
//!
//! Records are parsed straight out of the decompressed file buffer: strings without escapes borrow
//! from it, and the free-form documents are kept as `RawValue` slices, so a record costs no
//! allocation beyond its escaped strings. Unknown fields are ignored (CloudTrail adds fields over
//! time); scalar fields tolerate any JSON scalar because real trails and tools disagree on whether
//! `readOnly` or `mfaAuthenticated` are booleans or strings.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::schema::{ColumnSet, column};

/// A string column's value: any JSON scalar, rendered as Athena would show it as `string`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Text<'a>(pub Option<Cow<'a, str>>);

impl Text<'_> {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON scalar")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            // A document where a scalar was expected keeps its JSON text rather than failing the file.
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let value =
                    serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Text(Some(Cow::Owned(value.to_string()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let value =
                    serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Text(Some(Cow::Owned(value.to_string()))))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A free-form document column (`requestparameters` and the like), kept as its JSON text.
#[derive(Debug, Default, Clone)]
pub(crate) struct Document<'a>(pub Option<&'a str>);

impl<'de: 'a, 'a> Deserialize<'de> for Document<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: &'a RawValue = Deserialize::deserialize(deserializer)?;
        Ok(Document((raw.get() != "null").then_some(raw.get())))
    }
}

/// A record field's value read from its JSON text alone, as the record index finds it
/// ([`set_record_field`]); the text is valid JSON, checked when the file was indexed.
pub(crate) trait FromJsonText<'de>: Sized {
    fn from_json_text(text: &'de str) -> Result<Self, serde_json::Error>;
}

// A document's text is its value: taken as it stands, not walked again.
impl<'de> FromJsonText<'de> for Document<'de> {
    fn from_json_text(text: &'de str) -> Result<Self, serde_json::Error> {
        let text = text.trim_ascii();
        Ok(Document((text != "null").then_some(text)))
    }
}

macro_rules! from_json_text_by_serde {
    ($($kind:ty),*) => {
        $(impl<'de> FromJsonText<'de> for $kind {
            fn from_json_text(text: &'de str) -> Result<Self, serde_json::Error> {
                serde_json::from_str(text)
            }
        })*
    };
}

// Most values are strings without an escape: borrowed as they stand, without setting up a
// parser for each. The index has checked the text (no control character inside a string, every
// quote closed), so the quotes alone delimit it; anything else goes to serde_json.
impl<'de> FromJsonText<'de> for Text<'de> {
    fn from_json_text(text: &'de str) -> Result<Self, serde_json::Error> {
        let trimmed = text.trim_ascii();
        if let Some(inner) = trimmed
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            && memchr::memchr2(b'\\', b'"', inner.as_bytes()).is_none()
        {
            return Ok(Text(Some(Cow::Borrowed(inner))));
        }
        serde_json::from_str(text)
    }
}

from_json_text_by_serde!(
    Option<SharedIdentity<'de>>,
    Option<Vec<Resource<'de>>>,
    Option<Box<Addendum<'de>>>,
    Option<Shared<TlsDetails<'de>>>
);

impl Document<'_> {
    /// The column text: objects and arrays verbatim; a JSON string unquoted, as Athena shows it.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        let raw = self.0?;
        if raw.starts_with('"') {
            match serde_json::from_str::<Cow<str>>(raw) {
                Ok(s) => Some(s),
                Err(_) => Some(Cow::Borrowed(raw)),
            }
        } else {
            Some(Cow::Borrowed(raw))
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Record<'a> {
    pub event_version: Text<'a>,
    // Shared: the records of a file repeat a few identities, parsed once each; and held apart,
    // with the rare structs below, so that the records of a file, held until it has parsed, are
    // small to write and move.
    pub user_identity: Option<SharedIdentity<'a>>,
    pub event_time: Text<'a>,
    pub event_source: Text<'a>,
    pub event_name: Text<'a>,
    pub aws_region: Text<'a>,
    pub source_ip_address: Text<'a>,
    pub user_agent: Text<'a>,
    pub error_code: Text<'a>,
    pub error_message: Text<'a>,
    pub request_parameters: Document<'a>,
    pub response_elements: Document<'a>,
    pub additional_event_data: Document<'a>,
    pub request_id: Text<'a>,
    pub event_id: Text<'a>,
    pub resources: Option<Vec<Resource<'a>>>,
    pub event_type: Text<'a>,
    pub api_version: Text<'a>,
    pub read_only: Text<'a>,
    pub recipient_account_id: Text<'a>,
    pub service_event_details: Document<'a>,
    pub shared_event_id: Text<'a>,
    pub vpc_endpoint_id: Text<'a>,
    pub vpc_endpoint_account_id: Text<'a>,
    pub event_category: Text<'a>,
    pub addendum: Option<Box<Addendum<'a>>>,
    pub session_credential_from_console: Text<'a>,
    pub edge_device_details: Document<'a>,
    // Shared: every call of a client over one connection repeats it.
    pub tls_details: Option<Shared<TlsDetails<'a>>>,
}

thread_local! {
    /// The columns the current scan fills. Record fields of other columns are skipped unparsed.
    /// A thread-local rather than a `DeserializeSeed` because records are reached through
    /// derived containers and serde_json's stream reader, which only take `Deserialize` types;
    /// a file is parsed start to end on one thread, which sets this first
    /// ([`with_wanted_columns`]).
    static WANTED_COLUMNS: Cell<ColumnSet> = const { Cell::new(ColumnSet::ALL) };
}

/// Runs `parse` with records filling only the `wanted` columns.
pub(crate) fn with_wanted_columns<T>(wanted: ColumnSet, parse: impl FnOnce() -> T) -> T {
    let previous = WANTED_COLUMNS.replace(wanted);
    let result = parse();
    WANTED_COLUMNS.set(previous);
    result
}

/// Maps each record key to its field and column; a key whose column is not wanted, or that the
/// schema does not know, is skipped without building anything.
macro_rules! record_fields {
    ($($key:literal => $field:ident @ $column:ident,)*) => {
        fn read_record_field<'de, A: MapAccess<'de>>(
            record: &mut Record<'de>,
            key: &str,
            wanted: ColumnSet,
            map: &mut A,
        ) -> Result<(), A::Error> {
            match key {
                $($key if wanted.contains(column::$column) => record.$field = map.next_value()?,)*
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            Ok(())
        }

        impl<'a> Record<'a> {
            /// A copy holding only the fields of the `keep` columns (the others empty, so null).
            pub(crate) fn only(&self, keep: ColumnSet) -> Record<'a> {
                let mut kept = Record::default();
                $(if keep.contains(column::$column) {
                    kept.$field = self.$field.clone();
                })*
                kept
            }
        }

        /// The column a record key fills; `None` for a key the schema does not know.
        pub(crate) fn record_key_column(key: &str) -> Option<usize> {
            match key {
                $($key => Some(column::$column),)*
                _ => None,
            }
        }

        /// Sets the field of `key` from its value's JSON text `value`, as the record index finds
        /// it ([`crate::structural::record_index`]).
        pub(crate) fn set_record_field<'de>(
            record: &mut Record<'de>,
            key: &str,
            value: &'de str,
        ) -> Result<(), serde_json::Error> {
            match key {
                $($key => record.$field = FromJsonText::from_json_text(value)?,)*
                _ => {}
            }
            Ok(())
        }
    };
}

record_fields! {
    "eventVersion" => event_version @ EVENTVERSION,
    "userIdentity" => user_identity @ USERIDENTITY,
    "eventTime" => event_time @ EVENTTIME,
    "eventSource" => event_source @ EVENTSOURCE,
    "eventName" => event_name @ EVENTNAME,
    "awsRegion" => aws_region @ AWSREGION,
    "sourceIPAddress" => source_ip_address @ SOURCEIPADDRESS,
    "userAgent" => user_agent @ USERAGENT,
    "errorCode" => error_code @ ERRORCODE,
    "errorMessage" => error_message @ ERRORMESSAGE,
    "requestParameters" => request_parameters @ REQUESTPARAMETERS,
    "responseElements" => response_elements @ RESPONSEELEMENTS,
    "additionalEventData" => additional_event_data @ ADDITIONALEVENTDATA,
    "requestID" => request_id @ REQUESTID,
    "eventID" => event_id @ EVENTID,
    "resources" => resources @ RESOURCES,
    "eventType" => event_type @ EVENTTYPE,
    "apiVersion" => api_version @ APIVERSION,
    "readOnly" => read_only @ READONLY,
    "recipientAccountId" => recipient_account_id @ RECIPIENTACCOUNTID,
    "serviceEventDetails" => service_event_details @ SERVICEEVENTDETAILS,
    "sharedEventID" => shared_event_id @ SHAREDEVENTID,
    "vpcEndpointId" => vpc_endpoint_id @ VPCENDPOINTID,
    "vpcEndpointAccountId" => vpc_endpoint_account_id @ VPCENDPOINTACCOUNTID,
    "eventCategory" => event_category @ EVENTCATEGORY,
    "addendum" => addendum @ ADDENDUM,
    "sessionCredentialFromConsole" => session_credential_from_console @ SESSIONCREDENTIALFROMCONSOLE,
    "edgeDeviceDetails" => edge_device_details @ EDGEDEVICEDETAILS,
    "tlsDetails" => tls_details @ TLSDETAILS,
}

impl<'de: 'a, 'a> Deserialize<'de> for Record<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RecordVisitor(ColumnSet);
        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CloudTrail record (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut record = Record::default();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    read_record_field(&mut record, key.as_deref().unwrap_or(""), self.0, &mut map)?;
                }
                Ok(record)
            }
        }
        deserializer.deserialize_map(RecordVisitor(WANTED_COLUMNS.get()))
    }
}

/// A value of a record shared by the records of a file that repeat it byte for byte (parsed
/// once, [`crate::decode`]'s `ParsedOnce`).
#[derive(Debug)]
pub(crate) struct Shared<T>(pub Rc<T>);

// Not derived: a clone shares the value, whatever `T` is.
impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(|value| Shared(Rc::new(value)))
    }
}

/// A record's `userIdentity`: a file holds a few principals' calls, each repeating its identity.
pub(crate) type SharedIdentity<'a> = Shared<UserIdentity<'a>>;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct UserIdentity<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
    #[serde(rename = "principalId", borrow)]
    pub principal_id: Text<'a>,
    #[serde(borrow)]
    pub arn: Text<'a>,
    #[serde(rename = "accountId", borrow)]
    pub account_id: Text<'a>,
    #[serde(rename = "invokedBy", borrow)]
    pub invoked_by: Text<'a>,
    #[serde(rename = "accessKeyId", borrow)]
    pub access_key_id: Text<'a>,
    #[serde(rename = "userName", borrow)]
    pub user_name: Text<'a>,
    #[serde(rename = "onBehalfOf", borrow)]
    pub on_behalf_of: Option<OnBehalfOf<'a>>,
    #[serde(rename = "sessionContext", borrow)]
    pub session_context: Option<SessionContext<'a>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct OnBehalfOf<'a> {
    #[serde(rename = "userId", borrow)]
    pub user_id: Text<'a>,
    #[serde(rename = "identityStoreArn", borrow)]
    pub identity_store_arn: Text<'a>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct SessionContext<'a> {
    #[serde(borrow)]
    pub attributes: Option<SessionAttributes<'a>>,
    #[serde(rename = "sessionIssuer", borrow)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    #[serde(rename = "ec2RoleDelivery", borrow)]
    pub ec2_role_delivery: Text<'a>,
    #[serde(rename = "webIdFederationData", borrow)]
    pub web_id_federation_data: Option<WebIdFederationData<'a>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct SessionAttributes<'a> {
    #[serde(rename = "mfaAuthenticated", borrow)]
    pub mfa_authenticated: Text<'a>,
    #[serde(rename = "creationDate", borrow)]
    pub creation_date: Text<'a>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct SessionIssuer<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
    #[serde(rename = "principalId", borrow)]
    pub principal_id: Text<'a>,
    #[serde(borrow)]
    pub arn: Text<'a>,
    #[serde(rename = "accountId", borrow)]
    pub account_id: Text<'a>,
    #[serde(rename = "userName", borrow)]
    pub user_name: Text<'a>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct WebIdFederationData<'a> {
    #[serde(rename = "federatedProvider", borrow)]
    pub federated_provider: Text<'a>,
    #[serde(borrow)]
    pub attributes: Option<AttributeMap<'a>>,
}

/// `webIdFederationData.attributes`: a JSON object of claims, kept in document order.
#[derive(Debug, Default, Clone)]
pub(crate) struct AttributeMap<'a>(pub Vec<(Text<'a>, Text<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for AttributeMap<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = AttributeMap<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Text<'de>, Text<'de>>()? {
                    entries.push(entry);
                }
                Ok(AttributeMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Resource<'a> {
    pub arn: Text<'a>,
    pub account_id: Text<'a>,
    pub kind: Text<'a>,
}

// By hand rather than derived: an entry that is not an object (hand-edited trails hold strings
// there) becomes an entry with null fields instead of failing its whole file.
impl<'de: 'a, 'a> Deserialize<'de> for Resource<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ResourceVisitor;
        impl<'de> Visitor<'de> for ResourceVisitor {
            type Value = Resource<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a resource object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut resource = Resource::default();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    let slot = match key.as_deref() {
                        Some("ARN" | "arn") => &mut resource.arn,
                        Some("accountId") => &mut resource.account_id,
                        Some("type") => &mut resource.kind,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value()?;
                }
                Ok(resource)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Resource::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Resource::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Resource::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Resource::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Resource::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Resource::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Resource::default())
            }
        }
        deserializer.deserialize_any(ResourceVisitor)
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Addendum<'a> {
    #[serde(borrow)]
    pub reason: Text<'a>,
    #[serde(rename = "updatedFields", borrow)]
    pub updated_fields: Text<'a>,
    #[serde(rename = "originalRequestID", borrow)]
    pub original_request_id: Text<'a>,
    #[serde(rename = "originalEventID", borrow)]
    pub original_event_id: Text<'a>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct TlsDetails<'a> {
    #[serde(rename = "tlsVersion", borrow)]
    pub tls_version: Text<'a>,
    #[serde(rename = "cipherSuite", borrow)]
    pub cipher_suite: Text<'a>,
    #[serde(rename = "clientProvidedHostHeader", borrow)]
    pub client_provided_host_header: Text<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scalar_read_from_its_text_is_what_serde_json_reads() {
        let texts = [
            r#""GetObject""#,
            r#"  "with spaces around"  "#,
            r#""""#,
            r#""a \"quoted\" word""#,
            r#""caf\u00e9""#,
            r#""back\\slash""#,
            r#""é ü 日本""#,
            "true",
            "false",
            "null",
            "12",
            "-1.5",
            r#"{"a": 1}"#,
            "[1, 2]",
        ];
        for text in texts {
            let fast = Text::from_json_text(text).unwrap();
            let serde: Text<'_> = serde_json::from_str(text).unwrap();
            assert_eq!(fast, serde, "{text}");
            // Borrowed exactly when serde_json would have borrowed it.
            assert_eq!(
                matches!(fast.0, Some(Cow::Borrowed(_))),
                matches!(serde.0, Some(Cow::Borrowed(_))),
                "{text}"
            );
        }
        assert!(Text::from_json_text(r#""unterminated"#).is_err());
    }
}
