//! A generated corpus of malformed requests over every route (issue 12, "Tests"): bad path
//! values, malformed and mistyped bodies, wrong methods, foreign hosts and origins, requests
//! from other sites, missing credentials, bad query parameters. Every one must get a 4xx with a
//! `{"detail"}` JSON body, and the server must answer `/health` after each batch. The routes
//! come from `routes::all`, so new routes are covered without editing this file.

use crate::common::*;
use crate::routes::{self, is_detail, Route};
use crate::support::raw_send;
use std::time::Duration;

const BATCH: usize = 200;

/// Values a path placeholder (an id or a name) must never accept.
const BAD_IDS: &[&str] = &[
    "0",
    "-1",
    "abc",
    "9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "1e3",
    "0x10",
    "%00",
    "%FF%FE",
    "..%2F..%2Fetc%2Fpasswd",
    "%20",
    "null",
    "undefined",
    "%F0%9F%99%82",
    "%27%20or%201%3D1--",
    "%3Cscript%3E",
    "1%3B%20drop%20table%20x",
];

/// Bodies no route accepts, sent as JSON.
fn bad_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "{",
        "}",
        "{\"a\":}",
        "{\"a\" 1}",
        "[1,2",
        "[]",
        "[1]",
        "[{}]",
        "\"text\"",
        "42",
        "-0.0",
        "true",
        "null",
        "{} trailing",
        "{\"connection\": 5, \"sql\": []}",
        "{\"connection\": null, \"sql\": null, \"name\": 7}",
        "{\"name\": {\"nested\": true}, \"query\": 1}",
        "{\"limit\": -1, \"timeout_ms\": \"soon\"}",
        "{\"params\": \"x\"}",
        "{\"request\": \"page one\"}",
        "{\"request\": {\"startRow\": \"a\"}}",
        "{\"kind\": \"oracle\", \"name\": \"x\"}",
        "{\"url\": \"ftp://nowhere\", \"name\": \"x\"}",
        "{\"database_type\": 1}",
        "{\"jsonrpc\": \"2.0\", \"method\": 5}",
        "{\"n\": 1e999999}",
        "\u{feff}{}",
        "{\"a\": \"\\ud800\"}",
    ]
    .iter()
    .map(|b| b.as_bytes().to_vec())
    .collect();
    bodies.push(b"\xff\xfe{\"a\": 1}".to_vec());
    bodies.push(b"{\"sql\": \"\xc3\x28\"}".to_vec());
    bodies.push(format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes());
    bodies.push(format!("{}1{}", "{\"a\":".repeat(3000), "}".repeat(3000)).into_bytes());
    bodies
}

struct Case {
    what: String,
    request: Vec<u8>,
}

