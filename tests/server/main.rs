//! End-to-end tests of the server: the real app on port 0, real HTTP through reqwest (or raw
//! TCP where a client would rewrite what we need to send), real SQLite files.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use dc_test_support::server as common;

mod api;
mod arrow;
mod cli;
mod database_guard;
mod keyring;
mod queries_cli;
mod result_cache;
mod security;
mod sharing;
mod ssh;
mod streaming;
mod values;
