//! Data Connector: a local HTTP server that lets OpenBB Workspace query your own databases.
//!
//! `server` binds and serves three doors side by side: `api` (our documented HTTP API),
//! `native_connector` (Workspace's native Data Connector protocol) and `custom_backend`
//! (Workspace's custom backend: widgets.json and the widget endpoints), which share only `http`;
//! `mcp` serves AI clients read-only tools over the same core. All of them run queries through
//! `execution` and keep connections through `connections` (settings in `state`, secrets in
//! `secrets`); engines live in the `connectors` crate. docs/architecture.md maps every feature
//! to its module.

#![warn(unreachable_pub)]

pub mod admission;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod connections;
pub mod custom_backend;
pub mod demo;
pub mod error;
pub mod execution;
pub mod http;
pub mod mcp;
pub mod native_connector;
pub mod result_cache;
pub mod rowmodel;
pub mod secrets;
pub mod security;
pub mod server;
pub mod sql_template;
pub mod state;
pub mod tls;

pub use app::App;
pub use config::Config;
pub use error::{Error, Result};
