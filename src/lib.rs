//! Data Connector: a local HTTP server that lets OpenBB Workspace query your own databases.
//!
//! `server` binds and serves; `api` is our documented HTTP API; `execution` runs one query from
//! any caller and streams it; `connections` keeps saved connections (settings in `state`, secrets
//! in `secrets`); `mcp` serves AI clients read-only tools over the same core; engines live in
//! the `connectors` crate.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod connections;
pub mod demo;
pub mod error;
pub mod execution;
pub mod mcp;
pub mod rowmodel;
pub mod secrets;
pub mod security;
pub mod server;
pub mod state;
pub mod widgets;
pub mod workspace;

pub use app::App;
pub use config::Config;
pub use error::{Error, Result};
