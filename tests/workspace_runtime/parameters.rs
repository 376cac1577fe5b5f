//! Saved queries with `{{name}}` parameters, on every engine, as a dashboard in use calls them:
//! `useJsonData` GETs the widget's endpoint with its params in the query string built by
//! `cleanSearchParams` (empty values dropped, `+` for a space, a multi-select as one
//! comma-separated value). Each value must reach the database as a bound parameter: injection
//! attempts find no extra rows and change nothing.

use crate::common::*;
use crate::{search, Db};
use dc_test_support::fakesnow;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use serde_json::{json, Value};

const TABLE: &str = "CREATE TABLE trades (id INT, ticker VARCHAR(10), price DECIMAL(10,2), day DATE, active BOOLEAN)";
const ROWS: &str = "INSERT INTO trades VALUES (1, 'AAPL', 10.50, '2024-01-02', TRUE), \
    (2, 'MSFT', 20.00, '2024-02-01', FALSE), (3, 'AAPL', 30.25, '2024-03-01', TRUE), \
    (4, 'NVDA', 40.00, '2024-04-01', FALSE), (5, 'A B', 50.00, '2024-05-01', TRUE)";

/// One query using every parameter type, each with a default.
const SQL: &str = "SELECT id FROM trades WHERE ticker IN ({{tickers}}) AND price >= {{min_price}} \
    AND day >= {{since}} AND active = {{active}} AND ticker <> {{exclude}} ORDER BY id";

fn parameters() -> Value {
    json!([
        {"name": "tickers", "type": "text", "multiple": true, "default": ["AAPL", "MSFT", "NVDA", "A B"],
         "description": "Tickers to include"},
        {"name": "min_price", "type": "number", "default": 0, "label": "Minimum price"},
        {"name": "since", "type": "date", "default": "$currentDate-10y"},
        {"name": "active", "type": "boolean", "default": true},
        {"name": "exclude", "type": "text", "default": "none", "options": [
            {"label": "Nothing", "value": "none"}, {"label": "Apple", "value": "AAPL"}]},
    ])
}

/// `useJsonData`: GET the widget endpoint with `cleanSearchParams`-encoded params.
async fn widget_get(s: &TestServer, id: i64, params: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = s.get(&format!("/widgets/queries/{id}{}", search(params))).await;
    (status, body)
}

/// The ids a widget answer holds, whatever case the engine gives the column.
fn ids(body: &Value) -> Vec<i64> {
    body.as_array()
        .unwrap_or_else(|| panic!("not rows: {body}"))
        .iter()
        .map(|row| {
            let value = row.as_object().unwrap().values().next().unwrap();
            value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok())).unwrap()
        })
        .collect()
}

