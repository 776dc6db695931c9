//! Accumulates decoded records into Arrow arrays shaped by [`crate::schema`].

use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{
    ArrayRef, ListArray, RecordBatch, RecordBatchOptions, StructArray, new_null_array,
};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Fields, SchemaRef};

use crate::path::Partition;
use crate::record::Record;
use crate::schema::{ColumnSet, IdentityFields, PATH_COLUMNS, cloudtrail_schema, column};

/// A struct column whose children are all strings, filled one row at a time. Children not
/// wanted are never appended to, and come out all null.
struct FlatStruct {
    fields: Fields,
    nulls: NullBufferBuilder,
    children: Vec<Option<StringBuilder>>,
}

impl FlatStruct {
    fn new(data_type: &DataType) -> Self {
        Self::with_children(data_type, |_| true)
    }

    /// A struct whose child at position `i` is filled when `wanted(i)`.
    fn with_children(data_type: &DataType, wanted: impl Fn(usize) -> bool) -> Self {
        let DataType::Struct(fields) = data_type else {
            unreachable!("flat struct columns are declared as structs in the schema")
        };
        Self {
            fields: fields.clone(),
            nulls: NullBufferBuilder::new(0),
            children: (0..fields.len())
                .map(|i| wanted(i).then(StringBuilder::new))
                .collect(),
        }
    }

    fn append<const N: usize>(&mut self, values: Option<[Option<&str>; N]>) {
        debug_assert_eq!(N, self.children.len());
        if let Some(values) = values {
            for (child, value) in self.children.iter_mut().zip(values) {
                if let Some(child) = child {
                    child.append_option(value);
                }
            }
            self.nulls.append_non_null();
        } else {
            for child in self.children.iter_mut().flatten() {
                child.append_null();
            }
            self.nulls.append_null();
        }
    }

    fn finish(&mut self) -> StructArray {
        let rows = self.nulls.len();
        let children = self
            .children
            .iter_mut()
            .map(|c| string_or_nulls(c.as_mut(), rows))
            .collect();
        StructArray::new(self.fields.clone(), children, self.nulls.finish())
    }
}

/// Takes `builder`'s strings as an array and leaves it room for half as many again: a scan's
/// batches are alike, and a builder that starts each batch empty copies its strings about twice
/// more as it grows by doubling (and faults in the new pages each time). The half more is for the
/// next batch being larger (an ingest's batches, of a few files each, vary): one that outgrew
/// room for just as many copied its strings once more. Finished arrays give back what they do
/// not use ([`TrailBatchBuilder::finish`]).
fn finish_sized(builder: &mut StringBuilder) -> arrow_array::StringArray {
    let (items, bytes) = (builder.len(), builder.values_slice().len());
    let array = builder.finish();
    *builder = StringBuilder::with_capacity(items + items / 2, bytes + bytes / 2);
    array
}

/// The builder's strings, or `rows` nulls where the column is not filled.
fn string_or_nulls(builder: Option<&mut StringBuilder>, rows: usize) -> ArrayRef {
    match builder {
        Some(builder) => Arc::new(finish_sized(builder)),
        None => new_null_array(&DataType::Utf8, rows),
    }
}

fn struct_fields(data_type: &DataType) -> Fields {
    match data_type {
        DataType::Struct(fields) => fields.clone(),
        _ => unreachable!("declared as a struct in the schema"),
    }
}

fn child_type<'a>(fields: &'a Fields, name: &str) -> &'a DataType {
    fields
        .iter()
        .find(|f| f.name() == name)
        .map_or_else(|| unreachable!("schema declares {name}"), |f| f.data_type())
}

/// `useridentity` and its nested structs, filled in the leaves an [`IdentityFields`] names.
struct UserIdentityColumns {
    fields: Fields,
    nulls: NullBufferBuilder,
    /// `type` to `username`: leaves 0 to 6 of [`IdentityFields::LEAVES`].
    scalars: [Option<StringBuilder>; 7],
    on_behalf_of: FlatStruct,
    session_context: SessionContextColumns,
}

/// Positions in [`IdentityFields::LEAVES`] of the first leaf of each nested struct.
const ON_BEHALF_OF_LEAVES: usize = 7;
const ATTRIBUTES_LEAVES: usize = 9;
const SESSION_ISSUER_LEAVES: usize = 11;
const EC2_ROLE_DELIVERY_LEAF: usize = 16;
const FEDERATED_PROVIDER_LEAF: usize = 17;
const WEB_ID_ATTRIBUTES_LEAF: usize = 18;

