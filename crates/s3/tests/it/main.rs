//! Reading trails from a real S3 server on loopback (s3s-fs, in process): listing pruned by the
//! query's window, retries, lost objects, and the messages users get.

mod faults;
mod listing;
mod support;
