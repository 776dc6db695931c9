//! Serves a folder as S3 on 127.0.0.1, for trying ctq's S3 reading by hand and timing it:
//! `ctq-s3-testserver DIR [PORT]`, where each subfolder of DIR is a bucket. Credentials are the
//! library's `ACCESS_KEY` and `SECRET_KEY`. Prints request counts when stopped with Ctrl-C.

use std::path::PathBuf;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: ctq-s3-testserver DIR [PORT]");
        std::process::exit(2);
    };
    let port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let server = ctq_s3_testserver::TestS3::start_at(&root, port).await;
    println!(
        "serving {} at {} (AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={})",
        root.display(),
        server.endpoint,
        ctq_s3_testserver::ACCESS_KEY,
        ctq_s3_testserver::SECRET_KEY
    );
    let _ = tokio::signal::ctrl_c().await;
    println!(
        "{} LIST and {} GET requests",
        server.counts.lists(),
        server.counts.gets()
    );
}
