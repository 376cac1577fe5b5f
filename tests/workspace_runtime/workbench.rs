//! The SQL workbench (`ssrm_advanced`) as a dashboard in use drives it, and the schema
//! autocomplete Workspace reads when the backend is added.
//!
//! What the frontend sends, replayed here: `useSSRMGridOptions` posts the first page through
//! `useJsonData` as `{startRow: 0, endRow: 500, query}`; every later page goes through
//! `getRows` → `getQueryState(params, request, sqlQuery)` → `getSSRRows`, whose body is the AG
//! Grid request plus `query` and `disableCache: false`, and whose URL carries the widget's other
//! params (`connection`) through `cleanSearchParams`. `{{param}}`s the user defined in the
//! editor are already replaced by `getNewQuery` before anything is sent. `MonacoEditor` reads
//! `/table-schemas` (fetched by `validateBackend`) for table and column completion.

use crate::common::*;
use crate::{grid_error, num, ssrm, Db};
use serde_json::{json, Value};
use std::time::Instant;

const ENDPOINT: &str = "/widgets/sql/workbench";
const ROWS: i64 = 1_000_000;
/// The user's SQL in the editor: any read-only statement, here with a computed column.
const SQL: &str = "SELECT id, name, grp, price, price * 2 AS double_price FROM big";

/// `getQueryState(params, request, sqlQuery)`: the grid request with `query` and
/// `disableCache: false` added, exactly as `getRows` posts it.
fn query_state(request: Value, sql: &str) -> Value {
    let mut body = request;
    body["query"] = json!(sql);
    body["disableCache"] = json!(false);
    body
}

/// The bare AG Grid request of a root-level page (`IServerSideGetRowsRequest`).
fn grid_request(start: u64, end: u64, sort: Value, filter: Value) -> Value {
    json!({"startRow": start, "endRow": end, "sortModel": sort, "filterModel": filter,
           "rowGroupCols": [], "groupKeys": [], "valueCols": [], "pivotCols": [], "pivotMode": false})
}

fn ids(page: &Value) -> Vec<i64> {
    page["rowData"]
        .as_array()
        .unwrap_or_else(|| panic!("no rowData: {page}"))
        .iter()
        .map(|r| num(&r["id"]) as i64)
        .collect()
}

/// The rows of `big` are a function of `id`; this is what the database must return for the
/// sorted and filtered request below, computed without it.
fn expected_filtered() -> Vec<i64> {
    let price = |id: i64| (id % 1000) as f64 * 0.25;
    let mut ids: Vec<i64> = (1..=ROWS).filter(|id| id % 100 < 50 && id.to_string().contains("77")).collect();
    ids.sort_by(|a, b| price(*b).total_cmp(&price(*a)).then(a.cmp(b)));
    ids
}

/// The sorted, filtered request: a number filter on `grp` and a text filter on `name`, sorted
/// by `price` descending then `id`.
fn sorted_filtered(start: u64, end: u64) -> Value {
    grid_request(
        start,
        end,
        json!([{"colId": "price", "sort": "desc"}, {"colId": "id", "sort": "asc"}]),
        json!({"grp": {"filterType": "number", "type": "lessThan", "filter": 50},
               "name": {"filterType": "text", "type": "contains", "filter": "77"}}),
    )
}

async fn timed(s: &TestServer, connection: &str, body: Value) -> (Value, f64) {
    let started = Instant::now();
    let (status, page) = ssrm(s, ENDPOINT, &[("connection", connection)], body).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200, "{page}");
    assert!(page.get("error").is_none(), "{page}");
    (page, ms)
}

