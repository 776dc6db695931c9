//! Trino's functions through SQL on a DataFusion session with ctq's functions registered, over a
//! small in-memory table whose every cell is known.

use std::sync::Arc;

use ctq_sql::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use ctq_sql::arrow::datatypes::{Field, Schema};
use ctq_sql::output::{OutputFormat, text_rows, write_results};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

const DOC: &str = r#"{"bucketName":"b","n":3,"tags":{"a":"1"},"x-amz-id-2":"abc","instancesSet":{"items":[{"instanceId":"i-1"}]},"gone":null}"#;

/// `t`: four rows, one per kind of value a CloudTrail column holds (a good value, another good
/// value, a value of the wrong shape, NULL).
async fn context() -> SessionContext {
    let mut ctx = SessionContext::new();
    ctq_sql::functions::register(&mut ctx).unwrap();
    let text = |values: [Option<&str>; 4]| Arc::new(StringArray::from(values.to_vec())) as ArrayRef;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3, 4]))),
        (
            "eventtime",
            text([
                Some("2019-10-29T06:52:45Z"),
                Some("2021-09-08T10:00:00Z"),
                Some("not a time"),
                None,
            ]),
        ),
        (
            "sourceip",
            text([
                Some("10.1.2.3"),
                Some("2001:db8::1"),
                Some("s3.amazonaws.com"),
                Some("192.168.0.9"),
            ]),
        ),
        (
            "arn",
            text([
                Some("arn:aws:s3:::bucket-a/key"),
                Some("arn:aws:s3:::bucket-b"),
                Some("arn:aws:iam::123456789012:user/alice"),
                None,
            ]),
        ),
        (
            "doc",
            text([Some(DOC), Some("[1,2]"), Some("not json"), None]),
        ),
        (
            "tls",
            text([Some("TLSv1.2"), Some("TLSv1.3"), None, Some("TLSv1")]),
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

/// Rows as ctq's CSV writer prints them, without the header.
async fn rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let (columns, batches) = batches(ctx, sql).await;
    written(OutputFormat::Csv, &columns, &batches)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

async fn error(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(frame) => frame.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => panic!("{sql} should fail"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn replace_takes_two_or_three_arguments() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT id, replace(arn, 'arn:aws:s3:::') AS bucket, replace(arn, 's3', 'S3') AS upper \
             FROM t ORDER BY id"
        )
        .await,
        [
            r#"1,"bucket-a/key","arn:aws:S3:::bucket-a/key""#,
            r#"2,"bucket-b","arn:aws:S3:::bucket-b""#,
            r#"3,"arn:aws:iam::123456789012:user/alice","arn:aws:iam::123456789012:user/alice""#,
            "4,,",
        ]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT replace(named_struct('ARN', 'arn:aws:s3:::b1')['ARN'], 'arn:aws:s3:::') AS b, \
                    CAST(replace(tls, 'TLSv', '') AS DOUBLE) AS v FROM t WHERE id = 1"
        )
        .await,
        [r#""b1",1.2"#]
    );
}

#[tokio::test]
async fn parse_datetime_and_date_parse_read_cloudtrail_times() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT id, parse_datetime(eventtime, 'yyyy-MM-dd''T''HH:mm:ss''Z') AS joda, \
                    date_parse(eventtime, '%Y-%m-%dT%TZ') AS mysql FROM t ORDER BY id"
        )
        .await,
        [
            r#"1,"2019-10-29 06:52:45.000 UTC","2019-10-29 06:52:45.000 UTC""#,
            r#"2,"2021-09-08 10:00:00.000 UTC","2021-09-08 10:00:00.000 UTC""#,
            "3,,",
            "4,,",
        ]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT parse_datetime('2021-09-08 00:00:00','yyyy-MM-dd HH:mm:ss') AS a, \
                    parse_datetime('2021-09-08 02:00:00 +02:00','yyyy-MM-dd HH:mm:ss ZZ') \
                        = from_iso8601_timestamp('2021-09-08T00:00:00Z') AS same, \
                    date_parse('Sep 8 2021 1:05:09 PM', '%b %e %Y %l:%i:%s %p') AS b"
        )
        .await,
        [r#""2021-09-08 00:00:00.000 UTC",true,"2021-09-08 13:05:09.000 UTC""#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT count(*) AS n FROM t \
             WHERE date_parse(eventtime, '%Y-%m-%dT%TZ') >= date_parse('2020-01-01', '%Y-%m-%d')"
        )
        .await,
        ["1"]
    );
}

