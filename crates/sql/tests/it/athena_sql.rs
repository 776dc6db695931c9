//! SQL written for Athena and CloudTrail Lake, with the rows known from an independent reading of
//! the sample trail: qualified table names, `CROSS JOIN UNNEST`, dotted JSON paths, `try`,
//! `IPADDRESS`, and the Lake schema.

use std::collections::BTreeMap;

use ctq_sql::arrow::datatypes::DataType;
use ctq_sql::{SessionOptions, SqlError, TrailSession};
use serde_json::Value;

use crate::support::{column, sample_logs, sample_records};

async fn session_with(options: SessionOptions) -> TrailSession {
    TrailSession::open(&[sample_logs()], &options)
        .await
        .unwrap()
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[tokio::test]
async fn qualified_table_names_map_to_the_trail() {
    let session = session_with(SessionOptions {
        extra_table_names: vec![
            "s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table".into(),
            "\"irworkshopgluedatabase\".\"IRWorkshopTable\"".into(),
            "awsdatacatalog.aws_logs.cloudtrail".into(),
        ],
        ..SessionOptions::default()
    })
    .await;
    let total = sample_records().len().to_string();
    for sql in [
        "SELECT count(*) AS n FROM s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table",
        "SELECT count(*) AS n FROM \"irworkshopgluedatabase\".\"IRWorkshopTable\"",
        "SELECT count(*) AS n FROM aws_logs.cloudtrail",
        "SELECT count(*) AS n FROM awsdatacatalog.aws_logs.cloudtrail",
        "SELECT count(*) AS n FROM awsdatacatalog.default.cloudtrail_logs",
    ] {
        let result = session.query(sql, &[]).await.unwrap();
        assert_eq!(column(&result, "n"), std::slice::from_ref(&total), "{sql}");
    }
    // Quoted names keep their case, as in the query that registered them.
    let error = session
        .query("SELECT 1 FROM irworkshopgluedatabase.irworkshoptable", &[])
        .await
        .unwrap_err();
    assert!(matches!(error, SqlError::UnknownTable { .. }), "{error}");

    let error = session
        .query(
            "SELECT * FROM s3_cloudtrail_events_db.other_table LIMIT 1",
            &[],
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("there is no table s3_cloudtrail_events_db.other_table")
            && message.contains("--table s3_cloudtrail_events_db.other_table"),
        "{message}"
    );
}

#[tokio::test]
async fn a_name_of_more_than_three_parts_is_refused() {
    let error = TrailSession::open(
        &[sample_logs()],
        &SessionOptions {
            extra_table_names: vec!["a.b.c.d".into()],
            ..SessionOptions::default()
        },
    )
    .await
    .err()
    .expect("a.b.c.d is not a table name");
    assert!(matches!(error, SqlError::BadTableName { .. }), "{error}");
}

#[tokio::test]
async fn cross_join_unnest_gives_a_row_per_resource() {
    let session = session_with(SessionOptions::default()).await;
    let result = session
        .query(
            "SELECT t.eventid, unnested.resources_entry.ARN AS arn, \
                    replace(unnested.resources_entry.ARN, 'arn:aws:s3:::') AS bucket \
             FROM cloudtrail_logs t CROSS JOIN UNNEST(t.resources) unnested (resources_entry)",
            &[],
        )
        .await
        .unwrap();
    let mut expected = Vec::new();
    for record in sample_records() {
        for resource in record["resources"].as_array().into_iter().flatten() {
            expected.push(format!(
                "{} {}",
                record["eventID"].as_str().unwrap(),
                resource["ARN"].as_str().unwrap()
            ));
        }
    }
    assert!(expected.len() > 10, "the sample has resources to unnest");
    let ids = column(&result, "eventid");
    let arns = column(&result, "arn");
    let got: Vec<String> = ids
        .iter()
        .zip(&arns)
        .map(|(id, arn)| format!("{id} {arn}"))
        .collect();
    assert_eq!(sorted(got), sorted(expected));
    let buckets = column(&result, "bucket");
    assert!(
        buckets.contains(&"acme-legacy-assets".to_string()),
        "{buckets:?}"
    );

    // The comma form is the same join.
    let comma = session
        .query(
            "SELECT count(*) AS n FROM cloudtrail, UNNEST(resources) AS u (r) WHERE u.r.type = 'AWS::S3::Bucket'",
            &[],
        )
        .await
        .unwrap();
    let buckets = sample_records()
        .iter()
        .flat_map(|r| r["resources"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["type"] == "AWS::S3::Bucket")
        .count();
    assert_eq!(column(&comma, "n"), [buckets.to_string()]);
}

#[tokio::test]
async fn dotted_paths_read_the_json_text_columns() {
    let session = session_with(SessionOptions::default()).await;
    let result = session
        .query(
            "SELECT ct.eventid, ct.requestParameters.bucketName, requestParameters.key \
             FROM cloudtrail_logs ct WHERE ct.requestParameters.bucketName IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(result.columns, ["eventid", "bucketname", "key"]);
    let expected: Vec<String> = sample_records()
        .iter()
        .filter_map(|r| {
            let bucket = r["requestParameters"]["bucketName"].as_str()?;
            let key = r["requestParameters"]["key"].as_str().unwrap_or("");
            Some(format!("{} {bucket} {key}", r["eventID"].as_str().unwrap()))
        })
        .collect();
    let got: Vec<String> = (0..result.row_count())
        .map(|i| {
            format!(
                "{} {} {}",
                column(&result, "eventid")[i],
                column(&result, "bucketname")[i],
                column(&result, "key")[i]
            )
        })
        .collect();
    assert!(expected.len() >= 5);
    assert_eq!(sorted(got), sorted(expected));
}

#[tokio::test]
async fn try_turns_a_failed_cast_into_null() {
    let session = session_with(SessionOptions::default()).await;
    let cast = "SELECT count(*) AS n FROM cloudtrail WHERE CAST(sourceipaddress AS bigint) IS NULL";
    assert!(
        session.query(cast, &[]).await.is_err(),
        "a plain cast fails"
    );
    let guarded = session
        .query(
            "SELECT count(*) AS n FROM cloudtrail WHERE try(CAST(sourceipaddress AS bigint)) IS NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(column(&guarded, "n"), [sample_records().len().to_string()]);
}

#[tokio::test]
async fn ipaddress_literals_and_casts_compare_as_trino_does() {
    let session = session_with(SessionOptions::default()).await;
    // 029-sab-public-ip-ipaddress-cast.sql's test, inverted: the private addresses. Host names
    // (`config.amazonaws.com`) are not addresses: NULL, never an error.
    let private = session
        .query(
            "SELECT DISTINCT sourceipaddress FROM cloudtrail \
             WHERE (CAST(sourceipaddress AS IPADDRESS) > IPADDRESS '10.0.0.0' \
                AND CAST(sourceipaddress AS IPADDRESS) < IPADDRESS '10.255.255.255') \
                OR contains('192.168.0.0/16', CAST(sourceipaddress AS IPADDRESS))",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(column(&private, "sourceipaddress"), ["10.20.3.15"]);
    let documentation = session
        .query(
            "SELECT count(*) AS n FROM cloudtrail \
             WHERE contains('192.0.2.0/24', CAST(sourceipaddress AS IPADDRESS))",
            &[],
        )
        .await
        .unwrap();
    let expected = sample_records()
        .iter()
        .filter(|r| {
            r["sourceIPAddress"]
                .as_str()
                .unwrap()
                .starts_with("192.0.2.")
        })
        .count();
    assert!(expected > 0);
    assert_eq!(column(&documentation, "n"), [expected.to_string()]);

    // An address cast back to text prints as Trino prints it.
    let texts = session
        .query(
            "SELECT DISTINCT CAST(CAST(sourceipaddress AS IPADDRESS) AS VARCHAR) AS ip \
             FROM cloudtrail WHERE CAST(sourceipaddress AS IPADDRESS) IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    let mut addresses: Vec<String> = sample_records()
        .iter()
        .map(|r| r["sourceIPAddress"].as_str().unwrap().to_string())
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .collect();
    addresses.sort();
    addresses.dedup();
    assert!(addresses.len() > 5);
    assert_eq!(sorted(column(&texts, "ip")), addresses);
}

const EDS_ID: &str = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";

#[tokio::test]
async fn lake_schema_runs_lake_queries() {
    let session = session_with(SessionOptions {
        lake_table_names: vec![EDS_ID.into()],
        ..SessionOptions::default()
    })
    .await;
    let records = sample_records();

    // Lake's types.
    let types = session
        .query(
            &format!(
                "SELECT eventtime, requestparameters, readonly, sessioncredentialfromconsole, managementevent FROM \"{EDS_ID}\" LIMIT 1"
            ),
            &[],
        )
        .await
        .unwrap();
    let schema = types.batches[0].schema();
    assert!(matches!(
        schema.field(0).data_type(),
        DataType::Timestamp(..)
    ));
    assert!(matches!(schema.field(1).data_type(), DataType::Map(..)));
    assert_eq!(schema.field(2).data_type(), &DataType::Boolean);
    assert_eq!(schema.field(3).data_type(), &DataType::Boolean);
    assert_eq!(schema.field(4).data_type(), &DataType::Boolean);

    // eventTime is a timestamp compared with Lake's text form; the window still prunes files.
    let fresh = session_with(SessionOptions {
        lake_table_names: vec![EDS_ID.into()],
        ..SessionOptions::default()
    })
    .await;
    let window = fresh
        .query(
            &format!(
                "SELECT eventID FROM \"{EDS_ID}\" WHERE eventTime > '2019-10-29 06:40:00' AND eventTime < '2019-10-29 06:55:00'"
            ),
            &[],
        )
        .await
        .unwrap();
    let expected: Vec<String> = records
        .iter()
        .filter(|r| {
            let t = r["eventTime"].as_str().unwrap();
            t > "2019-10-29T06:40:00Z" && t < "2019-10-29T06:55:00Z"
        })
        .map(|r| r["eventID"].as_str().unwrap().to_string())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(sorted(column(&window, "eventid")), sorted(expected));
    let read = fresh.file_outcomes().files_read();
    let whole = session_with(SessionOptions::default()).await;
    whole
        .query("SELECT count(*) FROM cloudtrail", &[])
        .await
        .unwrap();
    let all_files = whole.file_outcomes().files_read();
    assert!(read * 2 < all_files, "read {read} of {all_files} files");

    // Documents are maps: strings as they are, nested values as JSON text.
    let documents = session
        .query(
            &format!(
                "SELECT eventid, element_at(requestParameters, 'bucketName') AS bucket, \
                        json_extract_scalar(element_at(requestParameters, 'instancesSet'), '$.items[0].instanceId') AS instance \
                 FROM \"{EDS_ID}\" WHERE requestParameters IS NOT NULL"
            ),
            &[],
        )
        .await
        .unwrap();
    let by_id: BTreeMap<String, (String, String)> = column(&documents, "eventid")
        .into_iter()
        .zip(column(&documents, "bucket"))
        .zip(column(&documents, "instance"))
        .map(|((id, bucket), instance)| (id, (bucket, instance)))
        .collect();
    let mut instances_seen = 0;
    for record in &records {
        let parameters = &record["requestParameters"];
        if parameters.is_null() {
            continue;
        }
        let (bucket, instance) = &by_id[record["eventID"].as_str().unwrap()];
        assert_eq!(
            Some(bucket.clone()).filter(|b| !b.is_empty()),
            text(&parameters["bucketName"])
        );
        assert_eq!(
            Some(instance.clone()).filter(|i| !i.is_empty()),
            text(&parameters["instancesSet"]["items"][0]["instanceId"])
        );
        instances_seen += usize::from(!instance.is_empty());
    }
    assert!(
        instances_seen >= 3,
        "nested values are JSON text element_at can hand on"
    );

    // Booleans and struct fields of function results.
    let writes = session
        .query(
            &format!("SELECT count(*) AS n FROM \"{EDS_ID}\" WHERE readOnly = false"),
            &[],
        )
        .await
        .unwrap();
    let expected_writes = records.iter().filter(|r| r["readOnly"] == false).count();
    assert_eq!(column(&writes, "n"), [expected_writes.to_string()]);
    let first_resource = session
        .query(
            &format!(
                "SELECT eventid, element_at(resources, 1).arn AS arn FROM \"{EDS_ID}\" WHERE cardinality(resources) > 0"
            ),
            &[],
        )
        .await
        .unwrap();
    let expected: Vec<String> = records
        .iter()
        .filter_map(|r| {
            r["resources"].as_array()?.first()?["ARN"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(sorted(column(&first_resource, "arn")), sorted(expected));
}
