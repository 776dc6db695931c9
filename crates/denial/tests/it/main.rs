//! Integration tests of the denial classifier against what AWS really writes.

mod properties;
mod realdata;
mod support;
