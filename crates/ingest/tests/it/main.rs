//! Integration tests of the reader: every input shape, every kind of damage, and real trails.

mod damage;
mod more_shapes;
mod path_columns;
mod projection;
mod properties;
mod realdata;
mod shapes;
mod support;
mod utf8;
