//! `ctq schema`: the table's columns, with Athena's type names.

use std::sync::Arc;

use ctq_ingest::{PATH_COLUMNS, athena_type_name, cloudtrail_schema};
use ctq_sql::arrow::array::{RecordBatch, StringArray};

use crate::args::SchemaArgs;
use crate::commands::{Outcome, write_rows_cut};

pub async fn run(args: SchemaArgs) -> anyhow::Result<Outcome> {
    let schema = cloudtrail_schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| athena_type_name(f.data_type()))
        .collect();
    let origin: Vec<&str> = names
        .iter()
        .map(|n| {
            if PATH_COLUMNS.contains(n) {
                "file path"
            } else {
                "record"
            }
        })
        .collect();
    let batch = RecordBatch::try_from_iter([
        ("column", Arc::new(StringArray::from(names)) as _),
        ("type", Arc::new(StringArray::from(types)) as _),
        ("from", Arc::new(StringArray::from(origin)) as _),
    ])?;
    let columns = vec!["column".into(), "type".into(), "from".into()];
    // Every column, however many: the schema is not a query result to page through.
    write_rows_cut(
        &args.output,
        columns,
        false,
        futures::stream::iter([Ok(batch)]),
    )
    .await?;
    Ok(Outcome::Clean)
}