#[tokio::test]
async fn a_constant_that_does_not_match_its_pattern_is_an_error() {
    let ctx = context().await;
    let message = error(&ctx, "SELECT parse_datetime('2021-09-08', 'yyyy/MM/dd')").await;
    assert!(
        message.contains(
            r#"parse_datetime: "2021-09-08" does not match the Joda pattern "yyyy/MM/dd""#
        ),
        "{message}"
    );
    let message = error(
        &ctx,
        "SELECT count(*) FROM t WHERE date_parse(eventtime, '%Y-%m-%dT%TZ') > date_parse('yesterday', '%Y-%m-%d')",
    )
    .await;
    assert!(
        message.contains(r#"date_parse: "yesterday" does not match the MySQL pattern "%Y-%m-%d""#),
        "{message}"
    );
    let message = error(&ctx, "SELECT date_parse(eventtime, '%D') FROM t").await;
    assert!(
        message.contains("%D not supported in date format string"),
        "{message}"
    );
}

#[tokio::test]
async fn from_unixtime_keeps_milliseconds() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT from_unixtime(1572331965) AS a, from_unixtime(1572331965.5) AS b, \
                    from_unixtime(CAST(NULL AS BIGINT)) AS c, \
                    to_unixtime(from_unixtime(1572331965.25)) AS d"
        )
        .await,
        [r#""2019-10-29 06:52:45.000 UTC","2019-10-29 06:52:45.500 UTC",,1572331965.25"#]
    );
    let message = error(&ctx, "SELECT from_unixtime(1, 'UTC')").await;
    assert!(message.contains("time zone is not supported"), "{message}");
}

#[tokio::test]
async fn regexp_extract_finds_the_first_match_or_its_group() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT id, regexp_extract(arn, 'arn:aws:([a-z0-9]+):') AS m, \
                    regexp_extract(arn, 'arn:aws:([a-z0-9]+):', 1) AS service, \
                    regexp_extract(arn, 'user/(\\w+)', 1) AS user_name \
             FROM t ORDER BY id"
        )
        .await,
        [
            r#"1,"arn:aws:s3:","s3","#,
            r#"2,"arn:aws:s3:","s3","#,
            r#"3,"arn:aws:iam:","iam","alice""#,
            "4,,,",
        ]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT array_to_string(regexp_extract_all('a1b22c333', '[0-9]+'), ',') AS all_numbers, \
                    array_to_string(regexp_extract_all('k=v; a=b', '(\\w)=(\\w)', 2), ',') AS values_, \
                    cardinality(regexp_extract_all('abc', '[0-9]')) AS none"
        )
        .await,
        [r#""1,22,333","v,b",0"#]
    );
    let message = error(&ctx, "SELECT regexp_extract(arn, 'a(r)n', 2) FROM t").await;
    assert!(
        message.contains("pattern has 1 groups. Cannot access group 2"),
        "{message}"
    );
}

#[tokio::test]
async fn date_parts_read_the_utc_calendar() {
    let ctx = context().await;
    // 2019-12-30 is a Monday in ISO week 1 of 2020.
    assert_eq!(
        rows(
            &ctx,
            "WITH x AS (SELECT from_iso8601_timestamp('2019-12-30T06:52:45.123Z') AS ts) \
             SELECT year(ts), quarter(ts), month(ts), week(ts), week_of_year(ts), year_of_week(ts), \
                    yow(ts), day(ts), day_of_month(ts), day_of_week(ts), dow(ts), day_of_year(ts), \
                    doy(ts), hour(ts), minute(ts), second(ts), millisecond(ts) FROM x"
        )
        .await,
        ["2019,4,12,1,1,2020,2020,30,30,1,1,364,364,6,52,45,123"]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT day_of_week(from_iso8601_timestamp('2019-12-29T23:59:59Z')) AS sunday, \
                    year(DATE '2021-09-08') AS from_date, \
                    hour(CAST('2021-09-08T10:00:00' AS TIMESTAMP)) AS from_naive, \
                    day_of_month(CAST(NULL AS TIMESTAMP)) AS nothing"
        )
        .await,
        ["7,2021,10,"]
    );
}

