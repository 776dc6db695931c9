//! Running the `ctq` binary and reading what it printed; the helpers every crate's tests share
//! are [`ctq_testkit`]'s.

use std::process::{Command, Output};

pub use ctq_testkit::{repo, skip, write};

/// The article's parameters for `queries/access-denied.sql`.
pub const ARTICLE_PARAMS: [&str; 6] = [
    "--param",
    "arn=arn:aws:iam::123456789012:user/username",
    "--param",
    "from=2019-10-29T06:40:00Z",
    "--param",
    "to=2019-10-29T06:55:00Z",
];

/// The value the saved-query tests give each parameter a saved query may take: the article's
/// principal and window (`ARTICLE_PARAMS`).
pub const SAMPLE_VALUES: [(&str, &str); 3] = [
    ("arn", "arn:aws:iam::123456789012:user/username"),
    ("from", "2019-10-29T06:40:00Z"),
    ("to", "2019-10-29T06:55:00Z"),
];

/// `SAMPLE_VALUES`' value of parameter `name`.
pub fn sample_value(name: &str) -> &'static str {
    SAMPLE_VALUES
        .iter()
        .find(|(known, _)| *known == name)
        .map_or_else(
            || panic!("a saved query takes ${name}: give it a value in SAMPLE_VALUES"),
            |(_, value)| *value,
        )
}

/// Each file of `queries/` (its stem, in name order) with the names of its `$` parameters, sorted,
/// as ctq reads them.
pub fn saved_query_parameters() -> Vec<(String, Vec<String>)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let session = ctq_sql::TrailSession::open(
            &[ctq_testkit::sample_logs()],
            &ctq_sql::SessionOptions::default(),
        )
        .await
        .unwrap();
        let mut out = Vec::new();
        for query in ctq_sql::saved::load_folder(&ctq_testkit::queries()).unwrap() {
            let names = session.parameters(&query.sql).await.unwrap();
            out.push((query.name, names));
        }
        out
    })
}

/// Runs `ctq` from the repository root, as the README's commands do.
pub fn ctq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctq"))
        .args(args)
        .current_dir(repo())
        .env_remove("CTQ_SOURCE")
        .output()
        .expect("ctq runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Debian's `chromium` (or another Chromium on PATH), if installed. CI installs it (`.ci/run`);
/// elsewhere the browser tests are skipped with a note.
pub fn chromium() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|dir| std::path::Path::new(dir).join(name))
                .find(|p| p.is_file())
        })
}

/// Runs `browser` headless with its profile in `profile` and the further `args`.
pub fn headless(browser: &std::path::Path, profile: &std::path::Path, args: &[&str]) -> Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs")
}
