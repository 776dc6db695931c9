//! Reading a query's filters for what they say about file locations: the event-time window,
//! and the path columns (accounts, regions, delivery days, and the `YYYY/MM/DD` text of
//! `timestamp` and `date_partition`). The result only narrows which files are read; every filter still runs
//! on the records, so a pattern not recognised here costs speed, never correctness.

use std::collections::BTreeSet;
use std::ops::Bound;

use ctq_ingest::Pruning;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

use crate::functions::time::parse_iso8601_millis;

/// The pruning implied by the conjunction of `filters`.
pub fn pruning_from_filters(filters: &[Expr], delivery_slack_ms: i64) -> Pruning {
    pruning_with(filters, delivery_slack_ms, TimeComparison::TextOrInstant)
}

/// The `[start, end)` instants the filters require of the event time, counting only comparisons
/// of instants (`from_iso8601_timestamp(eventtime)`, casts to timestamps). A comparison of the
/// `eventtime` text orders `…T07:00:00+02:00` after `…T06:40:00Z`, though it is earlier, so it
/// says nothing exact about instants; file pruning has its slack for that, a filter on an
/// instant column has none.
pub fn instant_window(filters: &[Expr]) -> (Option<i64>, Option<i64>) {
    let pruning = pruning_with(filters, 0, TimeComparison::InstantOnly);
    (pruning.start_ms, pruning.end_ms)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeComparison {
    TextOrInstant,
    InstantOnly,
}

fn pruning_with(filters: &[Expr], delivery_slack_ms: i64, times: TimeComparison) -> Pruning {
    let mut pruning = Pruning {
        delivery_slack_ms,
        ..Pruning::default()
    };
    for filter in filters {
        for conjunct in split_conjunction(filter) {
            apply(conjunct, &mut pruning, times);
        }
    }
    pruning
}

fn apply(expr: &Expr, pruning: &mut Pruning, times: TimeComparison) {
    match expr {
        // DataFusion's simplifier turns a short `IN (…)` into `… = … OR … = …`.
        Expr::InList(_)
        | Expr::BinaryExpr(BinaryExpr {
            op: Operator::Or, ..
        }) => {
            if let Some((column, values)) = equal_values(expr) {
                restrict_path_column(pruning, column, values);
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column_side, op, value_side) =
                if literal_millis(right).is_some() || literal_text(right).is_some() {
                    (left.as_ref(), *op, right.as_ref())
                } else if let Some(swapped) = op.swap() {
                    (right.as_ref(), swapped, left.as_ref())
                } else {
                    return;
                };
            if is_event_time(column_side, times)
                && let Some(value) = literal_millis(value_side)
            {
                match op {
                    Operator::Gt | Operator::GtEq => raise_start(pruning, value),
                    Operator::Lt => lower_end(pruning, value),
                    Operator::LtEq => lower_end(pruning, value + 1),
                    Operator::Eq => {
                        raise_start(pruning, value);
                        lower_end(pruning, value + 1);
                    }
                    _ => {}
                }
            } else if let Some(text) = literal_text(value_side) {
                restrict_by_comparison(pruning, column_side, op, text);
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_event_time(expr, times) => {
            if let (Some(low), Some(high)) = (literal_millis(low), literal_millis(high)) {
                raise_start(pruning, low);
                lower_end(pruning, high + 1);
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => {
            if let (Some(low), Some(high)) = (literal_text(low), literal_text(high)) {
                restrict_by_comparison(pruning, expr, Operator::GtEq, low);
                restrict_by_comparison(pruning, expr, Operator::LtEq, high);
            }
        }
        _ => {}
    }
}

/// The column and the values of `column IN ('a', …)`, `column = 'a'`, or a disjunction of those on
/// one column.
fn equal_values(expr: &Expr) -> Option<(&Expr, Vec<String>)> {
    match expr {
        Expr::InList(list) if !list.negated => {
            let values: Option<Vec<String>> = list.list.iter().map(literal_text).collect();
            Some((list.expr.as_ref(), values?))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (literal_text(left), literal_text(right)) {
            (None, Some(value)) => Some((left.as_ref(), vec![value])),
            (Some(value), None) => Some((right.as_ref(), vec![value])),
            _ => None,
        },
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let (column, mut values) = equal_values(left)?;
            let (other, more) = equal_values(right)?;
            // Both sides must be about the same path column.
            let name = path_column(column)?;
            (path_column(other)? == name).then(|| {
                values.extend(more);
                (column, values)
            })
        }
        _ => None,
    }
}

/// `column <op> 'text'` on a path column: `=` on any of them, order comparisons on the
/// `YYYY/MM/DD` text of `timestamp` and `date_partition` (text order, as the rows compare).
fn restrict_by_comparison(pruning: &mut Pruning, column: &Expr, op: Operator, text: String) {
    if op == Operator::Eq {
        restrict_path_column(pruning, column, [text]);
        return;
    }
    if !path_column(column).is_some_and(is_date_text_column) {
        return;
    }
    match op {
        Operator::Gt => pruning.raise_date_from(Bound::Excluded(text)),
        Operator::GtEq => pruning.raise_date_from(Bound::Included(text)),
        Operator::Lt => pruning.lower_date_to(Bound::Excluded(text)),
        Operator::LtEq => pruning.lower_date_to(Bound::Included(text)),
        _ => {}
    }
}

/// The path columns whose value is the delivery day as `YYYY/MM/DD` text.
fn is_date_text_column(name: &str) -> bool {
    matches!(name, "timestamp" | "date_partition")
}

/// The name of the column `expr` reads as text: the column itself, or a cast of it to another
/// string type (which type coercion adds, and which keeps the value and its order).
fn path_column(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(column) => Some(column.name.as_str()),
        Expr::Cast(cast) if is_string_type(cast.field.data_type()) => path_column(&cast.expr),
        Expr::TryCast(cast) if is_string_type(cast.field.data_type()) => path_column(&cast.expr),
        _ => None,
    }
}

fn is_string_type(data_type: &datafusion::arrow::datatypes::DataType) -> bool {
    use datafusion::arrow::datatypes::DataType;
    matches!(
        data_type,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    )
}

fn raise_start(pruning: &mut Pruning, value: i64) {
    pruning.start_ms = Some(pruning.start_ms.map_or(value, |s| s.max(value)));
}

fn lower_end(pruning: &mut Pruning, value: i64) {
    pruning.end_ms = Some(pruning.end_ms.map_or(value, |e| e.min(value)));
}

fn restrict_path_column(
    pruning: &mut Pruning,
    column: &Expr,
    values: impl IntoIterator<Item = String>,
) {
    let Some(name) = path_column(column) else {
        return;
    };
    if is_date_text_column(name) {
        pruning.restrict_dates(values);
        return;
    }
    // `account_partition` and `region_partition` hold the same values as `account` and
    // `region`.
    let slot = match name {
        "account" | "account_partition" => &mut pruning.accounts,
        "region" | "region_partition" => &mut pruning.regions,
        "year" => &mut pruning.years,
        "month" => &mut pruning.months,
        "day" => &mut pruning.days,
        _ => return,
    };
    let values: BTreeSet<String> = values.into_iter().collect();
    *slot = Some(match slot.take() {
        Some(existing) => existing.intersection(&values).cloned().collect(),
        None => values,
    });
}

/// `eventtime` itself (ISO 8601 text compares in time order) or `from_iso8601_timestamp(eventtime)`.
fn is_event_time(expr: &Expr, times: TimeComparison) -> bool {
    match expr {
        Expr::Column(c) => times == TimeComparison::TextOrInstant && c.name == "eventtime",
        Expr::ScalarFunction(f) if f.name() == "from_iso8601_timestamp" => {
            matches!(f.args.as_slice(), [Expr::Column(c)] if c.name == "eventtime")
        }
        Expr::Cast(cast) => {
            is_instant_cast(cast.field.data_type(), &cast.expr)
                || (times == TimeComparison::TextOrInstant && is_event_time(&cast.expr, times))
        }
        Expr::TryCast(cast) => {
            is_instant_cast(cast.field.data_type(), &cast.expr)
                || (times == TimeComparison::TextOrInstant && is_event_time(&cast.expr, times))
        }
        _ => false,
    }
}

/// `CAST(eventtime AS timestamp)` compares instants; a cast to text is still text.
fn is_instant_cast(to: &datafusion::arrow::datatypes::DataType, expr: &Expr) -> bool {
    matches!(to, datafusion::arrow::datatypes::DataType::Timestamp(..))
        && matches!(expr, Expr::Column(c) if c.name == "eventtime")
}

/// A text constant, possibly cast to another string type.
fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(value, _) => value.try_as_str().flatten().map(str::to_owned),
        Expr::Cast(cast) if is_string_type(cast.field.data_type()) => literal_text(&cast.expr),
        _ => None,
    }
}

/// A time constant: a timestamp literal, ISO 8601 text, or `from_iso8601_timestamp('...')` not
/// yet folded.
fn literal_millis(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Literal(value, _) => match value {
            ScalarValue::TimestampSecond(Some(v), _) => Some(v.saturating_mul(1_000)),
            ScalarValue::TimestampMillisecond(Some(v), _) => Some(*v),
            ScalarValue::TimestampMicrosecond(Some(v), _) => Some(v.div_euclid(1_000)),
            ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000_000)),
            other => other.try_as_str().flatten().and_then(parse_iso8601_millis),
        },
        Expr::ScalarFunction(f) if f.name() == "from_iso8601_timestamp" => {
            match f.args.as_slice() {
                [arg] => literal_millis(arg),
                _ => None,
            }
        }
        Expr::Cast(cast) => literal_millis(&cast.expr),
        _ => None,
    }
}