/// The whole run against one engine's `big` table of a million rows: the first load, a sorted
/// and filtered page, the last page, a 5,000-row page (the grid's largest page size: no
/// 1,000-row cap), and row grouping. Prints the timings.
// Printing the timings is what this run is for; the lint allows it only in test functions.
#[allow(clippy::print_stdout)]
async fn million_rows(s: &TestServer, engine: &str, connection: &str) {
    // `useJsonData`'s first load: `{startRow: 0, endRow: 500, query}`; only `rowData` is read.
    let (first, first_ms) = timed(s, connection, json!({"startRow": 0, "endRow": 500, "query": SQL})).await;
    assert_eq!(first["rowCount"], ROWS, "{engine}");
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 500, "{engine}");
    assert_eq!(num(&first["rowData"][0]["double_price"]), num(&first["rowData"][0]["price"]) * 2.0);

    // `getRows` → `getSSRRows`: the second page of a sorted, filtered result.
    let expected = expected_filtered();
    let (page, sorted_ms) = timed(s, connection, query_state(sorted_filtered(500, 1000), SQL)).await;
    assert_eq!(page["rowCount"].as_u64(), Some(expected.len() as u64), "{engine}");
    let end = expected.len().min(1000);
    assert_eq!(ids(&page), expected[500.min(end)..end].to_vec(), "{engine}: sorted and filtered page");
    let (page, _) = timed(s, connection, query_state(sorted_filtered(0, 500), SQL)).await;
    assert_eq!(ids(&page), expected[..500.min(expected.len())].to_vec(), "{engine}: first filtered page");

    // The last page of the whole table, sorted the other way.
    let last = grid_request(999_500, 1_000_000, json!([{"colId": "id", "sort": "desc"}]), json!({}));
    let (page, last_ms) = timed(s, connection, query_state(last, SQL)).await;
    assert_eq!(ids(&page), (1..=500).rev().collect::<Vec<i64>>(), "{engine}: last page");

    // The grid's largest page size (`paginationPageSizeSelector`: 5,000).
    let big_page = grid_request(10_000, 15_000, json!([{"colId": "id", "sort": "asc"}]), json!({}));
    let (page, big_ms) = timed(s, connection, query_state(big_page, SQL)).await;
    assert_eq!(ids(&page), (10_001..=15_000).collect::<Vec<i64>>(), "{engine}: 5,000-row page");

    // Row grouping: the groups, then the rows of one group, a page at a time.
    let mut groups = grid_request(0, 500, json!([]), json!({}));
    groups["rowGroupCols"] = json!([{"id": "grp", "field": "grp", "displayName": "grp"}]);
    groups["valueCols"] = json!([{"id": "price", "field": "price", "aggFunc": "sum"}]);
    let (page, group_ms) = timed(s, connection, query_state(groups.clone(), SQL)).await;
    assert_eq!(page["rowCount"], 100, "{engine}: groups");
    let seven = page["rowData"].as_array().unwrap().iter().find(|r| num(&r["grp"]) == 7.0).unwrap();
    // Group 7 holds ids 7, 107, ..., whose prices repeat every ten ids: 1,000 rounds of the same ten.
    let ten: f64 = (0..10).map(|k| ((7 + 100 * k) % 1000) as f64 * 0.25).sum();
    assert_eq!(num(&seven["price"]), ten * 1000.0, "{engine}: sum of a group");
    groups["groupKeys"] = json!([7]);
    groups["sortModel"] = json!([{"colId": "id", "sort": "asc"}]);
    let (page, _) = timed(s, connection, query_state(groups, SQL)).await;
    assert_eq!(page["rowCount"], 10_000, "{engine}: rows of a group");
    assert_eq!(ids(&page)[..3], [7i64, 107, 207], "{engine}");

    println!(
        "workbench on {engine}, {ROWS} rows: first 500-row page {first_ms:.0} ms; sorted+filtered 500-row page \
         {sorted_ms:.0} ms; last 500-row page (sorted desc) {last_ms:.0} ms; 5,000-row page {big_ms:.0} ms; \
         100 groups {group_ms:.0} ms"
    );
}

