//! Athena's functions through SQL, over the sample trail's columns.

use crate::support::*;

#[tokio::test]
async fn timestamps_parse_compare_and_print_like_athena() {
    let result = run(
        "SELECT from_iso8601_timestamp('2019-10-29T08:52:45.5+02:00') AS t, \
                to_iso8601(from_iso8601_timestamp('2019-10-29T06:52:45Z')) AS iso, \
                date_add('minute', -15, from_iso8601_timestamp('2019-10-29T06:55:00Z')) AS earlier, \
                date_diff('second', from_iso8601_timestamp('2019-10-29T06:40:00Z'), from_iso8601_timestamp('2019-10-29T06:55:00Z')) AS secs, \
                date_format(from_iso8601_timestamp('2019-10-29T06:52:45Z'), '%Y/%m/%d %H:%i') AS formatted, \
                from_iso8601_timestamp(eventsource) AS bad \
         FROM cloudtrail LIMIT 1",
        &[],
    )
    .await;
    assert_eq!(
        csv_rows(&result),
        [
            r#""2019-10-29 06:52:45.500 UTC","2019-10-29T06:52:45.000Z","2019-10-29 06:40:00.000 UTC",900,"2019/10/29 06:52","#
        ]
    );
}

#[tokio::test]
async fn json_functions_read_request_parameters() {
    let result = run(
        "SELECT json_extract_scalar(requestparameters, '$.bucketName') AS bucket, \
                json_extract(requestparameters, '$.key') AS key_json \
         FROM cloudtrail WHERE eventname = 'GetObject' AND errorcode = 'AccessDenied'",
        &[],
    )
    .await;
    assert_eq!(
        csv_rows(&result),
        [r#""prod-artifacts","""build/app.zip""""#]
    );
}

#[tokio::test]
async fn arrays_and_maps_are_indexed_like_athena() {
    let result = run(
        "SELECT cardinality(resources) AS n, element_at(resources, 1)['arn'] AS first, \
                element_at(resources, -1)['type'] AS last_type, element_at(resources, 5) IS NULL AS past_end \
         FROM cloudtrail WHERE eventname = 'GetObject' AND errorcode = 'AccessDenied'",
        &[],
    )
    .await;
    assert_eq!(
        csv_rows(&result),
        [r#"2,"arn:aws:s3:::prod-artifacts/build/app.zip","AWS::S3::Bucket",true"#]
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

#[tokio::test]
async fn a_constant_that_is_not_a_timestamp_is_an_error_not_an_empty_result() {
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