/// Whether the conjunction of `filters` rejects every row whose `errorcode` is NULL, so that
/// records without an `errorCode` need not be decoded.
pub fn needs_error_code(filters: &[Expr]) -> bool {
    filters
        .iter()
        .flat_map(|f| split_conjunction(f))
        .any(rejects_null_error_code)
}

fn rejects_null_error_code(expr: &Expr) -> bool {
    match expr {
        Expr::IsNotNull(inner) => is_error_code(inner) || is_denial_of_error_code(inner),
        // ctq's own denial test is false for a NULL error code.
        Expr::ScalarFunction(f) if f.name() == "is_denial" => {
            matches!(f.args.as_slice(), [arg] if is_error_code(arg))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => rejects_null_error_code(left) && rejects_null_error_code(right),
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => rejects_null_error_code(left) || rejects_null_error_code(right),
        // A comparison or LIKE of errorcode (or lower/upper of it) against a constant is NULL, so
        // false, when errorcode is NULL.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op:
                Operator::Eq
                | Operator::NotEq
                | Operator::Lt
                | Operator::LtEq
                | Operator::Gt
                | Operator::GtEq
                | Operator::LikeMatch
                | Operator::ILikeMatch
                | Operator::RegexMatch
                | Operator::RegexIMatch,
            right,
        }) => {
            (is_error_code(left) && matches!(right.as_ref(), Expr::Literal(..)))
                || (is_error_code(right) && matches!(left.as_ref(), Expr::Literal(..)))
        }
        Expr::Like(like) => {
            is_error_code(&like.expr) && matches!(like.pattern.as_ref(), Expr::Literal(..))
        }
        _ => false,
    }
}

