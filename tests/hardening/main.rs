//! Issue 12, the server's half, from the outside: cross-site requests and GET/HEAD that cannot
//! write (csrf), errors that keep their shape and secrets (edges), one failing database that
//! does not take the others down (isolation), bursts that queue (load), slow clients
//! (slowloris), thousands of malformed requests (fuzz) and kill -9 during writes (durability).

// The suite starts databases as another user, sends signals and sets file modes: Unix only
// (the Windows build check compiles everything else).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use dc_test_support::server as common;

mod csrf;
mod durability;
mod edges;
mod fuzz;
mod isolation;
mod load;
mod routes;
mod slowloris;
mod support;
