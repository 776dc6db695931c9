//! Reading trails from a real S3 server on loopback (s3s-fs, in process): listing pruned by the
//! query's window, retries, lost objects, timeouts, credentials, and the messages users get.

mod faults;
mod listing;
mod support;
mod timeouts;