async fn save(s: &TestServer, connection: &str, name: &str, sql: &str, parameters: Value) -> i64 {
    let (status, _, saved) = s
        .post(
            "/api/v1/queries",
            json!({"connection": connection, "name": name, "sql": sql, "parameters": parameters}),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    saved["id"].as_i64().unwrap()
}

/// Every type bound, defaults, a multi-select, a `+`-encoded space, and the injections; then
/// the table must still hold its five rows (checked by the caller with `count`).
async fn every_type_binds(s: &TestServer, connection: &str, engine: &str) {
    let id = save(s, connection, &format!("{engine} trades"), SQL, parameters()).await;
    let (status, body) = widget_get(s, id, &[]).await;
    assert_eq!((status, ids(&body)), (200, vec![1, 3, 5]), "{engine} defaults: {body}");
    let (status, body) = widget_get(
        s,
        id,
        &[("tickers", "AAPL,MSFT,NVDA"), ("min_price", "15"), ("since", "2024-01-01"), ("active", "false"), ("exclude", "NVDA")],
    )
    .await;
    assert_eq!((status, ids(&body)), (200, vec![2]), "{engine}: {body}");
    let (status, body) =
        widget_get(s, id, &[("tickers", "AAPL"), ("min_price", "10.5"), ("since", "2024-01-02"), ("active", "true")]).await;
    assert_eq!((status, ids(&body)), (200, vec![1, 3]), "{engine} decimal and date edges: {body}");
    let (status, body) = widget_get(s, id, &[("tickers", "A B"), ("min_price", "")]).await;
    assert_eq!((status, ids(&body)), (200, vec![5]), "{engine} a space sent as '+': {body}");
    let (status, body) = widget_get(s, id, &[("exclude", "AAPL")]).await;
    assert_eq!((status, ids(&body)), (200, vec![5]), "{engine} option: {body}");
    let (status, body) = widget_get(s, id, &[("since", "2024-02-01"), ("active", "false")]).await;
    assert_eq!((status, ids(&body)), (200, vec![2, 4]), "{engine}: {body}");

    // Injections through every text-like path find nothing more than their literal value would.
    for attempt in [
        "' OR '1'='1",
        "AAPL') OR ('1'='1",
        "AAPL' OR 1=1 --",
        "x'; DROP TABLE trades; --",
        "{{tickers}}",
        "AAPL\\' OR 1=1 #",
        "$1",
        "?",
    ] {
        let (status, body) = widget_get(s, id, &[("tickers", attempt)]).await;
        assert_eq!((status, ids(&body)), (200, vec![]), "{engine} tickers={attempt:?}: {body}");
        let (status, body) = widget_get(s, id, &[("exclude", attempt)]).await;
        assert_eq!((status, ids(&body)), (200, vec![1, 3, 5]), "{engine} exclude={attempt:?}: {body}");
    }
    let (status, body) = widget_get(s, id, &[("tickers", "AAPL,' OR 1=1 --")]).await;
    assert_eq!((status, ids(&body)), (200, vec![1, 3]), "{engine} multi-select with an injection: {body}");
    // Values of the wrong type are refused, naming the parameter.
    for (name, value) in [
        ("min_price", "0 OR 1=1"),
        ("min_price", "1; DROP TABLE trades"),
        ("min_price", "NaN"),
        ("since", "2024-01-01' OR '1'='1"),
        ("since", "yesterday"),
        ("active", "1 OR 1=1"),
    ] {
        let (status, body) = widget_get(s, id, &[(name, value)]).await;
        assert_eq!(status, 400, "{engine} {name}={value:?}: {body}");
        let detail = body["detail"].as_str().unwrap_or_else(|| panic!("no detail: {body}"));
        assert!(detail.contains(&format!("parameter {name}")), "{engine}: {detail}");
    }
    // The API's run binds the same way, values by name.
    let (status, _, rows) = s
        .post(
            &format!("/api/v1/queries/{id}/run"),
            json!({"parameters": {"tickers": ["MSFT", "NVDA"], "active": false, "min_price": 30}}),
        )
        .await;
    assert_eq!((status, ids(&rows)), (200, vec![4]), "{engine} API run: {rows}");
}

/// Rows of `trades`, counted through the server (the engine's own read path).
async fn count(s: &TestServer, connection: &str) -> i64 {
    let (status, _, body) =
        s.query_text(json!({"connection": connection, "sql": "SELECT count(*) AS n FROM trades"})).await;
    assert_eq!(status, 200, "{body}");
    let rows: Value = serde_json::from_str(&body).unwrap();
    let value = rows[0].as_object().unwrap().values().next().unwrap().clone();
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok())).unwrap()
}

#[tokio::test]
async fn every_parameter_type_binds_on_sqlite() {
    let s = start().await;
    let db = Db::sqlite(s.dir.path(), "trades");
    let Db::Sqlite(path) = &db else { unreachable!() };
    rusqlite::Connection::open(path).unwrap().execute_batch(&format!("{TABLE}; {ROWS};")).unwrap();
    // Writable, so that a splice could do harm: none can.
    s.add_sqlite("trades", path, false).await;
    every_type_binds(&s, "trades", "sqlite").await;
    assert_eq!(count(&s, "trades").await, 5);
}

