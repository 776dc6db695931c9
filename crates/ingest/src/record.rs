//! Borrowed serde views of a CloudTrail record.
//!
//! Records are parsed straight out of the decompressed file buffer: strings without escapes borrow
//! from it, and the free-form documents are kept as `RawValue` slices, so a record costs no
//! allocation beyond its escaped strings. Unknown fields are ignored (CloudTrail adds fields over
//! time); scalar fields tolerate any JSON scalar because real trails and tools disagree on whether
//! `readOnly` or `mfaAuthenticated` are booleans or strings.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A string column's value: any JSON scalar, rendered as Athena would show it as `string`.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'a> Text<'a> {
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
pub(crate) struct Document<'a>(pub Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Document<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: &'a RawValue = Deserialize::deserialize(deserializer)?;
        Ok(Document((raw.get() != "null").then_some(raw)))
    }
}

impl Document<'_> {
    /// The column text: objects and arrays verbatim; a JSON string unquoted, as Athena shows it.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        let raw = self.0?.get();
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Record<'a> {
    #[serde(rename = "eventVersion", borrow)]
    pub event_version: Text<'a>,
    #[serde(rename = "userIdentity", borrow)]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(rename = "eventTime", borrow)]
    pub event_time: Text<'a>,
    #[serde(rename = "eventSource", borrow)]
    pub event_source: Text<'a>,
    #[serde(rename = "eventName", borrow)]
    pub event_name: Text<'a>,
    #[serde(rename = "awsRegion", borrow)]
    pub aws_region: Text<'a>,
    #[serde(rename = "sourceIPAddress", borrow)]
    pub source_ip_address: Text<'a>,
    #[serde(rename = "userAgent", borrow)]
    pub user_agent: Text<'a>,
    #[serde(rename = "errorCode", borrow)]
    pub error_code: Text<'a>,
    #[serde(rename = "errorMessage", borrow)]
    pub error_message: Text<'a>,
    #[serde(rename = "requestParameters", borrow)]
    pub request_parameters: Document<'a>,
    #[serde(rename = "responseElements", borrow)]
    pub response_elements: Document<'a>,
    #[serde(rename = "additionalEventData", borrow)]
    pub additional_event_data: Document<'a>,
    #[serde(rename = "requestID", borrow)]
    pub request_id: Text<'a>,
    #[serde(rename = "eventID", borrow)]
    pub event_id: Text<'a>,
    #[serde(borrow)]
    pub resources: Option<Vec<Resource<'a>>>,
    #[serde(rename = "eventType", borrow)]
    pub event_type: Text<'a>,
    #[serde(rename = "apiVersion", borrow)]
    pub api_version: Text<'a>,
    #[serde(rename = "readOnly", borrow)]
    pub read_only: Text<'a>,
    #[serde(rename = "recipientAccountId", borrow)]
    pub recipient_account_id: Text<'a>,
    #[serde(rename = "serviceEventDetails", borrow)]
    pub service_event_details: Document<'a>,
    #[serde(rename = "sharedEventID", borrow)]
    pub shared_event_id: Text<'a>,
    #[serde(rename = "vpcEndpointId", borrow)]
    pub vpc_endpoint_id: Text<'a>,
    #[serde(rename = "vpcEndpointAccountId", borrow)]
    pub vpc_endpoint_account_id: Text<'a>,
    #[serde(rename = "eventCategory", borrow)]
    pub event_category: Text<'a>,
    #[serde(borrow)]
    pub addendum: Option<Addendum<'a>>,
    #[serde(rename = "sessionCredentialFromConsole", borrow)]
    pub session_credential_from_console: Text<'a>,
    #[serde(rename = "edgeDeviceDetails", borrow)]
    pub edge_device_details: Document<'a>,
    #[serde(rename = "tlsDetails", borrow)]
    pub tls_details: Option<TlsDetails<'a>>,
}

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct OnBehalfOf<'a> {
    #[serde(rename = "userId", borrow)]
    pub user_id: Text<'a>,
    #[serde(rename = "identityStoreArn", borrow)]
    pub identity_store_arn: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SessionAttributes<'a> {
    #[serde(rename = "mfaAuthenticated", borrow)]
    pub mfa_authenticated: Text<'a>,
    #[serde(rename = "creationDate", borrow)]
    pub creation_date: Text<'a>,
}

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WebIdFederationData<'a> {
    #[serde(rename = "federatedProvider", borrow)]
    pub federated_provider: Text<'a>,
    #[serde(borrow)]
    pub attributes: Option<AttributeMap<'a>>,
}

/// `webIdFederationData.attributes`: a JSON object of claims, kept in document order.
#[derive(Debug, Default)]
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

#[derive(Debug, Default)]
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

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TlsDetails<'a> {
    #[serde(rename = "tlsVersion", borrow)]
    pub tls_version: Text<'a>,
    #[serde(rename = "cipherSuite", borrow)]
    pub cipher_suite: Text<'a>,
    #[serde(rename = "clientProvidedHostHeader", borrow)]
    pub client_provided_host_header: Text<'a>,
}
