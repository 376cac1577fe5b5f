//! Workspace integration: Route A (the native Data Connector protocol) replayed with the exact
//! requests Workspace's frontend sends, the AG Grid row model on every engine we can reach,
//! Route B's widgets.json/apps.json checked against the frontend's validation rules, and a real
//! Chromium calling the server from https://pro.openbb.co.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../server/common.rs"]
#[allow(dead_code)]
mod common;

mod browser;
mod route_a;
mod rowmodel;
mod widgets;

use common::*;
use reqwest::Method;
use serde_json::Value;

/// A Workspace user: every call carries `Authorization: Bearer <uuid>` and JSON, as the
/// frontend's `getHeaders` does.
pub struct Ws<'a> {
    pub server: &'a TestServer,
    pub user: String,
}

impl<'a> Ws<'a> {
    pub fn new(server: &'a TestServer, user: &str) -> Self {
        Self { server, user: user.to_string() }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .server
            .client
            .request(method, self.server.at(path))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {}", self.user));
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let (status, _, body) = into_parts(request.send().await.unwrap()).await;
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }
}

pub fn skipped(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}
