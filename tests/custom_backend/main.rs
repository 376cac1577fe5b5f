//! The custom backend (Route B: widgets.json, apps.json and the widget endpoints Workspace
//! calls) checked against the frontend's validation rules, and a real Chromium calling the
//! server from https://pro.openbb.co.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dc_test_support::server as common;

mod browser;
mod dashboards;
mod widgets;