#[tokio::test]
async fn every_parameter_type_binds_on_mariadb() {
    let Some(db) = MysqlDb::create().await else { return };
    db.exec_all(&[TABLE, ROWS]).await;
    let s = start().await;
    let (status, _, created) = s
        .post(
            "/api/v1/connections",
            json!({"name": "maria", "kind": "mysql", "host": db.host, "port": db.port, "database": db.db,
                   "user": db.user, "password": db.password, "tls": "prefer", "read_only": false}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    every_type_binds(&s, "maria", "mariadb").await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM trades").await, 5);
}

#[tokio::test]
async fn every_parameter_type_binds_on_postgres() {
    let Some(db) = PostgresDb::create().await else { return };
    db.exec_all(&[TABLE, ROWS]).await;
    let s = start().await;
    let (status, _, created) = s
        .post(
            "/api/v1/connections",
            json!({"name": "pg", "kind": "postgres", "host": db.host, "port": db.port, "database": db.db,
                   "user": db.user, "password": db.password, "tls": "prefer", "read_only": false}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    every_type_binds(&s, "pg", "postgres").await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM trades").await, 5);
}

#[tokio::test]
async fn every_parameter_type_binds_on_snowflake() {
    let Some(sf) = fakesnow::adapter() else { return };
    let (user, password) = ("WS_PARAMS", "pw-ws-params");
    sf.setup(json!({"users": [{"account": "fake", "user": user, "password": password,
        "roles": ["PUBLIC"], "warehouses": ["FAKESNOW_WAREHOUSE"]}]}))
        .await;
    let engine = sf
        .engine(json!({"user": user, "password": password, "database": "DB_WS_PARAMS", "warehouse": "FAKESNOW_WAREHOUSE"}))
        .await;
    for sql in [TABLE, ROWS] {
        dc_test_support::engine::output(&*engine, sql).await;
    }
    let s = start().await;
    let (status, _, created) = s
        .post(
            "/api/v1/connections",
            json!({"name": "sf", "kind": "snowflake", "account": "fake", "user": user, "password": password,
                   "base_url": sf.url, "database": "DB_WS_PARAMS", "schema": "PUBLIC",
                   "warehouse": "FAKESNOW_WAREHOUSE", "read_only": false}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    every_type_binds(&s, "sf", "snowflake").await;
    assert_eq!(count(&s, "sf").await, 5);
}

/// Saving checks the SQL against the declarations: undeclared `{{x}}`, an unclosed `{{`,
/// defaults and options of the wrong type, bad names; each a 4xx `{"detail"}` naming the
/// parameter, and the server goes on.
#[tokio::test]
async fn broken_parameters_are_refused_by_name() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("shop", &db, true).await;
    let cases = [
        ("SELECT * FROM items WHERE name = {{who}}", json!([]), "who"),
        ("SELECT * FROM items WHERE name = {{who", json!([{"name": "who", "type": "text"}]), "who"),
        ("SELECT * FROM items WHERE id = {{n}}", json!([{"name": "n", "type": "number", "default": "ten"}]), "n"),
        ("SELECT * FROM items WHERE id = {{d}}", json!([{"name": "d", "type": "date", "default": "2024-02-30"}]), "d"),
        (
            "SELECT * FROM items WHERE id = {{n}}",
            json!([{"name": "n", "type": "number", "options": [{"label": "x", "value": "x"}]}]),
            "n",
        ),
        ("SELECT * FROM items WHERE id = {{n}}", json!([{"name": "n", "type": "colour"}]), "colour"),
        ("SELECT {{a b}}", json!([{"name": "a b", "type": "text"}]), "a b"),
        ("SELECT {{b}}", json!([{"name": "b", "type": "boolean", "multiple": true}]), "b"),
        (
            "SELECT {{t}}",
            json!([{"name": "t", "type": "text", "options_sql": "DELETE FROM items"}]),
            "t",
        ),
        ("SELECT {{t}}", json!([{"name": "t", "type": "text"}, {"name": "t", "type": "text"}]), "t"),
    ];
    for (sql, parameters, name) in cases {
        let (status, _, body) = s
            .post("/api/v1/queries", json!({"connection": "shop", "name": "bad", "sql": sql, "parameters": parameters}))
            .await;
        assert!((400..500).contains(&status), "{sql} {parameters}: {status} {body}");
        let detail = body["detail"].as_str().unwrap_or_else(|| panic!("no detail: {body}"));
        assert!(detail.contains(name), "{sql}: {detail}");
    }
    // Displays are checked too.
    for display in [
        json!({"type": "chart", "chart_type": "sparkle", "x": "id", "y": ["price"]}),
        json!({"type": "chart", "chart_type": "line", "x": "id", "y": []}),
        json!({"type": "metric"}),
        json!({"type": "gauge"}),
    ] {
        let (status, _, body) = s
            .post("/api/v1/queries", json!({"connection": "shop", "name": "bad", "sql": "SELECT 1", "display": display}))
            .await;
        assert!((400..500).contains(&status) && body["detail"].is_string(), "{display}: {status} {body}");
    }
    // A value missing with no default: 422 naming it, as Workspace's required params.
    let id = save(&s, "shop", "needs", "SELECT * FROM items WHERE name = {{who}}", json!([{"name": "who", "type": "text"}]))
        .await;
    let (status, body) = widget_get(&s, id, &[]).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().starts_with("who missing"), "{body}");
    // `{{x}}` in a string or comment is text, not a parameter.
    let id = save(
        &s,
        "shop",
        "literal",
        "SELECT '{{x}}' AS braces, {{x}} AS bound -- {{x}}",
        json!([{"name": "x", "type": "text", "default": "v"}]),
    )
    .await;
    let (status, body) = widget_get(&s, id, &[]).await;
    assert_eq!((status, body), (200, json!([{"braces": "{{x}}", "bound": "v"}])));
    assert_eq!(s.get("/health").await.0, 200);
}

/// Parameters survive PATCH, clearing with null, and show in the API's answers.
#[tokio::test]
async fn parameters_and_display_round_trip_through_the_api() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("shop", &db, true).await;
    let (status, _, saved) = s
        .post(
            "/api/v1/queries",
            json!({"connection": "shop", "name": "cheap", "sql": "SELECT id, price FROM items WHERE price < {{max}}",
                   "parameters": [{"name": "max", "type": "number", "default": 3}],
                   "display": {"type": "chart", "chart_type": "bar", "x": "id", "y": ["price"]},
                   "refresh_interval": 60, "row_limit": 10, "category": "Shop"}),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(saved["parameters"][0]["name"], "max");
    assert_eq!(saved["display"]["chart_type"], "bar");
    assert_eq!((saved["refresh_interval"].clone(), saved["row_limit"].clone()), (json!(60), json!(10)));
    let id = saved["id"].as_i64().unwrap();
    let (status, _, patched) =
        s.patch(&format!("/api/v1/queries/{id}"), json!({"refresh_interval": null, "category": "Shop 2"})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["refresh_interval"], Value::Null);
    assert_eq!(patched["category"], "Shop 2");
    assert_eq!(patched["parameters"], saved["parameters"]);
    assert_eq!(patched["row_limit"], 10);
    // An unknown field is refused rather than ignored.
    let (status, _, body) = s.patch(&format!("/api/v1/queries/{id}"), json!({"paramters": []})).await;
    assert!((400..500).contains(&status), "{body}");
    // OpenAPI documents the new fields.
    let (_, _, openapi) = s.get("/openapi.json").await;
    let text = openapi.to_string();
    for field in ["parameters", "display", "refresh_interval", "row_limit", "options_sql", "chart_type"] {
        assert!(text.contains(&format!("\"{field}\"")), "openapi.json lacks {field}");
    }
}
