use std::time::Duration;

use ctq_s3::{S3Location, S3Options, S3Trail};
use ctq_s3_testserver::{TestS3, TrailObject, synthetic_trail};

pub const BUCKET: &str = "trail-bucket";
pub const SECRET: &str = ctq_s3_testserver::SECRET_KEY;

/// Three days, two accounts (the first in an organization folder), two regions, a file every
/// 20 minutes: 864 objects.
pub fn trail() -> Vec<TrailObject> {
    synthetic_trail(
        (2019, 10, 28),
        3,
        &["111111111111", "222222222222"],
        &["us-east-1", "eu-west-1"],
        20,
        Some("o-a1b2c3d4e5"),
    )
}

pub async fn server_with(objects: &[TrailObject]) -> TestS3 {
    let server = TestS3::start().await;
    server.create_bucket(BUCKET);
    for object in objects {
        server.put(BUCKET, &object.key, &object.bytes);
    }
    server
}

pub fn options(server: &TestS3) -> S3Options {
    S3Options {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint.clone()),
        path_style: true,
        static_credentials: Some((ctq_s3_testserver::ACCESS_KEY.into(), SECRET.into())),
        retry_base_delay: Duration::from_millis(5),
        max_in_flight: 8,
        ..S3Options::default()
    }
}

pub async fn trail_at(server: &TestS3, prefix: &str) -> S3Trail {
    let location: S3Location = format!("s3://{BUCKET}/{prefix}").parse().unwrap();
    S3Trail::connect(location, options(server)).await
}

pub fn ms(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|day| day.and_hms_opt(hh, mm, 0))
        .expect("a calendar time")
        .and_utc()
        .timestamp_millis()
}