struct SessionContextColumns {
    fields: Fields,
    nulls: NullBufferBuilder,
    attributes: FlatStruct,
    session_issuer: FlatStruct,
    ec2_role_delivery: Option<StringBuilder>,
    web_id_fields: Fields,
    web_id_nulls: NullBufferBuilder,
    federated_provider: Option<StringBuilder>,
    web_id_attributes: Option<MapBuilder<StringBuilder, StringBuilder>>,
}

impl SessionContextColumns {
    fn new(data_type: &DataType, leaves: IdentityFields) -> Self {
        let fields = struct_fields(data_type);
        let web_id_fields = struct_fields(child_type(&fields, "webidfederationdata"));
        let names = MapFieldNames {
            entry: "entries".into(),
            key: "key".into(),
            value: "value".into(),
        };
        Self {
            attributes: FlatStruct::with_children(child_type(&fields, "attributes"), |i| {
                leaves.contains(ATTRIBUTES_LEAVES + i)
            }),
            session_issuer: FlatStruct::with_children(child_type(&fields, "sessionissuer"), |i| {
                leaves.contains(SESSION_ISSUER_LEAVES + i)
            }),
            fields,
            nulls: NullBufferBuilder::new(0),
            ec2_role_delivery: leaves
                .contains(EC2_ROLE_DELIVERY_LEAF)
                .then(StringBuilder::new),
            web_id_fields,
            web_id_nulls: NullBufferBuilder::new(0),
            federated_provider: leaves
                .contains(FEDERATED_PROVIDER_LEAF)
                .then(StringBuilder::new),
            web_id_attributes: leaves
                .contains(WEB_ID_ATTRIBUTES_LEAF)
                .then(|| MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new())),
        }
    }

    fn append(&mut self, context: Option<&crate::record::SessionContext>) {
        let Some(context) = context else {
            self.nulls.append_null();
            self.attributes.append::<2>(None);
            self.session_issuer.append::<5>(None);
            if let Some(column) = &mut self.ec2_role_delivery {
                column.append_null();
            }
            self.append_web_id(None);
            return;
        };
        self.nulls.append_non_null();
        self.attributes.append(
            context
                .attributes
                .as_ref()
                .map(|a| [a.mfa_authenticated.as_deref(), a.creation_date.as_deref()]),
        );
        self.session_issuer
            .append(context.session_issuer.as_ref().map(|i| {
                [
                    i.kind.as_deref(),
                    i.principal_id.as_deref(),
                    i.arn.as_deref(),
                    i.account_id.as_deref(),
                    i.user_name.as_deref(),
                ]
            }));
        if let Some(column) = &mut self.ec2_role_delivery {
            column.append_option(context.ec2_role_delivery.as_deref());
        }
        self.append_web_id(context.web_id_federation_data.as_ref());
    }

    fn append_web_id(&mut self, web_id: Option<&crate::record::WebIdFederationData>) {
        let Some(web_id) = web_id else {
            self.web_id_nulls.append_null();
            if let Some(column) = &mut self.federated_provider {
                column.append_null();
            }
            if let Some(map) = &mut self.web_id_attributes {
                map.append(false)
                    .expect("map builder keys and values stay aligned");
            }
            return;
        };
        self.web_id_nulls.append_non_null();
        if let Some(column) = &mut self.federated_provider {
            column.append_option(web_id.federated_provider.as_deref());
        }
        if let Some(map) = &mut self.web_id_attributes {
            for (key, value) in web_id.attributes.iter().flat_map(|m| m.0.iter()) {
                map.keys().append_value(key.as_deref().unwrap_or(""));
                map.values().append_option(value.as_deref());
            }
            map.append(web_id.attributes.is_some())
                .expect("map builder keys and values stay aligned");
        }
    }

    fn finish(&mut self) -> StructArray {
        let rows = self.nulls.len();
        let attributes_type = self.web_id_fields[1].data_type();
        let web_id = StructArray::new(
            self.web_id_fields.clone(),
            vec![
                string_or_nulls(self.federated_provider.as_mut(), rows),
                match &mut self.web_id_attributes {
                    Some(map) => Arc::new(map.finish()) as ArrayRef,
                    None => new_null_array(attributes_type, rows),
                },
            ],
            self.web_id_nulls.finish(),
        );
        StructArray::new(
            self.fields.clone(),
            vec![
                Arc::new(self.attributes.finish()) as ArrayRef,
                Arc::new(self.session_issuer.finish()),
                string_or_nulls(self.ec2_role_delivery.as_mut(), rows),
                Arc::new(web_id),
            ],
            self.nulls.finish(),
        )
    }
}

