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

#[tokio::test]
async fn access_denied_reads_the_message_of_each_denial() {
    let result = run(
        "SELECT eventname, access_denied(errorcode, errormessage)['decision'] AS decision, \
                access_denied(errorcode, errormessage)['policy_type'] AS policy_type, \
                access_denied(errorcode, errormessage)['policy_arn'] AS policy_arn, \
                denial_action(errormessage) AS action, denial_resource(errormessage) AS resource, \
                access_denied(errorcode, errormessage)['encoded_message'] AS encoded \
         FROM cloudtrail \
         WHERE eventname IN ('ListAccounts', 'DescribeClusters', 'RunInstances', 'CreateAutoScalingGroup') \
         ORDER BY eventname",
        &[],
    )
    .await;
    assert_eq!(
        csv_rows(&result),
        [
            r#""CreateAutoScalingGroup","not_stated",,,"iam:PassRole","arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",false"#,
            r#""DescribeClusters","implicit","identity_based_policy",,"ecs:DescribeClusters","arn:aws:ecs:us-east-1:123456789012:cluster/prod",false"#,
            r#""ListAccounts","explicit","service_control_policy","arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-examplescp1","organizations:ListAccounts",,false"#,
            r#""RunInstances","not_stated",,,,,true"#,
        ]
    );
}

#[tokio::test]
async fn only_denials_get_a_diagnosis() {
    let result = run(
        "SELECT errorcode, is_denial(errorcode) AS denial, error_class(errorcode, errormessage, eventname) AS class, \
                access_denied(errorcode, errormessage) IS NULL AS no_diagnosis, count(*) AS n \
         FROM cloudtrail GROUP BY 1, 2, 3, 4 ORDER BY 1 NULLS FIRST",
        &[],
    )
    .await;
    let rows = csv_rows(&result);
    assert!(rows[0].starts_with(",false,,true,"), "{rows:?}");
    for row in &rows[1..] {
        let denial = row.contains("AccessDenied") || row.contains("Unauthorized");
        let expected = if denial {
            ",true,\"denial\",false,"
        } else {
            ",false,\"not_denial\",true,"
        };
        assert!(row.contains(expected), "{row}");
    }
    assert!(
        rows.iter()
            .any(|r| r.starts_with("\"ThrottlingException\""))
    );
}

#[tokio::test]
async fn a_wrong_number_of_arguments_shows_the_usage() {
    let error = session()
        .await
        .query("SELECT access_denied(errorcode) FROM cloudtrail", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("access_denied(errorcode, errormessage)"),
        "{error}"
    );
}