/// `access_denied(errorcode, …)`, which is NULL for a record without an error code.
fn is_denial_of_error_code(expr: &Expr) -> bool {
    match expr {
        Expr::ScalarFunction(f) if f.name() == "access_denied" => {
            f.args.first().is_some_and(is_error_code)
        }
        _ => false,
    }
}

fn is_error_code(expr: &Expr) -> bool {
    match expr {
        Expr::Column(c) => c.name == "errorcode",
        Expr::ScalarFunction(f) if matches!(f.name(), "lower" | "upper" | "trim" | "btrim") => {
            matches!(f.args.as_slice(), [arg] if is_error_code(arg))
        }
        Expr::Cast(cast) => is_error_code(&cast.expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{col, lit};

    use super::*;

    #[test]
    fn finds_the_denial_filter_of_the_article() {
        let lower = datafusion::functions::string::expr_fn::lower;
        let denied = lower(col("errorcode"))
            .like(lit("%accessdenied%"))
            .or(lower(col("errorcode")).like(lit("%unauthorized%")));
        assert!(needs_error_code(std::slice::from_ref(&denied)));
        assert!(needs_error_code(&[col("errorcode").is_not_null()]));
        assert!(needs_error_code(&[col("eventtype")
            .eq(lit("AwsApiCall"))
            .and(col("errorcode").eq(lit("AccessDenied")))]));
        assert!(!needs_error_code(&[col("errorcode").is_null()]));
        assert!(!needs_error_code(&[
            denied.or(col("eventname").eq(lit("x")))
        ]));
        assert!(!needs_error_code(&[]));
    }

    #[test]
    fn an_instant_window_ignores_comparisons_of_the_text() {
        use datafusion::execution::FunctionRegistry;
        let mut ctx = datafusion::prelude::SessionContext::new();
        crate::functions::register(&mut ctx).unwrap();
        let instant = ctx
            .udf("from_iso8601_timestamp")
            .unwrap()
            .call(vec![col("eventtime")]);
        let text = col("eventtime").gt_eq(lit("2019-10-29T06:40:00Z"));
        assert_eq!(instant_window(std::slice::from_ref(&text)), (None, None));
        assert!(
            pruning_from_filters(std::slice::from_ref(&text), 0)
                .start_ms
                .is_some()
        );
        let start = parse("2019-10-29T06:40:00Z");
        let end = parse("2019-10-29T06:55:00Z");
        let both = [
            text,
            instant
                .clone()
                .gt_eq(lit(ScalarValue::TimestampMillisecond(Some(start), None))),
            instant.lt_eq(lit(ScalarValue::TimestampMillisecond(Some(end), None))),
        ];
        assert_eq!(instant_window(&both), (Some(start), Some(end + 1)));
    }

    fn parse(text: &str) -> i64 {
        crate::functions::time::parse_iso8601_millis(text).unwrap()
    }

    #[test]
    fn ctqs_denial_functions_need_an_error_code_too() {
        use datafusion::execution::FunctionRegistry;
        let mut ctx = datafusion::prelude::SessionContext::new();
        crate::functions::register(&mut ctx).unwrap();
        let call = |name: &str, args: Vec<Expr>| ctx.udf(name).unwrap().call(args);
        assert!(needs_error_code(&[call(
            "is_denial",
            vec![col("errorcode")]
        )]));
        assert!(needs_error_code(&[call(
            "access_denied",
            vec![col("errorcode"), col("errormessage")]
        )
        .is_not_null()]));
        assert!(!needs_error_code(&[call(
            "is_denial",
            vec![col("eventname")]
        )]));
        assert!(!needs_error_code(&[!call(
            "is_denial",
            vec![col("errorcode")]
        )]));
    }

    #[test]
    fn reads_windows_accounts_and_regions() {
        let time = |t: &str| {
            lit(ScalarValue::TimestampMillisecond(
                parse_iso8601_millis(t),
                Some("UTC".into()),
            ))
        };
        let filters = [
            col("eventtime").gt_eq(lit("2019-10-29T06:40:00Z")),
            time("2019-10-29T06:55:00Z").gt(col("eventtime")),
            col("account").in_list(vec![lit("111111111111"), lit("222222222222")], false),
            col("region").eq(lit("us-east-1")),
        ];
        let pruning = pruning_from_filters(&filters, 60_000);
        assert_eq!(
            pruning.start_ms,
            parse_iso8601_millis("2019-10-29T06:40:00Z")
        );
        assert_eq!(pruning.end_ms, parse_iso8601_millis("2019-10-29T06:55:00Z"));
        assert_eq!(pruning.accounts.unwrap().len(), 2);
        assert_eq!(
            pruning.regions.unwrap().into_iter().collect::<Vec<_>>(),
            ["us-east-1"]
        );
        assert!(
            pruning_from_filters(&[col("eventtime").gt_eq(col("eventname"))], 0).is_unbounded()
        );
    }

    #[test]
    fn reads_the_date_text_and_partition_columns_of_the_other_ddls() {
        use datafusion::arrow::datatypes::DataType;
        use datafusion::logical_expr::cast;
        let filters = [
            col("date_partition").gt_eq(lit("2021/07/01")),
            lit("2021/07/31").gt_eq(col("timestamp")),
            col("account_partition").eq(lit("111122223333")),
            col("region_partition")
                .eq(lit("us-east-1"))
                .or(lit("eu-west-1").eq(col("region_partition"))),
        ];
        let p = pruning_from_filters(&filters, 0);
        assert_eq!(p.date_from, Bound::Included("2021/07/01".into()));
        assert_eq!(p.date_to, Bound::Included("2021/07/31".into()));
        assert_eq!(
            p.accounts.unwrap().into_iter().collect::<Vec<_>>(),
            ["111122223333"]
        );
        assert_eq!(
            p.regions.unwrap().into_iter().collect::<Vec<_>>(),
            ["eu-west-1", "us-east-1"]
        );

        let p = pruning_from_filters(
            &[
                cast(col("timestamp"), DataType::Utf8View).lt(lit("2021/08/01")),
                col("date_partition").between(lit("2021/07/02"), lit("2021/07/09")),
                col("timestamp").in_list(vec![lit("2021/07/05"), lit("2021/07/15")], false),
            ],
            0,
        );
        assert_eq!(p.date_from, Bound::Included("2021/07/02".into()));
        assert_eq!(p.date_to, Bound::Included("2021/07/09".into()));
        assert_eq!(p.delivery_days().unwrap(), ["2021/07/05"]);

        // What is not understood leaves the days open.
        for filter in [
            col("date_partition").not_eq(lit("2021/07/01")),
            col("date_partition").like(lit("2021/07/%")),
            col("date_partition").gt(col("timestamp")),
            col("date_partition")
                .eq(lit("2021/07/01"))
                .or(col("account").eq(lit("111122223333"))),
            col("date_partition").not_between(lit("2021/07/01"), lit("2021/07/09")),
            col("date_partition").in_list(vec![lit("2021/07/01")], true),
            cast(col("date_partition"), DataType::Date32).gt(lit(ScalarValue::Date32(Some(0)))),
            col("timestamp").in_list(vec![lit("2021/07/01"), lit(ScalarValue::Utf8(None))], false),
        ] {
            assert!(
                pruning_from_filters(std::slice::from_ref(&filter), 0).is_unbounded(),
                "{filter}"
            );
        }
    }

    /// DataFusion's own parser (no ctq dialect) takes an unquoted `timestamp` as the column of
    /// that name, and hands the table a comparison of that column with the text.
    #[tokio::test]
    async fn datafusions_parser_reads_an_unquoted_timestamp_as_the_column() {
        use datafusion::common::tree_node::TreeNode;
        use datafusion::logical_expr::LogicalPlan;
        let ctx = datafusion::prelude::SessionContext::new();
        let table = crate::CloudTrailTable::new(
            Vec::new(),
            false,
            usize::MAX,
            0,
            std::sync::Arc::default(),
            None,
        );
        ctx.register_table("cloudtrail", std::sync::Arc::new(table))
            .unwrap();
        for sql in [
            "SELECT eventid FROM cloudtrail WHERE timestamp = '2023/03/28'",
            "SELECT timestamp, count(*) FROM cloudtrail WHERE timestamp >= '2023/03/28' GROUP BY 1",
        ] {
            let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
            let mut filters = Vec::new();
            plan.apply(|node| {
                if let LogicalPlan::TableScan(scan) = node {
                    filters.extend(scan.filters.clone());
                }
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            })
            .unwrap();
            let p = pruning_from_filters(&filters, 0);
            assert!(
                p.dates.is_some() || p.date_from != Bound::Unbounded,
                "{sql}: {filters:?}"
            );
        }
    }
}
