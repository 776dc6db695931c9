//! What the tests share: [`ctq_testkit`]'s helpers.

pub use ctq_testkit::skip;