fn request(method: &str, path: &str, port: u16, headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    let mut has_auth = false;
    for (name, value) in headers {
        has_auth |= name.eq_ignore_ascii_case("authorization");
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    // The native protocol's routes answer 401 without a bearer; send one so that the body and
    // path are what is judged, except where a case leaves it out on purpose.
    if !has_auth && !headers.iter().any(|(n, _)| *n == "x-no-auth") {
        text.push_str("Authorization: Bearer fuzz-user\r\n");
    }
    let body = body.unwrap_or_default();
    text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn corpus(routes: &[Route], port: u16) -> Vec<Case> {
    let mut cases = Vec::new();
    let json = [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")];
    for route in routes {
        let m = route.method.as_str();
        let base = route.concrete("1");
        // Foreign Host (DNS rebinding), foreign Origin, requests other sites started.
        for (name, value) in [
            ("Origin", "https://evil.example"),
            ("Origin", "null"),
            ("Origin", "http://localhost:1"),
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Site", "same-site"),
        ] {
            cases.push(Case {
                what: format!("{m} {base} with {name}: {value}"),
                request: request(m, &base, port, &[(name, value)], None),
            });
        }
        let mut host = request(m, &base, port, &[], None);
        let text =
            String::from_utf8_lossy(&host).replace(&format!("Host: 127.0.0.1:{port}"), "Host: evil.example");
        host = text.into_bytes();
        cases.push(Case { what: format!("{m} {base} with a foreign Host"), request: host });
        // Methods the route does not have.
        for wrong in ["PUT", "TRACE", "FOO"] {
            if !routes.iter().any(|r| r.path == route.path && r.method == wrong) {
                cases.push(Case {
                    what: format!("{wrong} {base}"),
                    request: request(wrong, &base, port, &[], None),
                });
            }
        }
        // Bad ids and names in the path.
        if route.path.contains('{') {
            for id in BAD_IDS {
                let path = route.concrete(id);
                let body: &[u8] = if route.takes_body() { b"{}" } else { b"" };
                cases.push(Case {
                    what: format!("{m} {path}"),
                    request: request(m, &path, port, &json, Some(body)),
                });
            }
            let long = route.concrete(&"9".repeat(400));
            cases.push(Case { what: format!("{m} long id"), request: request(m, &long, port, &json, None) });
        }
        // Malformed bodies, as JSON and as other media types.
        if route.takes_body() && route.path != "/mcp" {
            for (i, body) in bad_bodies().iter().enumerate() {
                for content_type in ["application/json", "text/plain"] {
                    cases.push(Case {
                        what: format!("{m} {base} body #{i} as {content_type}"),
                        request: request(m, &base, port, &[("Content-Type", content_type)], Some(body)),
                    });
                }
            }
        }
        // The native protocol without its bearer, or with a malformed one.
        if route.path.starts_with("/sql") || route.path.starts_with("/snowflake") {
            for auth in ["Basic abc", "Bearer", "Bearer a b", "Bearer ../../x", "Bearer %00"] {
                cases.push(Case {
                    what: format!("{m} {base} Authorization: {auth}"),
                    request: request(m, &base, port, &[("Authorization", auth)], Some(b"{}")),
                });
            }
            cases.push(Case {
                what: format!("{m} {base} without Authorization"),
                request: request(m, &base, port, &[("x-no-auth", "1")], Some(b"{}")),
            });
        }
    }
    // Query parameters of the routes that read them.
    let queries = [
        "/api/v1/query?connection=demo",
        "/api/v1/query?sql=select%201",
        "/api/v1/query?connection=none&sql=select%201",
        "/api/v1/query?connection=c&sql=select%201&limit=-1",
        "/api/v1/query?connection=c&sql=select%201&limit=abc",
        "/api/v1/query?connection=c&sql=select%201&timeout_ms=0",
        "/api/v1/query?connection=c&sql=select%201&format=xml",
        "/api/v1/query?connection=c&sql=select%201%00",
        "/api/v1/query?connection=%FF&sql=%FF",
        "/api/v1/log?limit=abc",
        "/api/v1/log?limit=-5",
        "/api/v1/databases?connection=nope",
        "/api/v1/tables?connection=nope",
        "/widgets/sql/query",
        "/widgets/sql/query?connection=nope&sql=select%201",
        "/widgets/sql/query?connection=c&sql=select%201&limit=many",
        "/widgets/schema/tables",
        "/widgets/schema/tables?connection=nope",
        "/widgets/schema/columns?connection=nope&table=t",
        "/widgets/schema/columns?connection=nope",
    ];
    for path in queries {
        for accept in ["application/json", "*/*"] {
            cases.push(Case {
                what: format!("GET {path} ({accept})"),
                request: request("GET", path, port, &[("Accept", accept)], None),
            });
        }
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_bad_requests_get_4xx_detail_and_the_server_lives() {
    let _serial = crate::support::serial().await;
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("c", &db, true).await;
    let routes = routes::all(&s).await;
    let cases = corpus(&routes, s.addr.port());
    crate::support::report(&format!(
        "fuzz: {} generated bad requests over {} routes",
        cases.len(),
        routes.len()
    ));
    assert!(cases.len() >= 2000, "the corpus has only {} requests", cases.len());

    let mut failures = Vec::new();
    for batch in cases.chunks(BATCH) {
        let answers = futures::future::join_all(
            batch.iter().map(|case| raw_send(s.addr, &case.request, Duration::from_secs(20))),
        )
        .await;
        for (case, answer) in batch.iter().zip(answers) {
            let head_only = case.request.starts_with(b"HEAD ");
            // Refusals before the handler (Host, Origin, a bad path) are 4xx everywhere; what a
            // grid handler itself rejects comes back in band.
            let refused = (400..500).contains(&answer.status)
                && answer.status != 499
                && (head_only || is_detail(&answer.body));
            let in_band = routes::answers_in_band(&case.what)
                && answer.status == 200
                && routes::is_in_band_error(&answer.body);
            let ok = refused || in_band;
            if !ok {
                failures.push(format!("{}: {} {}", case.what, answer.status, answer.body));
            }
        }
        let (status, _, body) = s.get("/health").await;
        assert_eq!(status, 200, "the server stopped answering: {body}");
    }
    // Nothing the corpus sent was saved.
    let (_, _, connections) = s.get("/api/v1/connections").await;
    assert_eq!(connections.as_array().map(Vec::len), Some(1), "{connections}");
    assert!(
        failures.is_empty(),
        "{} of {} answered wrongly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
