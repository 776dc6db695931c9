//! Integration tests of ctq-hunt: rules over generated trails with injected attacks.

mod attacks;