#[tokio::test]
async fn ip_addresses_compare_sort_group_and_print_as_trino() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT id, ipaddress(sourceip) AS ip FROM t ORDER BY ipaddress(sourceip) NULLS LAST"
        )
        .await,
        [
            r#"1,"10.1.2.3""#,
            r#"4,"192.168.0.9""#,
            r#"2,"2001:db8::1""#,
            "3,",
        ]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT \
               (SELECT count(*) FROM t WHERE ipaddress(sourceip) BETWEEN ipaddress('10.0.0.0') AND ipaddress('10.255.255.255')) AS between_, \
               (SELECT max(id) FROM t WHERE ipaddress(sourceip) = ipaddress('2001:0db8::0001')) AS equal, \
               (SELECT count(*) FROM t WHERE ipaddress(sourceip) > ipaddress('10.1.2.3')) AS greater, \
               (SELECT count(*) FROM t WHERE ipaddress(sourceip) < ipaddress('::ffff:0:0')) AS below_ipv4"
        )
        .await,
        ["1,2,2,0"]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT min(ipaddress(sourceip)) AS lo, max(ipaddress(sourceip)) AS hi FROM t"
        )
        .await,
        [r#""10.1.2.3","2001:db8::1""#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT ipaddress(sourceip) AS ip, count(*) AS n \
             FROM (SELECT sourceip FROM t UNION ALL SELECT sourceip FROM t) \
             GROUP BY ipaddress(sourceip) ORDER BY 1"
        )
        .await,
        [
            r#""10.1.2.3",2"#,
            r#""192.168.0.9",2"#,
            r#""2001:db8::1",2"#,
            ",2"
        ]
    );
    let message = error(&ctx, "SELECT ipaddress('s3.amazonaws.com')").await;
    assert!(
        message.contains(r#"ipaddress: "s3.amazonaws.com" is not an IP address"#),
        "{message}"
    );
}

#[tokio::test]
async fn ip_addresses_print_as_text_in_every_format() {
    let ctx = context().await;
    let (columns, batches) = batches(
        &ctx,
        "SELECT id, ipaddress(sourceip) AS ip FROM t WHERE id IN (1, 2, 3) ORDER BY id",
    )
    .await;
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

#[tokio::test]
async fn contains_tests_networks_arrays_and_substrings() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT id, contains('10.0.0.0/8', ipaddress(sourceip)) AS typed, \
                    contains('10.0.0.0/8', sourceip) AS text_v4, \
                    contains('2001:db8::/32', sourceip) AS text_v6, \
                    contains(arn, 'bucket') AS substring \
             FROM t ORDER BY id"
        )
        .await,
        [
            "1,true,true,false,true",
            "2,false,false,true,true",
            "3,,,,false",
            "4,false,false,false,",
        ]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT contains(make_array('a', 'b'), 'b') AS has_b, contains(make_array(1, 2, 3), 5) AS has_5, \
                    contains('hello world', 'o w') AS substring"
        )
        .await,
        ["true,false,true"]
    );
    let message = error(
        &ctx,
        "SELECT contains('10.0.0.1/8', ipaddress(sourceip)) FROM t",
    )
    .await;
    assert!(message.contains("Invalid CIDR"), "{message}");
}

#[tokio::test]
async fn json_object_map_gives_cloudtrail_lake_maps() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT id, element_at(json_object_map(doc), 'bucketName') AS bucket, \
                    element_at(json_object_map(doc), 'n') AS n, \
                    element_at(json_object_map(doc), 'tags') AS tags, \
                    element_at(json_object_map(doc), 'gone') IS NULL AS gone, \
                    json_object_map(doc) IS NULL AS not_object, \
                    cardinality(json_object_map(doc)) AS members, \
                    array_to_string(map_keys(json_object_map(doc)), ',') AS keys \
             FROM t ORDER BY id"
        )
        .await,
        [
            r#"1,"b","3","{""a"":""1""}",true,false,6,"bucketName,gone,instancesSet,n,tags,x-amz-id-2""#,
            "2,,,,true,true,,",
            "3,,,,true,true,,",
            "4,,,,true,true,,",
        ]
    );
}

