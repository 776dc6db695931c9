//! Athena's functions over the sample trail's `cloudtrail` table, for what the sqllogictest files
//! (`tests/slt/`, run by `slt.rs`) cannot express: they run on a bare DataFusion session, with
//! tables of their own. Here: the table's own column types (JSON texts, arrays of structs, maps,
//! the error columns) as the functions take them, nested names written in any case, and `$name`
//! parameters.

use crate::support::*;

#[tokio::test]
async fn functions_take_the_columns_of_the_trail_as_decoded() {
    let result = run(
        "SELECT json_extract_scalar(requestparameters, '$.bucketName') AS bucket, \
                json_extract(requestparameters, '$.key') AS key_json, \
                cardinality(resources) AS n, element_at(resources, 1)['arn'] AS first, \
                element_at(resources, -1)['type'] AS last_type, element_at(resources, 5) IS NULL AS past_end, \
                from_iso8601_timestamp(eventtime) AS t, from_iso8601_timestamp(eventsource) AS bad, \
                is_denial(errorcode) AS denial, access_denied(errorcode, errormessage) IS NULL AS no_diagnosis \
         FROM cloudtrail WHERE eventname = 'GetObject' AND errorcode = 'AccessDenied'",
        &[],
    )
    .await;
    assert_eq!(
        csv_rows(&result),
        [
            r#""prod-artifacts","""build/app.zip""",2,"arn:aws:s3:::prod-artifacts/build/app.zip","AWS::S3::Bucket",true,"2019-10-29 06:53:59.000 UTC",,true,false"#
        ]
    );
    let claims = run(
        "SELECT DISTINCT element_at(useridentity.sessioncontext.webidfederationdata.attributes, 'aud') AS aud \
         FROM cloudtrail WHERE useridentity.sessioncontext.webidfederationdata.federatedprovider IS NOT NULL",
        &[],
    )
    .await;
    assert_eq!(csv_rows(&claims), [r#""sts.amazonaws.com""#]);
}

#[tokio::test]
async fn queries_written_for_athena_name_nested_fields_in_any_case() {
    let result = run(
        "SELECT count(*) AS n FROM cloudtrail WHERE userIdentity.sessionContext.sessionIssuer.userName = 'Testrole'",
        &[],
    )
    .await;
    let expected = sample_records()
        .iter()
        .filter(|r| r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == "Testrole")
        .count();
    assert!(expected > 0);
    assert_eq!(column(&result, "n"), [expected.to_string()]);
}

/// A parameter is bound as a constant, and a constant that is not a timestamp is an error (as in
/// `tests/slt/datetime.slt`), not an empty result.
#[tokio::test]
async fn a_parameter_that_is_not_a_timestamp_is_an_error_not_an_empty_result() {
    let error = session().await
        .query(
            "SELECT count(*) FROM cloudtrail WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)",
            &params(&[("from", "24h")]),
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"24h\" is not an ISO 8601 timestamp"),
        "{error}"
    );
}
