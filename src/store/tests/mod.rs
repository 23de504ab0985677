//! Behaviour of the store through its public API, on real SQLite files in temporary
//! directories. Tests of one file's internals sit in that file.

mod cache_tokens;
mod headers;
mod links;
mod records;
mod writer;
