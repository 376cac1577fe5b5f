//! The two grids at run time: the Table Browser (`ssrm_table`, `getSSRRows`) and the native
//! saved-query grid (`getDatabaseRows`). Params from the query string, errors a user can see,
//! the saved query's own order, Pivot Mode, and statements a grid cannot page, on SQLite,
//! MariaDB and PostgreSQL.

use crate::common::*;
use crate::{grid_error, num, ssrm, Db, Ws};
use serde_json::{json, Value};

/// Replays `getSSRRows` as a dashboard in use sends it: the widget's params in the URL (a
/// connection name with a space arrives as `+`, empty params are dropped by
/// `cleanSearchParams`), the bare grid request as the body.
#[tokio::test]
async fn table_browser_reads_params_from_the_query_string() {
    let s = start().await;
    let db = items_db(s.dir.path(), 30);
    s.add_sqlite("my shop", &db, true).await;
    let params = [("connection", "my shop"), ("table", "main.items"), ("unused", "")];
    // The first load: `{startRow: 0, endRow: 500}` and nothing else.
    let (status, page) =
        ssrm(&s, "/widgets/table/rows", &params, json!({"startRow": 0, "endRow": 500})).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.get("error").is_none(), "{page}");
    assert_eq!(page["rowCount"], 30);
    assert_eq!(page["rowData"].as_array().unwrap().len(), 30);
    // A later page with a sort and a filter, still bare.
    let request = json!({"startRow": 0, "endRow": 5, "sortModel": [{"colId": "price", "sort": "desc"}],
        "filterModel": {"qty": {"filterType": "number", "type": "equals", "filter": 3}},
        "rowGroupCols": [], "groupKeys": [], "valueCols": [], "pivotCols": [], "pivotMode": false});
    let (status, page) = ssrm(&s, "/widgets/table/rows", &params, request).await;
    assert_eq!(status, 200, "{page}");
    let ids: Vec<i64> =
        page["rowData"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![24, 17, 10, 3]);
    assert_eq!(page["rowCount"], 4);
    // The validation pass (`validateBackend`) still merges the params into the body.
    let (status, page) = ssrm(
        &s,
        "/widgets/table/rows",
        &[],
        json!({"connection": "my shop", "table": "main.items", "startRow": 0, "endRow": 2}),
    )
    .await;
    assert_eq!((status, page["rowCount"].as_u64()), (200, Some(30)), "{page}");
}

/// `useSSRMGridOptions`'s `getRows`: the only failure the grid shows is a 200 whose JSON has an
/// `error` string ("Error fetching data" toast). Every failure of a page is answered so, and
/// the server keeps serving.
#[tokio::test]
async fn table_browser_failures_are_200_with_an_error_the_toast_shows() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let ok = [("connection", "shop"), ("table", "main.items")];
    // (widget params, grid request, what the message must mention)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Value, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("connection", "shop")], json!({"startRow": 0, "endRow": 500}), "table"),
        (vec![], json!({"startRow": 0, "endRow": 500}), "connection"),
        (vec![("connection", "nope"), ("table", "main.items")], json!({}), "nope"),
        (vec![("connection", "shop"), ("table", "main.missing")], json!({}), "missing"),
        (
            ok.to_vec(),
            json!({"sortModel": [{"colId": "id; DROP TABLE items", "sort": "asc"}]}),
            "unknown column",
        ),
        (
            ok.to_vec(),
            json!({"filterModel": {"price": {"filterType": "number", "type": "equals", "filter": "1 OR 1=1"}}}),
            "not a number",
        ),
        (ok.to_vec(), json!({"sortModel": "not a list"}), "invalid row request"),
    ];
    for (params, request, says) in cases {
        let (status, body) = ssrm(&s, "/widgets/table/rows", &params, request.clone()).await;
        let error = grid_error(status, &body);
        assert!(error.contains(says), "{request}: {error:?} should mention {says:?}");
    }
    // A malformed query string (a bad escape, a repeated param) is just another failure.
    for query in ["connection=%ZZ&table=main.items", "connection=shop&connection=shop&table=%"] {
        let response = s
            .client
            .post(s.at(&format!("/widgets/table/rows?{query}")))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let (status, _, body) = into_parts(response).await;
        grid_error(status, &body);
    }
    // Not JSON at all.
    let response = s
        .client
        .post(s.at("/widgets/table/rows?connection=shop&table=main.items"))
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let (status, _, body) = into_parts(response).await;
    assert!(grid_error(status, &body).contains("JSON"));
    // Alive, and the data untouched.
    let (status, page) = ssrm(&s, "/widgets/table/rows", &ok, json!({"startRow": 0, "endRow": 500})).await;
    assert_eq!((status, page["rowCount"].as_u64()), (200, Some(3)));
}