#[tokio::test]
async fn the_extra_trino_functions() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT array_to_string(split(arn, ':'), '|') AS parts, element_at(split(arn, '/'), -1) AS last, \
                    array_to_string(split(arn, ':', 3), '|') AS limited \
             FROM t WHERE id = 3"
        )
        .await,
        [r#""arn|aws|iam||123456789012|user/alice","alice","arn|aws|iam::123456789012:user/alice""#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT url_decode('build%2Fapp+v1.zip') AS key, \
                    url_extract_host('https://console.aws.amazon.com/iam/home?region=us-east-1') AS host, \
                    url_extract_host('not a url') AS no_host, \
                    from_iso8601_date('2021-09-08') = DATE '2021-09-08' AS date_ok, \
                    from_iso8601_date('2021-W36-3') AS week_date"
        )
        .await,
        [r#""build/app v1.zip","console.aws.amazon.com",,true,"2021-09-08""#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT arbitrary(tls) IS NOT NULL AS some_value FROM t WHERE id = 2"
        )
        .await,
        ["true"]
    );
    let message = error(&ctx, "SELECT split(arn, '') FROM t").await;
    assert!(
        message.contains("delimiter may not be the empty string"),
        "{message}"
    );
    let message = error(&ctx, "SELECT from_iso8601_date('2021-9-8')").await;
    assert!(message.contains("is not an ISO 8601 date"), "{message}");
}

/// Item by item, what Athena CloudTrail queries write and DataFusion (with ctq's functions)
/// already runs.
#[tokio::test]
async fn athena_idioms_that_datafusion_already_runs() {
    let ctx = context().await;
    assert_eq!(
        rows(
            &ctx,
            "SELECT array_agg(DISTINCT tls ORDER BY tls) AS versions, \
                    cardinality(array_distinct(array_agg(substr(arn, 1, 10)))) AS prefixes \
             FROM t"
        )
        .await,
        // NULLs are aggregated, as in Trino: three distinct prefixes counting NULL.
        [r#""[TLSv1, TLSv1.2, TLSv1.3, ]",3"#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT cardinality(make_array(1, 2, 3)) AS array_n, cardinality(map(['a', 'b'], [1, 2])) AS map_n, \
                    split_part(arn, ':', 3) AS service, try_cast('x' AS bigint) IS NULL AS bad_number, \
                    regexp_like(arn, '\\/.+') AS has_path \
             FROM t WHERE id = 1"
        )
        .await,
        [r#"3,2,"s3",true,true"#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT json_extract_scalar(doc, '$[\"x-amz-id-2\"]') AS id2, \
                    json_extract_scalar(doc, '$.instancesSet.items[0].instanceId') AS instance, \
                    to_iso8601(date_parse(eventtime, '%Y-%m-%dT%TZ')) AS iso, \
                    date_diff('day', date_parse(eventtime, '%Y-%m-%dT%TZ'), from_iso8601_timestamp('2019-11-08T06:52:45Z')) AS days \
             FROM t WHERE id = 1"
        )
        .await,
        [r#""abc","i-1","2019-10-29T06:52:45.000Z",10"#]
    );
    assert_eq!(
        rows(
            &ctx,
            "SELECT sum(CASE WHEN t > current_date + interval '-7' day THEN 1 ELSE 0 END) AS recent, \
                    sum(CASE WHEN t < current_date + interval '-7' day THEN 1 ELSE 0 END) AS older \
             FROM (SELECT parse_datetime(eventtime, 'yyyy-MM-dd''T''HH:mm:ss''Z') AS t FROM t)"
        )
        .await,
        ["0,2"]
    );
    let expected = (chrono::Utc::now() - chrono::Duration::days(30))
        .format("%Y/%m/%d")
        .to_string();
    assert_eq!(
        rows(
            &ctx,
            "SELECT date_format(date_add('day', -30, current_timestamp), '%Y/%m/%d') AS d"
        )
        .await,
        [format!("\"{expected}\"")]
    );
}

/// DataFusion's SQL planner refuses `element_at(resources, 1).arn` ("Dot access not supported
/// for non-string expr"): a query needs the subscript form, or a rewrite to it before planning.
#[tokio::test]
async fn field_access_on_a_function_result_takes_a_subscript() {
    let ctx = context().await;
    let sql = "WITH r AS (SELECT make_array(named_struct('arn', 'arn:aws:s3:::b1', 'type', 'AWS::S3::Bucket')) AS resources) \
               SELECT element_at(resources, 1)['arn'] AS first, element_at(resources, -1)['type'] AS kind FROM r";
    assert_eq!(
        rows(&ctx, sql).await,
        [r#""arn:aws:s3:::b1","AWS::S3::Bucket""#]
    );
}