impl UserIdentityColumns {
    fn new(data_type: &DataType, leaves: IdentityFields) -> Self {
        let fields = struct_fields(data_type);
        Self {
            on_behalf_of: FlatStruct::with_children(child_type(&fields, "onbehalfof"), |i| {
                leaves.contains(ON_BEHALF_OF_LEAVES + i)
            }),
            session_context: SessionContextColumns::new(
                child_type(&fields, "sessioncontext"),
                leaves,
            ),
            fields,
            nulls: NullBufferBuilder::new(0),
            scalars: std::array::from_fn(|i| leaves.contains(i).then(StringBuilder::new)),
        }
    }

    fn append(&mut self, identity: Option<&crate::record::UserIdentity>) {
        let Some(identity) = identity else {
            self.nulls.append_null();
            for column in self.scalars.iter_mut().flatten() {
                column.append_null();
            }
            self.on_behalf_of.append::<2>(None);
            self.session_context.append(None);
            return;
        };
        self.nulls.append_non_null();
        let scalars = [
            &identity.kind,
            &identity.principal_id,
            &identity.arn,
            &identity.account_id,
            &identity.invoked_by,
            &identity.access_key_id,
            &identity.user_name,
        ];
        for (column, value) in self.scalars.iter_mut().zip(scalars) {
            if let Some(column) = column {
                column.append_option(value.as_deref());
            }
        }
        self.on_behalf_of.append(
            identity
                .on_behalf_of
                .as_ref()
                .map(|o| [o.user_id.as_deref(), o.identity_store_arn.as_deref()]),
        );
        self.session_context
            .append(identity.session_context.as_ref());
    }

    fn finish(&mut self) -> StructArray {
        let rows = self.nulls.len();
        let mut children: Vec<ArrayRef> = self
            .scalars
            .iter_mut()
            .map(|c| string_or_nulls(c.as_mut(), rows))
            .collect();
        children.push(Arc::new(self.on_behalf_of.finish()));
        children.push(Arc::new(self.session_context.finish()));
        StructArray::new(self.fields.clone(), children, self.nulls.finish())
    }
}

/// The top-level string columns taken from the record (everything but the structs, the
/// resources list and the path columns), by schema position.
const RECORD_STRING_COLUMNS: [usize; 25] = [
    column::EVENTVERSION,
    column::EVENTTIME,
    column::EVENTSOURCE,
    column::EVENTNAME,
    column::AWSREGION,
    column::SOURCEIPADDRESS,
    column::USERAGENT,
    column::ERRORCODE,
    column::ERRORMESSAGE,
    column::REQUESTPARAMETERS,
    column::RESPONSEELEMENTS,
    column::ADDITIONALEVENTDATA,
    column::REQUESTID,
    column::EVENTID,
    column::EVENTTYPE,
    column::APIVERSION,
    column::READONLY,
    column::RECIPIENTACCOUNTID,
    column::SERVICEEVENTDETAILS,
    column::SHAREDEVENTID,
    column::VPCENDPOINTID,
    column::VPCENDPOINTACCOUNTID,
    column::EVENTCATEGORY,
    column::SESSIONCREDENTIALFROMCONSOLE,
    column::EDGEDEVICEDETAILS,
];

/// For each schema column in [`RECORD_STRING_COLUMNS`], the index of its builder; other columns
/// have none (`usize::MAX`).
const STRING_SLOT: [usize; column::COUNT] = {
    let mut slots = [usize::MAX; column::COUNT];
    let mut slot = 0;
    while slot < RECORD_STRING_COLUMNS.len() {
        slots[RECORD_STRING_COLUMNS[slot]] = slot;
        slot += 1;
    }
    slots
};

/// Builds [`RecordBatch`]es of the `cloudtrail` table (or of some of its columns) from records
/// and their file's partition.
pub struct TrailBatchBuilder {
    columns: ColumnSet,
    schema: SchemaRef,
    rows: usize,
    strings: [StringBuilder; RECORD_STRING_COLUMNS.len()],
    user_identity: UserIdentityColumns,
    resource_offsets: Vec<i32>,
    resource_nulls: NullBufferBuilder,
    resource_items: FlatStruct,
    addendum: FlatStruct,
    tls_details: FlatStruct,
    partition: [StringBuilder; PATH_COLUMNS.len()],
}