/// `getDatabaseRows`: the native grid shows nothing for a non-2xx, so a failing page is one row
/// whose `error` column says what went wrong; the query log keeps the whole story.
#[tokio::test]
async fn native_grid_failures_show_as_an_error_row_and_are_logged() {
    let s = start().await;
    let db = Db::sqlite(s.dir.path(), "native_errors");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');")
        .await;
    let ws = Ws::new(&s, "error-user");
    let id = ws.save(&db, "T", "SELECT * FROM t").await;
    let page = ws.rows(id, json!({"sortModel": [{"colId": "nope", "sort": "asc"}]})).await;
    assert_error_row(&page, "unknown column \"nope\"");
    let entry = s.log().await.into_iter().find(|e| e["sql"] == "SELECT * FROM t").unwrap();
    assert_eq!(entry["outcome"], "error", "{entry}");
    assert!(entry["error"].as_str().unwrap().contains("nope"), "{entry}");
    // Another user's id is "not found", as a row too.
    let other = Ws::new(&s, "someone-else");
    assert_error_row(&other.rows(id, json!({})).await, "no saved query");
    // A database error surfaces the same way: the table is gone.
    db.exec("DROP TABLE t").await;
    let page = ws.rows(id, json!({"startRow": 0, "endRow": 100})).await;
    assert_error_row(&page, "t");
    let (status, body) = ws.post(&format!("/sql/query/{id}"), json!("not an object")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["error"].is_string(), "{body}");
}

fn assert_error_row(page: &Value, says: &str) {
    assert_eq!(page["rows"], 1, "{page}");
    let message = page["data"][0]["error"].as_str().unwrap_or_else(|| panic!("no error row: {page}"));
    assert!(message.contains(says), "{message:?} should mention {says:?}");
    assert_eq!(page["schema"], json!({"error": "text"}));
    assert_eq!(page["error"].as_str(), Some(message));
}

/// Statements that cannot stand inside `SELECT * FROM (...)` are refused when saved, with a
/// `detail` the dialog shows, instead of saving and then failing in the grid.
async fn unwrappable_statements_are_refused_at_save(db: &Db, statements: &[&str]) {
    let s = start().await;
    let ws = Ws::new(&s, "save-user");
    for statement in statements {
        let (status, body) = ws.post("/sql/database", db.save_body("Bad", statement)).await;
        assert_eq!(status, 422, "{statement}: {body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("grid") || detail.contains("read"), "{statement}: {detail}");
    }
    // Nothing was left behind, and a SELECT saves.
    let (status, list) = ws.call(reqwest::Method::GET, "/sql/databases", None).await;
    assert_eq!((status, list), (200, json!([])));
    let id = ws.save(db, "Good", "SELECT 1 AS one").await;
    let (status, body) = ws
        .call(
            reqwest::Method::PATCH,
            &format!("/sql/database/{id}/query"),
            Some(json!({"query": statements[0]})),
        )
        .await;
    assert_eq!(status, 422, "an edit cannot make it unpageable either: {body}");
}

#[tokio::test]
async fn sqlite_unwrappable_statements_are_refused_at_save() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite(dir.path(), "unwrappable");
    db.exec("CREATE TABLE t (id INTEGER)").await;
    unwrappable_statements_are_refused_at_save(&db, &["EXPLAIN SELECT * FROM t", "PRAGMA table_info(t)"])
        .await;
}

#[tokio::test]
async fn mysql_unwrappable_statements_are_refused_at_save() {
    let Some(db) = Db::mysql().await else { return };
    db.exec("CREATE TABLE t (id INT)").await;
    unwrappable_statements_are_refused_at_save(
        &db,
        &["SHOW TABLES", "DESCRIBE t", "EXPLAIN SELECT * FROM t"],
    )
    .await;
}

#[tokio::test]
async fn postgres_unwrappable_statements_are_refused_at_save() {
    let Some(db) = Db::postgres().await else { return };
    db.exec("CREATE TABLE t (id INT)").await;
    unwrappable_statements_are_refused_at_save(&db, &["SHOW search_path", "EXPLAIN SELECT * FROM t"]).await;
}

