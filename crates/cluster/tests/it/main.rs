//! ctq's saved queries on Ballista's standalone cluster against the same store run locally.

mod standalone;
