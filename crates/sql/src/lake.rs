//! The trail with CloudTrail Lake's schema, so that queries saved in Lake run over it.
//!
//! Lake stores the same records with other types: `eventTime` is a timestamp (so queries compare
//! it with `'2023-01-22 00:00:00'`), `requestParameters`, `responseElements`,
//! `additionalEventData`, `serviceEventDetails` and `edgeDeviceDetails` are `map<string,string>`
//! read with `element_at` (nested values as JSON text), `readOnly` and
//! `sessionCredentialFromConsole` are booleans, and `managementEvent` tells management events
//! apart. Here that schema is a view over the `cloudtrail` table: every filter on it still
//! reaches the table, so time windows still choose the files read.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::common::Result;
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, TryCast, col, lit};

/// Lake's columns in Lake's order: the name, and how it is read from the `cloudtrail` table.
fn lake_columns(ctx: &SessionContext) -> Result<Vec<Expr>> {
    let udf = |name: &str| ctx.udf(name);
    let timestamp = udf("from_iso8601_timestamp")?;
    let map = udf("json_object_map")?;
    let boolean = |column: &str| {
        Expr::TryCast(TryCast::new(Box::new(col(column)), DataType::Boolean)).alias(column)
    };
    let as_map = |column: &str| map.call(vec![col(column)]).alias(column);
    Ok(vec![
        col("eventversion"),
        col("useridentity"),
        timestamp.call(vec![col("eventtime")]).alias("eventtime"),
        col("eventsource"),
        col("eventname"),
        col("awsregion"),
        col("sourceipaddress"),
        col("useragent"),
        col("errorcode"),
        col("errormessage"),
        as_map("requestparameters"),
        as_map("responseelements"),
        as_map("additionaleventdata"),
        col("requestid"),
        col("eventid"),
        boolean("readonly"),
        col("resources"),
        col("eventtype"),
        col("apiversion"),
        // Records carry `managementEvent` only in Lake; the category says the same.
        col("eventcategory")
            .eq(lit("Management"))
            .alias("managementevent"),
        col("recipientaccountid"),
        col("sharedeventid"),
        col("vpcendpointid"),
        col("vpcendpointaccountid"),
        as_map("serviceeventdetails"),
        col("addendum"),
        as_map("edgedevicedetails"),
        col("eventcategory"),
        col("tlsdetails"),
        boolean("sessioncredentialfromconsole"),
    ])
}

/// A view of `table` (the `cloudtrail` table) with Lake's schema. Needs ctq's functions
/// registered on `ctx`.
pub fn lake_view(ctx: &SessionContext, table: Arc<dyn TableProvider>) -> Result<ViewTable> {
    let plan = LogicalPlanBuilder::scan("cloudtrail", provider_as_source(table), None)?
        .project(lake_columns(ctx)?)?
        .build()?;
    Ok(ViewTable::new(plan, None))
}