/// With no grid sort, rows come in the saved query's own order, page after page, on every
/// engine (MariaDB drops an ORDER BY inside a derived table); a saved LIMIT keeps it too. The
/// requests are `getDatabaseRows`' bodies as the grid pages through.
async fn saved_order_is_kept(db: Db) {
    let values: Vec<String> = (1..=20).map(|i| format!("({i}, 'n{i:02}')")).collect();
    db.exec(&format!(
        "CREATE TABLE ordered (id INT PRIMARY KEY, name VARCHAR(10)); INSERT INTO ordered VALUES {};",
        values.join(", ")
    ))
    .await;
    let s = start().await;
    let ws = Ws::new(&s, "order-user");
    let ids = |page: &Value| -> Vec<i64> {
        page["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let id =
        ws.save(&db, "Newest first", "SELECT id, name FROM ordered ORDER BY id DESC -- newest first").await;
    let bare = json!({"startRow": 0, "endRow": 5, "rowGroupCols": [], "valueCols": [], "pivotCols": [],
        "pivotMode": false, "groupKeys": [], "filterModel": {}, "sortModel": []});
    let first = ws.rows(id, bare.clone()).await;
    assert_eq!(ids(&first), vec![20, 19, 18, 17, 16], "{}: {first}", db.engine());
    assert_eq!(first["rows"], 20);
    let mut next = bare.clone();
    next["startRow"] = json!(5);
    next["endRow"] = json!(10);
    assert_eq!(ids(&ws.rows(id, next).await), vec![15, 14, 13, 12, 11], "{}", db.engine());
    // The frontend's first request of a widget may be `{}`.
    assert_eq!(ids(&ws.rows(id, json!({})).await).len(), 20);
    // A query with its own LIMIT is wrapped, and a derived table with a LIMIT keeps its order.
    let limited = ws.save(&db, "Top 3", "SELECT id, name FROM ordered ORDER BY name DESC LIMIT 3").await;
    assert_eq!(ids(&ws.rows(limited, bare.clone()).await), vec![20, 19, 18], "{}", db.engine());
    // A grid sort wins over the saved order.
    let mut sorted = bare;
    sorted["sortModel"] = json!([{"colId": "id", "sort": "asc"}]);
    assert_eq!(ids(&ws.rows(id, sorted).await), vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn sqlite_saved_order_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    saved_order_is_kept(Db::sqlite(dir.path(), "order")).await;
}

#[tokio::test]
async fn mysql_saved_order_is_kept() {
    let Some(db) = Db::mysql().await else { return };
    saved_order_is_kept(db).await;
}

#[tokio::test]
async fn postgres_saved_order_is_kept() {
    let Some(db) = Db::postgres().await else { return };
    saved_order_is_kept(db).await;
}

/// AG Grid's server-side Pivot Mode, which both grids offer (`useSSRMGridOptions`): the request
/// carries `pivotMode`, `pivotCols`, `valueCols` and `rowGroupCols`, and the answer names the
/// generated columns in `pivotResultFields` (`<pivot key>_<value column id>`, the grid's default
/// separator `_`). Keys are bound values, names checked, the column count capped.
async fn pivot_mode(db: Db) {
    db.exec(
        "CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(20), product VARCHAR(40), amount INT);
         INSERT INTO sales VALUES (1, 'east', 'A', 10), (2, 'east', 'B', 5), (3, 'west', 'A', 7),
           (4, 'west', 'A', 1), (5, 'east', 'x''); DROP TABLE sales; --', 2);",
    )
    .await;
    let s = start().await;
    let ws = Ws::new(&s, "pivot-user");
    let id = ws.save(&db, "Sales", "SELECT * FROM sales").await;
    let request = json!({"startRow": 0, "endRow": 100, "pivotMode": true,
        "rowGroupCols": [{"id": "region", "field": "region", "displayName": "Region"}],
        "pivotCols": [{"id": "product", "field": "product", "displayName": "Product"}],
        "valueCols": [{"id": "amount", "field": "amount", "aggFunc": "sum", "displayName": "Amount"}],
        "groupKeys": [], "filterModel": {}, "sortModel": []});
    let page = ws.rows(id, request.clone()).await;
    assert!(page.get("error").is_none(), "{}: {page}", db.engine());
    let evil = "x'); DROP TABLE sales; --_amount";
    assert_eq!(page["pivotResultFields"], json!(["A_amount", "B_amount", evil]), "{}", db.engine());
    assert_eq!(page["rows"], 2);
    let rows = page["data"].as_array().unwrap();
    assert_eq!(rows[0]["region"], "east");
    assert_eq!(num(&rows[0]["A_amount"]), 10.0);
    assert_eq!(num(&rows[0]["B_amount"]), 5.0);
    assert_eq!(num(&rows[0][evil]), 2.0);
    assert_eq!(rows[1]["region"], "west");
    assert_eq!(num(&rows[1]["A_amount"]), 8.0);
    assert!(rows[1]["B_amount"].is_null(), "{page}");
    // A filter narrows the keys too; no row groups is one total row.
    let mut total = request.clone();
    total["rowGroupCols"] = json!([]);
    total["filterModel"] = json!({"region": {"filterType": "text", "type": "equals", "filter": "west"}});
    let page = ws.rows(id, total).await;
    assert_eq!(page["pivotResultFields"], json!(["A_amount"]), "{}: {page}", db.engine());
    assert_eq!(num(&page["data"][0]["A_amount"]), 8.0);
    // Names are checked; a bad aggregate is refused; both as the grid's error row.
    let mut bad = request.clone();
    bad["pivotCols"] = json!([{"id": "product) FROM sales; --"}]);
    assert!(ws.rows(id, bad).await["error"].as_str().unwrap().contains("unknown column"));
    let mut bad = request.clone();
    bad["valueCols"] = json!([{"id": "amount", "aggFunc": "sum(1)); --"}]);
    assert!(ws.rows(id, bad).await["error"].as_str().unwrap().contains("aggFunc"));
    // Too many generated columns: a clear message, not a statement with thousands of columns.
    let many: Vec<String> = (100..400).map(|i| format!("({i}, 'north', 'p{i}', 1)")).collect();
    db.exec(&format!("INSERT INTO sales VALUES {};", many.join(", "))).await;
    let error = ws.rows(id, request).await["error"].as_str().unwrap().to_string();
    assert!(error.contains("more than 200 columns"), "{error}");
    let count = ws.rows(id, json!({})).await["rows"].as_u64().unwrap();
    assert_eq!(count, 305, "the data must be untouched");
}

#[tokio::test]
async fn sqlite_pivot_mode() {
    let dir = tempfile::tempdir().unwrap();
    pivot_mode(Db::sqlite(dir.path(), "pivot")).await;
}

#[tokio::test]
async fn mysql_pivot_mode() {
    let Some(db) = Db::mysql().await else { return };
    pivot_mode(db).await;
}

#[tokio::test]
async fn postgres_pivot_mode() {
    let Some(db) = Db::postgres().await else { return };
    pivot_mode(db).await;
}

/// Pivot Mode in the Table Browser (`getSSRRows`): the same request, bare, and the answer's
/// `pivotResultFields` next to `rowData` (the grid passes the whole answer to `success`).
#[tokio::test]
async fn table_browser_pivot_mode() {
    let s = start().await;
    let db = items_db(s.dir.path(), 14);
    s.add_sqlite("shop", &db, true).await;
    let request = json!({"startRow": 0, "endRow": 500, "pivotMode": true,
        "rowGroupCols": [], "groupKeys": [], "sortModel": [], "filterModel": {},
        "pivotCols": [{"id": "qty", "field": "qty"}],
        "valueCols": [{"id": "price", "field": "price", "aggFunc": "max"}]});
    let (status, page) =
        ssrm(&s, "/widgets/table/rows", &[("connection", "shop"), ("table", "main.items")], request).await;
    assert_eq!(status, 200, "{page}");
    let fields: Vec<String> = (0..7).map(|q| format!("{q}_price")).collect();
    assert_eq!(page["pivotResultFields"], json!(fields), "{page}");
    assert_eq!(page["rowCount"], 1);
    assert_eq!(num(&page["rowData"][0]["0_price"]), 7.0);
    assert_eq!(num(&page["rowData"][0]["6_price"]), 6.5);
}

/// MariaDB and PostgreSQL errors in the Table Browser: the database's own message in the toast.
async fn engine_errors_reach_the_toast(db: Db) {
    db.exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1, 'a');").await;
    let s = start().await;
    let ws = Ws::new(&s, "engine-errors");
    let id = ws.save(&db, "T", "SELECT * FROM t").await;
    assert_eq!(ws.rows(id, json!({})).await["rows"], 1);
    db.exec("DROP TABLE t").await;
    let page = ws.rows(id, json!({"startRow": 0, "endRow": 100})).await;
    assert_eq!(page["rows"], 1, "{page}");
    let message = page["data"][0]["error"].as_str().unwrap().to_lowercase();
    assert!(message.contains("t") && (message.contains("exist") || message.contains("unknown")), "{message}");
    let entry = s.log().await.into_iter().find(|e| e["outcome"] == "error").unwrap();
    assert!(entry["error"].is_string(), "{entry}");
}

#[tokio::test]
async fn mysql_errors_reach_the_grid() {
    let Some(db) = Db::mysql().await else { return };
    engine_errors_reach_the_toast(db).await;
}

#[tokio::test]
async fn postgres_errors_reach_the_grid() {
    let Some(db) = Db::postgres().await else { return };
    engine_errors_reach_the_toast(db).await;
}
