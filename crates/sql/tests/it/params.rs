//! Parameters are bound as values: never spliced, never silently missing.

use ctq_sql::SqlError;

use crate::support::*;

const BY_ARN: &str =
    "SELECT eventid FROM cloudtrail WHERE useridentity.arn = $arn ORDER BY eventid";

#[tokio::test]
async fn a_bound_value_is_compared_as_a_value() {
    let result = run(BY_ARN, &[("arn", "arn:aws:iam::123456789012:user/ops")]).await;
    assert!(result.row_count() > 0);
    // Text that would change the query if pasted into it matches nothing as a value.
    let injected = run(BY_ARN, &[("arn", "x' OR '1'='1")]).await;
    assert_eq!(injected.row_count(), 0);
}

#[tokio::test]
async fn a_missing_parameter_is_named() {
    let error = session().await.query(BY_ARN, &[]).await.unwrap_err();
    assert!(
        matches!(&error, SqlError::MissingParameter { name, .. } if name == "arn"),
        "{error}"
    );
    assert!(error.to_string().contains("--param arn="), "{error}");
}

#[tokio::test]
async fn an_unknown_parameter_is_named_with_the_ones_expected() {
    let error = session()
        .await
        .query(BY_ARN, &params(&[("arn", "a"), ("region", "us-east-1")]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SqlError::UnknownParameter { name, .. } if name == "region"),
        "{error}"
    );
    assert!(error.to_string().contains("$arn"), "{error}");
}

#[tokio::test]
async fn values_take_the_type_the_query_needs() {
    let result = run(
        "SELECT count(*) AS n FROM cloudtrail WHERE length(eventid) > $min_length",
        &[("min_length", "10")],
    )
    .await;
    assert_eq!(column(&result, "n"), [sample_records().len().to_string()]);
    let error = session()
        .await
        .query(
            "SELECT count(*) FROM cloudtrail WHERE length(eventid) > $min_length",
            &params(&[("min_length", "ten")]),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SqlError::BadParameter { .. }), "{error}");
}

#[tokio::test]
async fn statements_that_change_things_are_refused() {
    let error = session()
        .await
        .query("CREATE TABLE t AS SELECT * FROM cloudtrail", &[])
        .await
        .unwrap_err();
    assert!(matches!(error, SqlError::ReadOnly(_)), "{error}");
}

#[tokio::test]
async fn every_saved_query_documents_its_parameters_and_runs_with_them() {
    // A value for each parameter a saved query may take; which it takes is read from its SQL.
    let values = [
        ("arn", USER),
        ("from", "2019-10-28T00:00:00Z"),
        ("to", "2019-10-31T00:00:00Z"),
    ];
    let reader = session().await;
    let mut seen = 0;
    for (path, sql) in saved_queries() {
        assert!(sql.starts_with("-- "), "{path} starts with a comment");
        let names = reader.parameters(&sql).await.unwrap();
        assert!(
            names.iter().any(|n| n == "from") && names.iter().any(|n| n == "to"),
            "{path} takes a window: {names:?}"
        );
        let pairs: Vec<(&str, &str)> = names
            .iter()
            .map(|name| {
                values
                    .iter()
                    .copied()
                    .find(|(known, _)| known == name)
                    .unwrap_or_else(|| panic!("{path} takes ${name}: give it a value above"))
            })
            .collect();
        for (name, _) in &pairs {
            let header: String = sql.lines().take_while(|l| l.starts_with("--")).collect();
            assert!(
                header.contains(&format!("${name}")),
                "{path} documents ${name}"
            );
        }
        let result = run(&sql, &pairs).await;
        assert!(result.row_count() > 0, "{path} finds rows in the sample");
        seen += 1;
    }
    assert!(seen >= 5);
}