impl Default for TrailBatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TrailBatchBuilder {
    /// A builder of batches with every column.
    pub fn new() -> Self {
        Self::with_columns(ColumnSet::ALL)
    }

    /// A builder of batches with only `columns`, in schema order.
    pub fn with_columns(columns: ColumnSet) -> Self {
        Self::with_columns_and_identity(columns, IdentityFields::ALL)
    }

    /// A builder of batches with only `columns`, whose `useridentity` (when one of them) fills
    /// only the leaves `identity` names.
    pub fn with_columns_and_identity(columns: ColumnSet, identity: IdentityFields) -> Self {
        let full = cloudtrail_schema();
        let field_type = |index: usize| full.field(index).data_type();
        let DataType::List(item) = field_type(column::RESOURCES) else {
            unreachable!("resources is a list")
        };
        Self {
            user_identity: UserIdentityColumns::new(field_type(column::USERIDENTITY), identity),
            resource_offsets: vec![0],
            resource_nulls: NullBufferBuilder::new(0),
            resource_items: FlatStruct::new(item.data_type()),
            addendum: FlatStruct::new(field_type(column::ADDENDUM)),
            tls_details: FlatStruct::new(field_type(column::TLSDETAILS)),
            strings: std::array::from_fn(|_| StringBuilder::new()),
            partition: std::array::from_fn(|_| StringBuilder::new()),
            rows: 0,
            schema: columns.schema(),
            columns,
        }
    }

    /// The columns of the batches this builder makes.
    pub fn columns(&self) -> ColumnSet {
        self.columns
    }

