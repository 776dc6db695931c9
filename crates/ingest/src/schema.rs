//! The `cloudtrail` table's Arrow schema: Athena's CloudTrail table, column for column.
//!
//! Names are lower case and types follow the AWS DDL (`CREATE EXTERNAL TABLE cloudtrail_logs ...`):
//! scalars are strings (including `readonly`, which Athena declares as `string`), the free-form
//! documents (`requestparameters`, `responseelements`, `additionaleventdata`, `serviceeventdetails`,
//! `edgedevicedetails`) are raw JSON text, and the partition columns of every DDL AWS publishes
//! come from the file's path ([`PATH_COLUMNS`]).

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

/// Columns filled from the S3 key layout (the delivery path) rather than from the record: the
/// partition columns of the DDLs AWS publishes, so that their queries find them. `region`,
/// `year`, `month`, `day` are the manually partitioned table's, `account` the organization
/// trail's, `timestamp` (`yyyy/MM/dd`) the partition-projection table's (`cloudtrail_logs_pp`),
/// `date_partition` (`yyyy/MM/dd`), `region_partition` and `account_partition` those of the
/// Security Analytics Bootstrap and the incident response workshop.
pub const PATH_COLUMNS: [&str; 9] = [
    "account",
    "region",
    "year",
    "month",
    "day",
    "timestamp",
    "date_partition",
    "region_partition",
    "account_partition",
];

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
    fields.extend(PATH_COLUMNS.iter().map(|name| utf8(name)));
    Arc::new(Schema::new(fields))
});

/// The schema of every batch the reader produces when asked for every column.
pub fn cloudtrail_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Positions of the columns in [`cloudtrail_schema`], for code that fills them.
pub(crate) mod column {
    pub const EVENTVERSION: usize = 0;
    pub const USERIDENTITY: usize = 1;
    pub const EVENTTIME: usize = 2;
    pub const EVENTSOURCE: usize = 3;
    pub const EVENTNAME: usize = 4;
    pub const AWSREGION: usize = 5;
    pub const SOURCEIPADDRESS: usize = 6;
    pub const USERAGENT: usize = 7;
    pub const ERRORCODE: usize = 8;
    pub const ERRORMESSAGE: usize = 9;
    pub const REQUESTPARAMETERS: usize = 10;
    pub const RESPONSEELEMENTS: usize = 11;
    pub const ADDITIONALEVENTDATA: usize = 12;
    pub const REQUESTID: usize = 13;
    pub const EVENTID: usize = 14;
    pub const RESOURCES: usize = 15;
    pub const EVENTTYPE: usize = 16;
    pub const APIVERSION: usize = 17;
    pub const READONLY: usize = 18;
    pub const RECIPIENTACCOUNTID: usize = 19;
    pub const SERVICEEVENTDETAILS: usize = 20;
    pub const SHAREDEVENTID: usize = 21;
    pub const VPCENDPOINTID: usize = 22;
    pub const VPCENDPOINTACCOUNTID: usize = 23;
    pub const EVENTCATEGORY: usize = 24;
    pub const ADDENDUM: usize = 25;
    pub const SESSIONCREDENTIALFROMCONSOLE: usize = 26;
    pub const EDGEDEVICEDETAILS: usize = 27;
    pub const TLSDETAILS: usize = 28;
    /// The path columns ([`super::PATH_COLUMNS`]) follow in that order.
    pub const FIRST_PATH_COLUMN: usize = 29;
    pub const ACCOUNT: usize = 29;
    pub const REGION: usize = 30;
    pub const YEAR: usize = 31;
    pub const MONTH: usize = 32;
    pub const DAY: usize = 33;
    pub const TIMESTAMP: usize = 34;
    pub const DATE_PARTITION: usize = 35;
    pub const REGION_PARTITION: usize = 36;
    pub const ACCOUNT_PARTITION: usize = 37;
    pub const COUNT: usize = FIRST_PATH_COLUMN + super::PATH_COLUMNS.len();
}

/// Which columns of the `cloudtrail` table a scan fills, by position in [`cloudtrail_schema`].
/// Fields of a record whose column is not wanted are skipped by the parser, never copied: a query
/// that reads three columns pays for three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSet(u64);

