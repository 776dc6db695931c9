# Common tasks. Plain cargo commands work just as well; see README.md.

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/ctq-target")

default: test

# The whole test suite, as CI runs it.
test:
    cargo test --workspace

# What CI runs: formatting, lints, tests.
ci:
    bash .ci/run

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

fmt:
    cargo fmt --all

# The AWS article's query over the bundled sample trail.
demo:
    cargo run -q -p ctq -- query -f queries/access-denied.sql --source sample-logs \
        --param arn=arn:aws:iam::123456789012:user/username \
        --param from=2019-10-29T06:40:00Z --param to=2019-10-29T06:55:00Z

# Review snapshot changes after an intended output change.
snapshots:
    INSTA_UPDATE=always cargo test --workspace
    git diff --stat -- '*.snap'

# Every binary (ctq, ctq-trailgen, ctq-s3-testserver) in one feature set, so DataFusion builds once.
release:
    cargo build --release --workspace --bins

# Generate a 3-day benchmark trail and time ctq against DuckDB and jq on it (see docs/performance.md).
bench:
    python3 bench/run.py

# Regenerate the bundled sample trail (byte-identical unless the script changed).
sample-logs:
    python3 scripts/make-sample-logs.py
