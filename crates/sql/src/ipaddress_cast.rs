//! `CAST(ip AS VARCHAR)` for Trino's `IPADDRESS`: Arrow cannot cast `FixedSizeBinary(16)` to
//! text, so after type coercion every such cast becomes `ipaddress_text(ip)`, which prints the
//! address as Trino does (`10.1.2.3`, `2001:db8::1`).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, ScalarUDF};
use datafusion::optimizer::AnalyzerRule;

use crate::functions::ip::{IpAddressText, ipaddress_type};

/// The analyzer rule; runs after DataFusion's type coercion, when every expression's type is
/// known.
#[derive(Debug)]
pub struct IpAddressCasts {
    text: Arc<ScalarUDF>,
}

impl Default for IpAddressCasts {
    fn default() -> Self {
        Self {
            text: Arc::new(ScalarUDF::new_from_impl(IpAddressText::new())),
        }
    }
}

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    )
}

impl AnalyzerRule for IpAddressCasts {
    fn name(&self) -> &'static str {
        "ctq_ipaddress_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let schema: DFSchema = merge_schema(&plan.inputs());
            plan.map_expressions(|expr| {
                expr.transform_up(|expr| {
                    let (inner, to) = match &expr {
                        Expr::Cast(cast) => (&cast.expr, cast.field.data_type()),
                        Expr::TryCast(cast) => (&cast.expr, cast.field.data_type()),
                        _ => return Ok(Transformed::no(expr)),
                    };
                    if !is_text(to) || inner.get_type(&schema).ok() != Some(ipaddress_type()) {
                        return Ok(Transformed::no(expr));
                    }
                    let text = Expr::ScalarFunction(ScalarFunction::new_udf(
                        Arc::clone(&self.text),
                        vec![inner.as_ref().clone()],
                    ));
                    let text = if *to == DataType::Utf8 {
                        text
                    } else {
                        text.cast_to(to, &schema)?
                    };
                    Ok(Transformed::yes(text))
                })
            })
        })
        .map(|transformed| transformed.data)
    }
}
