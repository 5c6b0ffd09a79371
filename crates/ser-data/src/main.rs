//! ser-data: download, synthesise, inspect and list speech-emotion corpora.

fn main() {}
