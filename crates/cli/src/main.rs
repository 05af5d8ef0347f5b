//! `pushdesk` command line (placeholder, being written).
fn main() {}
