//! Integration tests of the denial classifier against what AWS really writes.

mod realdata;
mod support;
