//! Whole runs of the `ctq` binary: one snapshot per saved query, exit statuses, error messages.

mod cli;
mod cli_polish;
mod control_chars;
mod explain;
mod explain_glance;
mod hunt;
mod inputs;
mod limits;
mod output;
mod principal;
mod report;
mod report_glance;
mod s3;
mod saved_queries;
mod shell;
mod store;
mod store_repair;
mod support;
mod usage;
mod utf8;
mod window;
