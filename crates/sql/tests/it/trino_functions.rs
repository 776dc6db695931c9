//! Trino's functions through ctq's output formats, on a DataFusion session with ctq's functions
//! registered. Their values are checked by the sqllogictest files (`tests/slt/`, run by
//! `slt.rs`), which print cells one way; here, what each format of `ctq_sql::output` makes of
//! them.

use std::sync::Arc;

use ctq_sql::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use ctq_sql::arrow::datatypes::{Field, Schema};
use ctq_sql::output::{OutputFormat, text_rows, write_results};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

/// `t`: an IPv4 address, an IPv6 address, a service's name (no address).
fn context() -> SessionContext {
    let mut ctx = SessionContext::new();
    ctq_sql::functions::register(&mut ctx).unwrap();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
        (
            "sourceip",
            Arc::new(StringArray::from(vec![
                "10.1.2.3",
                "2001:db8::1",
                "s3.amazonaws.com",
            ])),
        ),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
    ctx.register_table("t", Arc::new(table)).unwrap();
    ctx
}

async fn batches(ctx: &SessionContext, sql: &str) -> (Vec<String>, Vec<RecordBatch>) {
    let frame = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let columns = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batches = frame
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    (columns, batches)
}

fn written(format: OutputFormat, columns: &[String], batches: &[RecordBatch]) -> String {
    let mut out = Vec::new();
    write_results(&mut out, format, columns, batches).unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn ip_addresses_print_as_text_in_every_format() {
    let ctx = context();
    let (columns, batches) = batches(
        &ctx,
        "SELECT id, ipaddress(sourceip) AS ip FROM t WHERE id IN (1, 2, 3) ORDER BY id",
    )
    .await;
    assert_eq!(
        written(OutputFormat::Csv, &columns, &batches),
        "\"id\",\"ip\"\n1,\"10.1.2.3\"\n2,\"2001:db8::1\"\n3,\n"
    );
    assert_eq!(
        written(OutputFormat::Ndjson, &columns, &batches),
        "{\"id\":1,\"ip\":\"10.1.2.3\"}\n{\"id\":2,\"ip\":\"2001:db8::1\"}\n{\"id\":3,\"ip\":null}\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&written(OutputFormat::Json, &columns, &batches)).unwrap();
    assert_eq!(json[1]["ip"], "2001:db8::1");
    let table = written(OutputFormat::Table, &columns, &batches);
    assert!(
        table.contains("| 10.1.2.3 ") && table.contains("| 2001:db8::1 "),
        "{table}"
    );
    assert_eq!(
        text_rows(&batches).unwrap()[0],
        [Some("1".to_string()), Some("10.1.2.3".to_string())]
    );
}
