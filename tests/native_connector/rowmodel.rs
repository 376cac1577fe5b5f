//! The AG Grid server-side row model over a saved query, on SQLite, MariaDB and PostgreSQL:
//! every filter type, combined conditions, sorting, paging, grouping, and injection attempts.

use crate::common::*;
use crate::Ws;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use serde_json::{json, Value};

const ROWS: &[&str] = &[
    "(1, 'AAPL', 10.5, '2024-01-01', 'a%b')",
    "(2, 'aapl', 20, '2024-01-02', NULL)",
    "(3, 'MSFT', 30.25, '2024-01-03', 'x_y')",
    "(4, 'IBM', NULL, NULL, '')",
    "(5, 'GOOG', 50, '2024-02-01', 'hello')",
];

fn text(col: &str, op: &str, value: &str) -> Value {
    json!({col: {"filterType": "text", "type": op, "filter": value}})
}
fn number(col: &str, op: &str, value: Value, to: Value) -> Value {
    json!({col: {"filterType": "number", "type": op, "filter": value, "filterTo": to}})
}
fn date(op: &str, from: Value, to: Value) -> Value {
    json!({"day": {"filterType": "date", "type": op, "dateFrom": from, "dateTo": to}})
}

/// Filter models and the ids they keep.
fn cases() -> Vec<(Value, Vec<i64>)> {
    let n = Value::Null;
    vec![
        (text("sym", "equals", "aapl"), vec![1, 2]),
        (text("sym", "notEqual", "AAPL"), vec![3, 4, 5]),
        (text("note", "contains", "%"), vec![1]),
        (text("note", "contains", "_"), vec![3]),
        (text("note", "notContains", "a"), vec![2, 3, 4, 5]),
        (text("sym", "startsWith", "a"), vec![1, 2]),
        (text("sym", "endsWith", "T"), vec![3]),
        (text("note", "blank", ""), vec![2, 4]),
        (text("note", "notBlank", ""), vec![1, 3, 5]),
        (number("px", "equals", json!(20), n.clone()), vec![2]),
        (number("px", "notEqual", json!(20), n.clone()), vec![1, 3, 4, 5]),
        (number("px", "lessThan", json!(20), n.clone()), vec![1]),
        (number("px", "lessThanOrEqual", json!(20), n.clone()), vec![1, 2]),
        (number("px", "greaterThan", json!(20), n.clone()), vec![3, 5]),
        (number("px", "greaterThanOrEqual", json!(30.25), n.clone()), vec![3, 5]),
        (number("px", "inRange", json!(10.5), json!(50)), vec![2, 3]),
        (number("px", "blank", n.clone(), n.clone()), vec![4]),
        (number("px", "notBlank", n.clone(), n.clone()), vec![1, 2, 3, 5]),
        (date("equals", json!("2024-01-02 00:00:00"), n.clone()), vec![2]),
        (date("notEqual", json!("2024-01-02 00:00:00"), n.clone()), vec![1, 3, 4, 5]),
        (date("lessThan", json!("2024-01-02 00:00:00"), n.clone()), vec![1]),
        (date("greaterThan", json!("2024-01-03 00:00:00"), n.clone()), vec![5]),
        (date("inRange", json!("2024-01-01 00:00:00"), json!("2024-02-01 00:00:00")), vec![2, 3]),
        (date("blank", n.clone(), n.clone()), vec![4]),
        (date("notBlank", n.clone(), n.clone()), vec![1, 2, 3, 5]),
        (json!({"sym": {"filterType": "set", "values": ["IBM", "GOOG"]}}), vec![4, 5]),
        (json!({"px": {"filterType": "set", "values": ["20", null]}}), vec![2, 4]),
        (json!({"sym": {"filterType": "set", "values": []}}), vec![]),
        (
            json!({"sym": {"filterType": "text", "operator": "OR", "conditions": [
                {"filterType": "text", "type": "equals", "filter": "ibm"},
                {"filterType": "text", "type": "equals", "filter": "goog"}]}}),
            vec![4, 5],
        ),
        (
            json!({"px": {"filterType": "number", "operator": "AND",
                "condition1": {"filterType": "number", "type": "greaterThan", "filter": 10.5},
                "condition2": {"filterType": "number", "type": "lessThan", "filter": 40}}}),
            vec![2, 3],
        ),
        (
            json!({"sym": {"filterType": "text", "type": "contains", "filter": "a"},
                   "px": {"filterType": "number", "type": "greaterThan", "filter": 15}}),
            vec![2],
        ),
    ]
}

