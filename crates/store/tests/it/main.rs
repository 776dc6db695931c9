mod store;
mod utf8;
