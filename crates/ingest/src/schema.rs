//! The `cloudtrail` table's Arrow schema: Athena's CloudTrail table, column for column.
//!
//! Names are lower case and types follow the AWS DDL (`CREATE EXTERNAL TABLE cloudtrail_logs ...`):
//! scalars are strings (including `readonly`, which Athena declares as `string`), the free-form
//! documents (`requestparameters`, `responseelements`, `additionaleventdata`, `serviceeventdetails`,
//! `edgedevicedetails`) are raw JSON text, and the partition columns of the partitioned and
//! organization DDLs (`account`, `region`, `year`, `month`, `day`) come from the file's path.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

/// Columns filled from the S3 key layout rather than from the record.
pub const PARTITION_COLUMNS: [&str; 5] = ["account", "region", "year", "month", "day"];

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn strukt(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

pub(crate) fn session_issuer_fields() -> Fields {
    Fields::from(vec![
        utf8("type"),
        utf8("principalid"),
        utf8("arn"),
        utf8("accountid"),
        utf8("username"),
    ])
}

pub(crate) fn resource_fields() -> Fields {
    Fields::from(vec![utf8("arn"), utf8("accountid"), utf8("type")])
}

pub(crate) fn attribute_map_field() -> Field {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    Field::new("attributes", DataType::Map(Arc::new(entries), false), true)
}

pub(crate) fn user_identity_field() -> Field {
    strukt(
        "useridentity",
        vec![
            utf8("type"),
            utf8("principalid"),
            utf8("arn"),
            utf8("accountid"),
            utf8("invokedby"),
            utf8("accesskeyid"),
            utf8("username"),
            strukt("onbehalfof", vec![utf8("userid"), utf8("identitystorearn")]),
            strukt(
                "sessioncontext",
                vec![
                    strukt(
                        "attributes",
                        vec![utf8("mfaauthenticated"), utf8("creationdate")],
                    ),
                    Field::new(
                        "sessionissuer",
                        DataType::Struct(session_issuer_fields()),
                        true,
                    ),
                    utf8("ec2roledelivery"),
                    strukt(
                        "webidfederationdata",
                        vec![utf8("federatedprovider"), attribute_map_field()],
                    ),
                ],
            ),
        ],
    )
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let resource = Field::new("item", DataType::Struct(resource_fields()), true);
    let mut fields = vec![
        utf8("eventversion"),
        user_identity_field(),
        utf8("eventtime"),
        utf8("eventsource"),
        utf8("eventname"),
        utf8("awsregion"),
        utf8("sourceipaddress"),
        utf8("useragent"),
        utf8("errorcode"),
        utf8("errormessage"),
        utf8("requestparameters"),
        utf8("responseelements"),
        utf8("additionaleventdata"),
        utf8("requestid"),
        utf8("eventid"),
        Field::new("resources", DataType::List(Arc::new(resource)), true),
        utf8("eventtype"),
        utf8("apiversion"),
        utf8("readonly"),
        utf8("recipientaccountid"),
        utf8("serviceeventdetails"),
        utf8("sharedeventid"),
        utf8("vpcendpointid"),
        utf8("vpcendpointaccountid"),
        utf8("eventcategory"),
        strukt(
            "addendum",
            vec![
                utf8("reason"),
                utf8("updatedfields"),
                utf8("originalrequestid"),
                utf8("originaleventid"),
            ],
        ),
        utf8("sessioncredentialfromconsole"),
        utf8("edgedevicedetails"),
        strukt(
            "tlsdetails",
            vec![
                utf8("tlsversion"),
                utf8("ciphersuite"),
                utf8("clientprovidedhostheader"),
            ],
        ),
    ];
    fields.extend(PARTITION_COLUMNS.iter().map(|name| utf8(name)));
    Arc::new(Schema::new(fields))
});

/// The schema of every batch the reader produces.
pub fn cloudtrail_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Renders a type the way Athena's DDL writes it (`struct<arn:string,...>`), for `ctq schema`.
pub fn athena_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".to_string(),
        DataType::Boolean => "boolean".to_string(),
        DataType::Int32 => "int".to_string(),
        DataType::Int64 => "bigint".to_string(),
        DataType::Float64 => "double".to_string(),
        DataType::Timestamp(_, _) => "timestamp".to_string(),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), athena_type_name(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::List(item) | DataType::LargeList(item) => {
            format!("array<{}>", athena_type_name(item.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                athena_type_name(kv[0].data_type()),
                athena_type_name(kv[1].data_type())
            ),
            other => format!("map<{other}>"),
        },
        other => other.to_string().to_lowercase(),
    }
}
