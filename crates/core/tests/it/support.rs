use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The article's parameters for `queries/access-denied.sql`.
pub const ARTICLE_PARAMS: [&str; 6] = [
    "--param",
    "arn=arn:aws:iam::123456789012:user/username",
    "--param",
    "from=2019-10-29T06:40:00Z",
    "--param",
    "to=2019-10-29T06:55:00Z",
];

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

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Says in `cargo test`'s output that the running test skipped its checks, and why. Written to
/// the stderr handle: libtest captures `eprintln!` (shown only when a test fails), not this.
pub fn skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}