async fn page(ws: &Ws<'_>, id: i64, request: Value) -> Value {
    let (status, page) = ws.post(&format!("/sql/query/{id}"), json!({ "request": request })).await;
    assert_eq!(status, 200, "{request}: {page}");
    page
}

fn ids(page: &Value) -> Vec<i64> {
    page["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// Every case, sorting, paging, grouping and injection attempts against one saved query.
async fn check_engine(ws: &Ws<'_>, id: i64) {
    let sort = json!([{"colId": "id", "sort": "asc"}]);
    for (filter, expected) in cases() {
        let request = json!({"startRow": 0, "endRow": 100, "sortModel": sort, "filterModel": filter,
            "rowGroupCols": [], "valueCols": [], "pivotCols": [], "pivotMode": false, "groupKeys": []});
        let result = page(ws, id, request).await;
        assert_eq!(ids(&result), expected, "filter {filter}");
        assert_eq!(result["rows"].as_u64(), Some(expected.len() as u64), "filter {filter}");
    }
    // Multi-column sort and paging: rows is the total, data the page.
    let result = page(
        ws,
        id,
        json!({"startRow": 1, "endRow": 3, "sortModel": [{"colId": "note", "sort": "desc"}, {"colId": "id", "sort": "desc"}],
               "filterModel": {"px": {"filterType": "number", "type": "notBlank"}}}),
    )
    .await;
    assert_eq!(result["rows"], 4);
    assert_eq!(result["data"].as_array().unwrap().len(), 2);
    let all =
        page(ws, id, json!({"startRow": 0, "endRow": 2, "sortModel": [{"colId": "px", "sort": "desc"}]}))
            .await;
    assert_eq!(all["rows"], 5);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    // Row grouping: groups first, then the rows of one group.
    let groups = page(
        ws,
        id,
        json!({"startRow": 0, "endRow": 100, "rowGroupCols": [{"id": "sym", "field": "sym", "displayName": "sym"}],
               "valueCols": [{"id": "px", "field": "px", "aggFunc": "count"}], "groupKeys": [],
               "sortModel": [{"colId": "ag-Grid-AutoColumn", "sort": "asc"}]}),
    )
    .await;
    // MariaDB's default collation folds AAPL and aapl into one group.
    let group_count = groups["rows"].as_u64().unwrap();
    assert!(group_count == 4 || group_count == 5, "{groups}");
    assert_eq!(groups["data"].as_array().unwrap().len() as u64, group_count);
    assert!(groups["data"][0].get("px").is_some(), "{groups}");
    let leaf = page(
        ws,
        id,
        json!({"startRow": 0, "endRow": 100, "rowGroupCols": [{"id": "sym", "field": "sym"}], "groupKeys": ["IBM"]}),
    )
    .await;
    assert_eq!(ids(&leaf), vec![4]);
    // Injection through values and names: refused or inert, never executed.
    let evil = "x'); DELETE FROM prices; --";
    let result = page(ws, id, json!({"filterModel": text("sym", "equals", evil)})).await;
    assert_eq!(result["rows"], 0);
    let result = page(ws, id, json!({"filterModel": {"sym": {"filterType": "set", "values": [evil]}}})).await;
    assert_eq!(result["rows"], 0);
    for bad in [
        json!({"sortModel": [{"colId": "id; DELETE FROM prices", "sort": "asc"}]}),
        json!({"sortModel": [{"colId": "id", "sort": "asc; DELETE FROM prices"}]}),
        json!({"filterModel": {"id\"; DELETE FROM prices; --": {"filterType": "text", "type": "equals", "filter": "1"}}}),
        json!({"filterModel": number("px", "equals", json!("1 OR 1=1"), Value::Null)}),
        json!({"filterModel": date("equals", json!("2024-01-01' OR '1'='1"), Value::Null)}),
        json!({"rowGroupCols": [{"id": "sym) FROM prices; --"}]}),
        json!({"rowGroupCols": [{"id": "sym"}], "valueCols": [{"id": "px", "aggFunc": "sum(1)); --"}]}),
    ] {
        // Refused, and shown in the grid as its error row (`getDatabaseRows` shows only a 200).
        let (status, body) = ws.post(&format!("/sql/query/{id}"), json!({ "request": bad })).await;
        assert_eq!(status, 200, "{bad}: {body}");
        assert!(body["data"][0]["error"].is_string(), "{bad}: {body}");
    }
    let untouched = page(ws, id, json!({})).await;
    assert_eq!(untouched["rows"], 5, "the data must be untouched");
}

async fn save(ws: &Ws<'_>, body: Value) -> i64 {
    let (status, item) = ws.post("/sql/database", body).await;
    assert_eq!(status, 201, "{item}");
    item["id"].as_i64().unwrap()
}

/// Saves `query` over the prices table as "Prices" with these credentials, and runs every check.
async fn check_prices(ws: &Ws<'_>, login: Value, database: Value, query: &str) -> i64 {
    let mut body = login;
    body["name"] = json!("Prices");
    body["database"] = database;
    body["query"] = json!(query);
    let id = save(ws, body).await;
    check_engine(ws, id).await;
    id
}

#[tokio::test]
async fn sqlite_row_model() {
    let s = start().await;
    let path = s.dir.path().join("prices.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE prices (id INTEGER PRIMARY KEY, sym TEXT, px REAL, day DATE, note TEXT);
         INSERT INTO prices VALUES {};",
        ROWS.join(",")
    ))
    .unwrap();
    let ws = Ws::new(&s, "grid-user");
    let login =
        json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE", "host": "SQLITE"});
    check_prices(&ws, login, json!(path), "SELECT * FROM prices;").await;
    let count: i64 = conn.query_row("SELECT count(*) FROM prices", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 5);
    // Odd column names are quoted, not refused.
    let odd = save(
        &ws,
        json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE", "host": "SQLITE",
               "name": "Odd", "database": path, "query": "SELECT id AS \"we\"\"ird col\" FROM prices"}),
    )
    .await;
    let result = page(
        &ws,
        odd,
        json!({"sortModel": [{"colId": "we\"ird col", "sort": "desc"}],
        "filterModel": number("we\"ird col", "lessThan", json!(5), Value::Null)}),
    )
    .await;
    assert_eq!(
        result["data"],
        json!([{"we\"ird col": 4}, {"we\"ird col": 3}, {"we\"ird col": 2}, {"we\"ird col": 1}])
    );
}

