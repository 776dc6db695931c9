//! Integration tests of the SQL layer over the bundled sample trail and small generated ones.

mod article;
mod functions;
mod params;
mod s3;
mod store;
mod support;
