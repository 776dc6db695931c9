//! What the tests share.

/// Says in `cargo test`'s output that the running test skipped its checks, and why. Written to
/// the stderr handle: libtest captures `eprintln!` (shown only when a test fails), not this.
pub fn skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}
