//! Integration tests of the SQL layer over the bundled sample trail and small generated ones.

mod article;
mod athena_sql;
mod control_chars;
mod corpus;
mod functions;
mod params;
mod partial_read;
mod path_columns;
mod s3;
mod slt;
mod store;
mod support;
mod trino_functions;
mod utf8;