    /// Rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub(crate) fn append(&mut self, record: &Record, partition: &Partition) {
        self.rows += 1;
        let wanted = self.columns;
        let request_parameters = record.request_parameters.text();
        let response_elements = record.response_elements.text();
        let additional_event_data = record.additional_event_data.text();
        let service_event_details = record.service_event_details.text();
        let edge_device_details = record.edge_device_details.text();
        // Each value names its column: the order of RECORD_STRING_COLUMNS does not matter here.
        let values: [(usize, Option<&str>); RECORD_STRING_COLUMNS.len()] = [
            (column::EVENTVERSION, record.event_version.as_deref()),
            (column::EVENTTIME, record.event_time.as_deref()),
            (column::EVENTSOURCE, record.event_source.as_deref()),
            (column::EVENTNAME, record.event_name.as_deref()),
            (column::AWSREGION, record.aws_region.as_deref()),
            (column::SOURCEIPADDRESS, record.source_ip_address.as_deref()),
            (column::USERAGENT, record.user_agent.as_deref()),
            (column::ERRORCODE, record.error_code.as_deref()),
            (column::ERRORMESSAGE, record.error_message.as_deref()),
            (column::REQUESTPARAMETERS, request_parameters.as_deref()),
            (column::RESPONSEELEMENTS, response_elements.as_deref()),
            (
                column::ADDITIONALEVENTDATA,
                additional_event_data.as_deref(),
            ),
            (column::REQUESTID, record.request_id.as_deref()),
            (column::EVENTID, record.event_id.as_deref()),
            (column::EVENTTYPE, record.event_type.as_deref()),
            (column::APIVERSION, record.api_version.as_deref()),
            (column::READONLY, record.read_only.as_deref()),
            (
                column::RECIPIENTACCOUNTID,
                record.recipient_account_id.as_deref(),
            ),
            (
                column::SERVICEEVENTDETAILS,
                service_event_details.as_deref(),
            ),
            (column::SHAREDEVENTID, record.shared_event_id.as_deref()),
            (column::VPCENDPOINTID, record.vpc_endpoint_id.as_deref()),
            (
                column::VPCENDPOINTACCOUNTID,
                record.vpc_endpoint_account_id.as_deref(),
            ),
            (column::EVENTCATEGORY, record.event_category.as_deref()),
            (
                column::SESSIONCREDENTIALFROMCONSOLE,
                record.session_credential_from_console.as_deref(),
            ),
            (column::EDGEDEVICEDETAILS, edge_device_details.as_deref()),
        ];
        for (index, value) in values {
            if wanted.contains(index) {
                self.strings[STRING_SLOT[index]].append_option(value);
            }
        }
        if wanted.contains(column::USERIDENTITY) {
            self.user_identity.append(record.user_identity.as_deref());
        }
        if wanted.contains(column::RESOURCES) {
            match &record.resources {
                Some(resources) => {
                    for r in resources {
                        self.resource_items.append(Some([
                            r.arn.as_deref(),
                            r.account_id.as_deref(),
                            r.kind.as_deref(),
                        ]));
                    }
                    self.resource_nulls.append_non_null();
                }
                None => self.resource_nulls.append_null(),
            }
            let items = self.resource_offsets.last().copied().unwrap_or(0)
                + record.resources.as_ref().map_or(0, |r| r.len() as i32);
            self.resource_offsets.push(items);
        }
        if wanted.contains(column::ADDENDUM) {
            self.addendum.append(record.addendum.as_ref().map(|a| {
                [
                    a.reason.as_deref(),
                    a.updated_fields.as_deref(),
                    a.original_request_id.as_deref(),
                    a.original_event_id.as_deref(),
                ]
            }));
        }
        if wanted.contains(column::TLSDETAILS) {
            self.tls_details
                .append(record.tls_details.as_ref().map(|t| {
                    [
                        t.tls_version.as_deref(),
                        t.cipher_suite.as_deref(),
                        t.client_provided_host_header.as_deref(),
                    ]
                }));
        }
        self.append_path_columns(partition);
    }

    /// The path columns, in [`PATH_COLUMNS`] order: one file's values, repeated on each row.
    fn append_path_columns(&mut self, partition: &Partition) {
        let wanted = self.columns;
        let plain = [
            (column::ACCOUNT, partition.account.as_deref()),
            (column::REGION, partition.region.as_deref()),
            (column::YEAR, partition.year.as_deref()),
            (column::MONTH, partition.month.as_deref()),
            (column::DAY, partition.day.as_deref()),
            (column::REGION_PARTITION, partition.region.as_deref()),
            (column::ACCOUNT_PARTITION, partition.account.as_deref()),
        ];
        for (index, value) in plain {
            if wanted.contains(index) {
                self.partition[index - column::FIRST_PATH_COLUMN].append_option(value);
            }
        }
        // `timestamp` and `date_partition`: `YYYY/MM/DD`, written straight into the builder's
        // buffer a part at a time, rather than formatted (`write!` was 1.3% of an ingest's CPU).
        let date = partition.date_parts();
        for index in [column::TIMESTAMP, column::DATE_PARTITION] {
            if !wanted.contains(index) {
                continue;
            }
            let builder = &mut self.partition[index - column::FIRST_PATH_COLUMN];
            match date {
                Some((y, m, d)) => {
                    use std::fmt::Write;
                    for part in [y, "/", m, "/", d] {
                        builder
                            .write_str(part)
                            .expect("a string builder accepts any text");
                    }
                    builder.append_value("");
                }
                None => builder.append_null(),
            }
        }
    }

    /// Takes the rows appended so far as a batch and starts over.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let wanted = self.columns;
        let rows = std::mem::take(&mut self.rows);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for index in wanted.indices() {
            let array: ArrayRef = match index {
                column::USERIDENTITY => Arc::new(self.user_identity.finish()),
                column::RESOURCES => Arc::new(self.finish_resources()?),
                column::ADDENDUM => Arc::new(self.addendum.finish()),
                column::TLSDETAILS => Arc::new(self.tls_details.finish()),
                path if path >= column::FIRST_PATH_COLUMN => Arc::new(finish_sized(
                    &mut self.partition[path - column::FIRST_PATH_COLUMN],
                )),
                // Every other column is a record string.
                string => Arc::new(finish_sized(&mut self.strings[STRING_SLOT[string]])),
            };
            // Builders grow by doubling; a batch held in memory (a report's window, a hunt's
            // table, the shell's trail) should not keep the unused half. The copy this may take
            // is made here, on the scan's threads.
            let mut array = array;
            <ArrayRef as arrow_array::Array>::shrink_to_fit(&mut array);
            columns.push(array);
        }
        // A query that reads no column (`count(*)`) still needs the number of rows.
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }

    fn finish_resources(&mut self) -> Result<ListArray, ArrowError> {
        let DataType::List(item) = cloudtrail_schema()
            .field(column::RESOURCES)
            .data_type()
            .clone()
        else {
            unreachable!("resources is a list")
        };
        let offsets = std::mem::replace(&mut self.resource_offsets, vec![0]);
        ListArray::try_new(
            item,
            OffsetBuffer::new(offsets.into()),
            Arc::new(self.resource_items.finish()),
            self.resource_nulls.finish(),
        )
    }
}