impl ColumnSet {
    pub const ALL: ColumnSet = ColumnSet((1 << column::COUNT) - 1);
    pub const NONE: ColumnSet = ColumnSet(0);

    /// The columns at these schema positions (out-of-range positions are ignored).
    pub fn from_indices(indices: impl IntoIterator<Item = usize>) -> Self {
        indices
            .into_iter()
            .filter(|&i| i < column::COUNT)
            .fold(Self::NONE, ColumnSet::with)
    }

    /// The column of that name in the `cloudtrail` schema, if there is one.
    pub fn with_name(self, name: &str) -> Self {
        match SCHEMA.index_of(name) {
            Ok(index) => self.with(index),
            Err(_) => self,
        }
    }

    pub fn with(self, index: usize) -> Self {
        Self(self.0 | (1 << index))
    }

    /// The columns of this set that are not in `other`.
    #[must_use]
    pub fn difference(self, other: ColumnSet) -> Self {
        Self(self.0 & !other.0)
    }

    /// The columns in both sets.
    #[must_use]
    pub fn intersection(self, other: ColumnSet) -> Self {
        Self(self.0 & other.0)
    }

    pub fn contains(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }

    /// Schema positions in the set, ascending.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..column::COUNT).filter(move |&i| self.contains(i))
    }

    /// The schema of batches holding exactly these columns.
    pub fn schema(self) -> SchemaRef {
        if self == Self::ALL {
            return cloudtrail_schema();
        }
        let indices: Vec<usize> = self.indices().collect();
        Arc::new(
            SCHEMA
                .project(&indices)
                .expect("indices come from the schema"),
        )
    }
}

impl Default for ColumnSet {
    fn default() -> Self {
        Self::ALL
    }
}

/// Which leaves of the `useridentity` struct a scan fills; the others are all null, at no cost
/// per row. The struct keeps its whole type: a reader that knows which of its fields it reads
/// (the hunt: the principal, its type, key and session issuer) is spared building the rest for
/// every record (12 of its 19 leaves; about 2% of the hunt's time, measured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityFields(u32);

impl IdentityFields {
    /// Every leaf, depth first in schema order, by its dotted path under `useridentity`.
    pub const LEAVES: [&'static str; 19] = [
        "type",
        "principalid",
        "arn",
        "accountid",
        "invokedby",
        "accesskeyid",
        "username",
        "onbehalfof.userid",
        "onbehalfof.identitystorearn",
        "sessioncontext.attributes.mfaauthenticated",
        "sessioncontext.attributes.creationdate",
        "sessioncontext.sessionissuer.type",
        "sessioncontext.sessionissuer.principalid",
        "sessioncontext.sessionissuer.arn",
        "sessioncontext.sessionissuer.accountid",
        "sessioncontext.sessionissuer.username",
        "sessioncontext.ec2roledelivery",
        "sessioncontext.webidfederationdata.federatedprovider",
        "sessioncontext.webidfederationdata.attributes",
    ];
    pub const ALL: IdentityFields = IdentityFields((1 << Self::LEAVES.len()) - 1);