#[tokio::test]
async fn mysql_row_model() {
    let Some(f) = MysqlDb::create().await else { return };
    f.exec_all(&[&format!(
        "CREATE TABLE prices (id INT PRIMARY KEY, sym VARCHAR(10), px DOUBLE, day DATE, note VARCHAR(20));
         INSERT INTO prices VALUES {};",
        ROWS.join(",")
    )])
    .await;
    let s = start().await;
    let ws = Ws::new(&s, "grid-user");
    let login =
        json!({"database_type": "mysql", "username": f.user, "password": f.password, "host": f.address()});
    check_prices(&ws, login, json!(f.db), "SELECT * FROM prices").await;
}

#[tokio::test]
async fn postgres_row_model() {
    let Some(db) = PostgresDb::create().await else { return };
    db.exec(&format!(
        "CREATE TABLE prices (id INT PRIMARY KEY, sym TEXT, px DOUBLE PRECISION, day DATE, note TEXT);
         INSERT INTO prices VALUES {};",
        ROWS.join(",")
    ))
    .await;
    let s = start().await;
    let ws = Ws::new(&s, "grid-user");
    let login = json!({"database_type": "postgres", "username": db.user, "password": db.password,
                       "host": db.address()});
    let id = check_prices(&ws, login, json!(db.db), "SELECT * FROM prices").await;
    ws.delete(&format!("/sql/database/{id}")).await;
}