#[tokio::test]
async fn workbench_pages_sorts_filters_and_groups_a_million_rows_on_sqlite() {
    let s = start().await;
    let path = s.dir.path().join("big.db");
    let started = Instant::now();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER, price REAL);
             WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < {ROWS})
             INSERT INTO big SELECT id, 'row ' || id, id % 100, (id % 1000) * 0.25 FROM n;"
        ))
        .unwrap();
    println!("sqlite: built {ROWS} rows in {:.1} s", started.elapsed().as_secs_f64());
    s.add_sqlite("big data", &path, true).await;
    million_rows(&s, "sqlite", "big data").await;
}

#[tokio::test]
async fn workbench_pages_sorts_filters_and_groups_a_million_rows_on_mariadb() {
    let Some(db) = Db::mysql().await else { return };
    let Db::Mysql(my) = &db else { unreachable!() };
    let started = Instant::now();
    my.exec_all(&[
        "CREATE TABLE d (n INT)",
        "INSERT INTO d VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
        "CREATE TABLE big (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, grp INT, price DOUBLE)",
        "INSERT INTO big SELECT id, CONCAT('row ', id), id % 100, (id % 1000) * 0.25 FROM \
         (SELECT a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n + 100000 * g.n + 1 AS id \
          FROM d a, d b, d c, d e, d f, d g) t",
    ])
    .await;
    println!("mariadb: built {ROWS} rows in {:.1} s", started.elapsed().as_secs_f64());
    let s = start().await;
    let (status, _, created) = s
        .post(
            "/api/v1/connections",
            json!({"name": "maria", "kind": "mysql", "host": my.host, "port": my.port, "database": my.db,
                   "user": my.user, "password": my.password, "tls": "disable", "read_only": true}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    million_rows(&s, "mariadb", "maria").await;
}

#[tokio::test]
async fn workbench_pages_sorts_filters_and_groups_a_million_rows_on_postgres() {
    let Some(db) = Db::postgres().await else { return };
    let Db::Postgres(pg) = &db else { unreachable!() };
    let started = Instant::now();
    pg.exec_all(&[
        "CREATE TABLE big AS SELECT g AS id, 'row ' || g AS name, g % 100 AS grp, \
         ((g % 1000) * 0.25)::float8 AS price FROM generate_series(1, 1000000) g",
        "ALTER TABLE big ADD PRIMARY KEY (id)",
        "ANALYZE big",
    ])
    .await;
    println!("postgres: built {ROWS} rows in {:.1} s", started.elapsed().as_secs_f64());
    let s = start().await;
    // A connection that allows writes: the workbench refuses them anyway.
    let (status, _, created) = s
        .post(
            "/api/v1/connections",
            json!({"name": "pg", "kind": "postgres", "host": pg.host, "port": pg.port, "database": pg.db,
                   "user": pg.user, "password": pg.password, "tls": "prefer", "read_only": false}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    million_rows(&s, "postgres", "pg").await;
    // A `{{name}}` bound from the query string ($1) under the grid's own filter and sort ($2...).
    let mut expected: Vec<i64> =
        (1..=ROWS).filter(|id| id % 100 < 50 && id.to_string().starts_with("77")).collect();
    expected.sort_by(|a, b| ((b % 1000) as f64).total_cmp(&((a % 1000) as f64)).then(a.cmp(b)));
    let request = grid_request(
        0,
        500,
        json!([{"colId": "price", "sort": "desc"}, {"colId": "id", "sort": "asc"}]),
        json!({"grp": {"filterType": "number", "type": "lessThan", "filter": 50}}),
    );
    let sql = "SELECT id, name, grp, price FROM big WHERE name LIKE {{prefix}}";
    let (status, page) =
        ssrm(&s, ENDPOINT, &[("connection", "pg"), ("prefix", "row 77%")], query_state(request, sql)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rowCount"].as_u64(), Some(expected.len() as u64), "{page}");
    assert_eq!(ids(&page), expected[..500].to_vec());
    for write in [
        "WITH gone AS (DELETE FROM big RETURNING id) SELECT * FROM gone",
        "DELETE FROM big",
        "UPDATE big SET grp = 0 RETURNING id",
        "SELECT 1; TRUNCATE big",
        "CREATE TABLE stolen AS SELECT * FROM big",
    ] {
        let (status, body) = ssrm(
            &s,
            ENDPOINT,
            &[("connection", "pg")],
            query_state(grid_request(0, 500, json!([]), json!({})), write),
        )
        .await;
        grid_error(status, &body);
    }
    assert_eq!(pg.scalar("SELECT count(*) FROM big WHERE grp <> 0").await, ROWS - 10_000);
}

/// Every way a body can be wrong, on a connection that allows writes: each is a 200 with
/// `error` (`getRows` shows it in the "Error fetching data" toast; any other status is a blank
/// grid), the database is untouched, and the server keeps serving.
#[tokio::test]
async fn workbench_refuses_writes_and_bad_bodies_in_band() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("rw", &db, false).await;
    let before = file_digest(&db);
    let page = |sql: &str| query_state(grid_request(0, 500, json!([]), json!({})), sql);
    // (the body, what the error must mention)
    let mut cases: Vec<(Value, &str)> = [
        "DELETE FROM items",
        "INSERT INTO items VALUES (9, 'x', 1, 1)",
        "UPDATE items SET qty = 0",
        "DROP TABLE items",
        "SELECT 1; DELETE FROM items",
        "WITH x AS (SELECT 1) DELETE FROM items",
        "CREATE TABLE t AS SELECT * FROM items",
        "ATTACH DATABASE 'elsewhere.db' AS other",
        "PRAGMA writable_schema = 1",
        "VACUUM",
    ]
    .into_iter()
    .map(|sql| (page(sql), ""))
    .collect();
    cases.extend([
        (page("SHOW TABLES"), "SELECT"),
        (page(""), "query"),
        (json!({"startRow": 0, "endRow": 500}), "query"),
        (json!({"query": 5}), "text"),
        (json!({"query": ["SELECT 1"]}), "text"),
        (page("SELECT * FROM missing_table"), "missing_table"),
        (page("SELECT * FROM items WHERE name = {{name}}"), "name missing"),
        (page("SELECT * FROM items WHERE name = {{name"), ""),
        (
            query_state(
                grid_request(0, 5, json!([{"colId": "id; DROP TABLE items", "sort": "asc"}]), json!({})),
                "SELECT * FROM items",
            ),
            "unknown column",
        ),
        (
            query_state(
                grid_request(
                    0,
                    5,
                    json!([]),
                    json!({"price": {"filterType": "number", "type": "equals", "filter": "1 OR 1=1"}}),
                ),
                "SELECT * FROM items",
            ),
            "not a number",
        ),
        (json!({"query": "SELECT 1", "startRow": -1}), "invalid row request"),
        (json!({"query": "SELECT 1", "sortModel": "price"}), "invalid row request"),
        (json!({"query": format!("SELECT '{}'", "x".repeat(200_000))}), ""),
    ]);
    for (body, says) in cases {
        let (status, answer) = ssrm(&s, ENDPOINT, &[("connection", "rw")], body.clone()).await;
        let error = grid_error(status, &answer);
        assert!(error.contains(says), "{}: {error:?} should mention {says:?}", body["query"]);
    }
    // Bodies that are not a grid request at all, and a connection that is missing or unknown.
    for raw in ["not json", "[1, 2]", "\"SELECT 1\"", "{\"query\": "] {
        let response = s
            .client
            .post(format!("{}?connection=rw", s.at(ENDPOINT)))
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let (status, _, answer) = into_parts(response).await;
        grid_error(status, &answer);
    }
    let (status, answer) = ssrm(&s, ENDPOINT, &[], page("SELECT 1")).await;
    assert!(grid_error(status, &answer).contains("connection"));
    let (status, answer) = ssrm(&s, ENDPOINT, &[("connection", "nope")], page("SELECT 1")).await;
    assert!(grid_error(status, &answer).contains("nope"));

    assert_eq!(file_digest(&db), before, "the database file changed");
    let (status, _, _) = s.get("/health").await;
    assert_eq!(status, 200);
    let (status, answer) = ssrm(&s, ENDPOINT, &[("connection", "rw")], page("SELECT * FROM items")).await;
    assert_eq!((status, answer["rowCount"].as_u64()), (200, Some(3)), "{answer}");
    // The validation pass merges the params into the body; the body is the fallback.
    let (status, answer) = ssrm(
        &s,
        ENDPOINT,
        &[],
        json!({"connection": "rw", "query": "SELECT id FROM items", "startRow": 0, "endRow": 2}),
    )
    .await;
    assert_eq!((status, ids(&answer)), (200, vec![1, 2]), "{answer}");
    // A preview posting `{query}` alone gets the grid's first page.
    let (status, answer) =
        ssrm(&s, ENDPOINT, &[("connection", "rw")], json!({"query": "SELECT * FROM items"})).await;
    assert_eq!((status, ids(&answer)), (200, vec![1, 2, 3]), "{answer}");
}

/// `validateBackend` GETs `/table-schemas` and `/semantic-views` when the backend is added (no
/// headers beyond the backend's own); `MonacoEditor` completes from the answer: an object keyed
/// by the table name as written in SQL, each `{database, schema, tableName, columns: [{name,
/// type}]}`, and with `schemaName: "ALL_DATABASES_ALL_SCHEMAS_ALL_TABLES"` on the widget it
/// offers every entry.
#[tokio::test]
async fn table_schemas_answer_the_shape_the_sql_editor_completes_from() {
    let s = start().await;
    let items = items_db(s.dir.path(), 3);
    s.add_sqlite("alpha", &items, true).await;
    let other = s.dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch(
            "CREATE TABLE items (sku TEXT); CREATE TABLE orders (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, placed DATE);",
        )
        .unwrap();
    s.add_sqlite("beta", &other, true).await;

    let response = reqwest::get(s.at("/table-schemas")).await.unwrap();
    let (status, _, schemas) = into_parts(response).await;
    assert_eq!(status, 200, "{schemas}");
    let names: Vec<&String> = schemas.as_object().unwrap().keys().collect();
    for key in ["items", "main.items", "cheap", "main.cheap", "orders", "main.orders"] {
        assert!(schemas.get(key).is_some(), "{key} missing from {names:?}");
    }
    let columns = |key: &str| -> Vec<(String, String)> {
        schemas[key]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["type"].as_str().unwrap().to_string()))
            .collect()
    };
    // `items` is in both connections: the first by name wins, for both spellings.
    for key in ["items", "main.items"] {
        assert_eq!(schemas[key]["tableName"], "items");
        assert_eq!(schemas[key]["connection"], "alpha");
        let names: Vec<String> = columns(key).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["id", "name", "price", "qty"]);
    }
    assert_eq!((&schemas["items"]["database"], &schemas["items"]["schema"]), (&json!("items"), &json!("")));
    assert_eq!(
        (&schemas["main.items"]["database"], &schemas["main.items"]["schema"]),
        (&json!("main"), &json!("items"))
    );
    assert_eq!(
        columns("orders"),
        [("id", "INTEGER"), ("item_id", "INTEGER"), ("placed", "DATE")]
            .map(|(n, t)| (n.to_string(), t.to_string()))
    );
    assert_eq!(schemas["orders"]["columns"][1]["null?"], "N");
    assert_eq!(schemas["cheap"]["kind"], "view");

    let (status, _, views) = s.get("/semantic-views").await;
    assert_eq!((status, views), (200, json!({})));

    // The widget that reads them, and its place in the app and the connection group.
    let (_, _, widgets) = s.get("/widgets.json").await;
    let widget = &widgets["dc_sql_workbench"];
    assert_eq!(widget["type"], "ssrm_advanced");
    assert_eq!(widget["endpoint"], "widgets/sql/workbench");
    assert_eq!(widget["schemaName"], "ALL_DATABASES_ALL_SCHEMAS_ALL_TABLES");
    let query = widget["params"].as_array().unwrap().iter().find(|p| p["paramName"] == "query").unwrap();
    assert_eq!((&query["language"], &query["show"]), (&json!("sql"), &json!(false)));
    assert!(widget["params"].as_array().unwrap().iter().any(|p| p["paramName"] == "connection"));
    let (_, _, apps) = s.get("/apps.json").await;
    let app = &apps[0];
    assert!(app["tabs"]["sql"]["layout"].as_array().unwrap().iter().any(|i| i["i"] == "dc_sql_workbench"));
    let connection_group =
        app["groups"].as_array().unwrap().iter().find(|g| g["paramName"] == "connection").unwrap();
    assert!(connection_group["widgetIds"].as_array().unwrap().contains(&json!("dc_sql_workbench")));
}

/// `useAutoMetadataUpdate` posts the editor's SQL through `getSSRRows` with the widget's stored
/// params (the editor's parameter values among them) in the query string and `{startRow: 0,
/// endRow: 500, query}` as the body: a `{{name}}` still in the SQL is bound from the query
/// string, as a value, never as SQL. Pivot Mode puts placeholders of its own before the
/// subquery, which positional `?` placeholders must follow.
#[tokio::test]
async fn workbench_binds_parameters_left_in_the_sql_from_the_query_string() {
    let s = start().await;
    let db = items_db(s.dir.path(), 14);
    s.add_sqlite("shop", &db, true).await;
    let sql = "SELECT * FROM items WHERE name = {{item}}";
    let body = json!({"startRow": 0, "endRow": 500, "query": sql});
    let (status, page) =
        ssrm(&s, ENDPOINT, &[("connection", "shop"), ("item", "item 2")], body.clone()).await;
    assert_eq!((status, ids(&page)), (200, vec![2]), "{page}");
    for attack in ["item 1' OR '1'='1", "item 1\" OR 1=1 --", "') OR 1=1 --", "item 1; DROP TABLE items"] {
        let (status, page) =
            ssrm(&s, ENDPOINT, &[("connection", "shop"), ("item", attack)], body.clone()).await;
        assert_eq!((status, page["rowCount"].as_u64()), (200, Some(0)), "{attack}: {page}");
    }
    // Unused query-string params are ignored; a `{{name}}` in a string literal is text.
    let (status, page) = ssrm(
        &s,
        ENDPOINT,
        &[("connection", "shop"), ("other", "x")],
        json!({"query": "SELECT '{{item}}' AS literal, id FROM items WHERE id = 1"}),
    )
    .await;
    assert_eq!((status, &page["rowData"][0]["literal"]), (200, &json!("{{item}}")), "{page}");

    let pivot = json!({"startRow": 0, "endRow": 500, "query": "SELECT * FROM items WHERE name <> {{skip}}",
        "disableCache": false, "pivotMode": true, "rowGroupCols": [{"id": "name", "field": "name"}],
        "pivotCols": [{"id": "qty", "field": "qty"}], "valueCols": [{"id": "price", "field": "price", "aggFunc": "sum"}],
        "groupKeys": [], "sortModel": [], "filterModel": {"id": {"filterType": "number", "type": "lessThan", "filter": 10}}});
    let (status, page) = ssrm(&s, ENDPOINT, &[("connection", "shop"), ("skip", "item 1")], pivot).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.get("error").is_none(), "{page}");
    assert_eq!(page["rowCount"], 8, "{page}");
    let three = page["rowData"].as_array().unwrap().iter().find(|r| r["name"] == "item 3").unwrap();
    assert_eq!(num(&three["3_price"]), 1.5, "{page}");
    assert!(page["pivotResultFields"].as_array().unwrap().contains(&json!("3_price")), "{page}");
}