    /// The leaves at these dotted paths; `Err` names the first path that is not a leaf.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<Self, &'a str> {
        paths.into_iter().try_fold(Self(0), |set, path| {
            Self::LEAVES
                .iter()
                .position(|leaf| *leaf == path)
                .map(|index| Self(set.0 | (1 << index)))
                .ok_or(path)
        })
    }

    /// No leaf: what a reader that does not read `useridentity` needs of it.
    pub const NONE: IdentityFields = IdentityFields(0);

    /// Whether the leaf at position `index` of [`LEAVES`](Self::LEAVES) is filled.
    pub fn contains(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }

    /// The leaves either set fills.
    #[must_use]
    pub fn union(self, other: IdentityFields) -> Self {
        Self(self.0 | other.0)
    }

    /// The leaves at or under the dotted `path` (a leaf, or a struct such as `sessioncontext`:
    /// each of its leaves); `None` when `useridentity` has nothing there.
    pub fn under(path: &str) -> Option<Self> {
        let found = Self::LEAVES
            .iter()
            .enumerate()
            .filter(|(_, leaf)| {
                leaf.strip_prefix(path)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
            .fold(0, |set, (index, _)| set | (1 << index));
        (found != 0).then_some(Self(found))
    }
}

impl Default for IdentityFields {
    fn default() -> Self {
        Self::ALL
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The dotted paths of a struct's leaves, depth first.
    fn leaves(prefix: &str, fields: &Fields, out: &mut Vec<String>) {
        for field in fields {
            let path = format!("{prefix}{}", field.name());
            match field.data_type() {
                DataType::Struct(children) => leaves(&format!("{path}."), children, out),
                _ => out.push(path),
            }
        }
    }

    #[test]
    fn identity_leaves_are_the_schemas_in_its_order() {
        let DataType::Struct(fields) = user_identity_field().data_type().clone() else {
            unreachable!("useridentity is a struct")
        };
        let mut found = Vec::new();
        leaves("", &fields, &mut found);
        assert_eq!(found, IdentityFields::LEAVES);
        assert_eq!(
            IdentityFields::from_paths(IdentityFields::LEAVES),
            Ok(IdentityFields::ALL)
        );
        let some = IdentityFields::from_paths(["arn", "sessioncontext.sessionissuer.arn"]).unwrap();
        assert!(some.contains(2) && some.contains(13));
        assert!(!some.contains(0) && !some.contains(12));
        assert_eq!(
            IdentityFields::from_paths(["arn", "sessioncontext", "type"]),
            Err("sessioncontext"),
            "a struct is not a leaf"
        );
        let issuer = IdentityFields::under("sessioncontext.sessionissuer").unwrap();
        assert_eq!(
            issuer,
            IdentityFields::from_paths(IdentityFields::LEAVES[11..16].iter().copied()).unwrap()
        );
        assert_eq!(
            IdentityFields::under("arn"),
            IdentityFields::from_paths(["arn"]).ok()
        );
        assert_eq!(IdentityFields::under("sessioncontext"), {
            let context = IdentityFields::LEAVES[9..].iter().copied();
            IdentityFields::from_paths(context).ok()
        });
        assert_eq!(
            IdentityFields::under("ar"),
            None,
            "a prefix of a name is not a path"
        );
        assert_eq!(IdentityFields::under("nothing"), None);
        assert_eq!(
            IdentityFields::NONE
                .union(issuer)
                .union(IdentityFields::ALL),
            IdentityFields::ALL
        );
    }

    #[test]
    fn column_positions_match_the_schema() {
        let names = [
            (column::EVENTVERSION, "eventversion"),
            (column::USERIDENTITY, "useridentity"),
            (column::EVENTTIME, "eventtime"),
            (column::ERRORCODE, "errorcode"),
            (column::EVENTID, "eventid"),
            (column::RESOURCES, "resources"),
            (column::EVENTTYPE, "eventtype"),
            (column::EVENTCATEGORY, "eventcategory"),
            (column::ADDENDUM, "addendum"),
            (
                column::SESSIONCREDENTIALFROMCONSOLE,
                "sessioncredentialfromconsole",
            ),
            (column::EDGEDEVICEDETAILS, "edgedevicedetails"),
            (column::TLSDETAILS, "tlsdetails"),
            (column::FIRST_PATH_COLUMN, "account"),
            (column::ACCOUNT, "account"),
            (column::REGION, "region"),
            (column::YEAR, "year"),
            (column::MONTH, "month"),
            (column::DAY, "day"),
            (column::TIMESTAMP, "timestamp"),
            (column::DATE_PARTITION, "date_partition"),
            (column::REGION_PARTITION, "region_partition"),
            (column::ACCOUNT_PARTITION, "account_partition"),
        ];
        for (index, name) in names {
            assert_eq!(SCHEMA.field(index).name(), name);
        }
        assert_eq!(SCHEMA.fields().len(), column::COUNT);
    }

    #[test]
    fn a_column_set_projects_the_schema() {
        let set = ColumnSet::NONE
            .with_name("eventsource")
            .with_name("day")
            .with_name("nope");
        let schema = set.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["eventsource", "day"]);
        assert_eq!(ColumnSet::ALL.indices().count(), column::COUNT);
        assert_eq!(ColumnSet::NONE.schema().fields().len(), 0);
    }
}
