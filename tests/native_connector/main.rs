//! The native Data Connector protocol (Route A: what Workspace's Data Connectors page calls)
//! replayed with the exact requests Workspace's frontend sends, and the AG Grid row model over
//! saved queries on every engine we can reach.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dc_test_support::server as common;

mod route_a;
mod rowmodel;

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
