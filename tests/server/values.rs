//! Every SQLite value kind against docs/type-mapping.md, checked on the exact bytes of the body.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn every_sqlite_value_kind_becomes_flat_json() {
    let s = start().await;
    let path = s.dir.path().join("values.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE v (big INTEGER, small INTEGER, neg INTEGER, r REAL, t TEXT, b BLOB, n TEXT,
                         flag BOOLEAN, d DATE, j JSON, dec NUMERIC);
         INSERT INTO v VALUES (9223372036854775807, 9007199254740991, -9007199254740993, 0.1,
                               'Zürich — 東京 😀 \"q\"', x'00ff10', NULL, 1, '2024-05-01', '{\"a\": [1, 2]}', 12.5);",
    )
    .unwrap();
    drop(conn);
    s.add_sqlite("v", &path, true).await;
    let (status, _, body) = s.query_text(json!({"connection": "v", "sql": "select * from v"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        concat!(
            r#"[{"big":"9223372036854775807","small":9007199254740991,"neg":"-9007199254740993","r":0.1,"#,
            r#""t":"Zürich — 東京 😀 \"q\"","b":"AP8Q","n":null,"flag":true,"d":"2024-05-01","#,
            r#""j":"{\"a\": [1, 2]}","dec":12.5}]"#
        )
    );
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed[0]["t"], "Zürich — 東京 😀 \"q\"");
}

#[tokio::test]
async fn duplicate_names_are_suffixed_and_column_order_is_kept() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let (status, _, body) = s
        .query_text(json!({"connection": "shop",
            "sql": "select a.qty as z, a.id, b.id, a.name as a, 1 as id, 1.5e300 * 1e300 as inf, 0.0/0.0 as nan from items a join items b"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"[{"z":1,"id":1,"id_2":1,"a":"item 1","id_3":1,"inf":null,"nan":null}]"#);
}

#[tokio::test]
async fn floats_use_shortest_round_trip_text() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let (_, _, body) = s
        .query_text(json!({"connection": "shop", "sql": "select 448.638 as a, 0.1 + 0.2 as b, 1e21 as c, -0.0 as d, 3.0 as e"}))
        .await;
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed[0]["a"].as_f64(), Some(448.638));
    assert_eq!(parsed[0]["b"].as_f64(), Some(0.1 + 0.2));
    assert!(body.contains(r#""a":448.638,"b":0.30000000000000004"#), "{body}");
    assert!(body.contains(r#""e":3.0"#), "{body}");
}

#[tokio::test]
async fn empty_results_and_csv_values() {
    let s = start().await;
    let db = items_db(s.dir.path(), 2);
    s.add_sqlite("shop", &db, true).await;
    let (status, headers, body) =
        s.query_text(json!({"connection": "shop", "sql": "select * from items where id > 100"})).await;
    assert_eq!((status, body.as_str()), (200, "[]"));
    assert_eq!(headers["x-truncated"], "false");
    let (_, _, csv) = s
        .query_text(json!({"connection": "shop", "format": "csv",
            "sql": "select 'a,b' as t, x'0102' as b, null as n, 9223372036854775807 as big, 'say \"hi\"' as q"}))
        .await;
    assert_eq!(csv, "t,b,n,big,q\n\"a,b\",AQI=,,9223372036854775807,\"say \"\"hi\"\"\"\n");
}

#[tokio::test]
async fn text_that_is_not_utf8_is_an_error_naming_the_column_not_a_replacement() {
    let s = start().await;
    let path = s.dir.path().join("bad_text.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (name TEXT); INSERT INTO t VALUES (CAST(x'66ff6f' AS TEXT));")
        .unwrap();
    s.add_sqlite("bad", &path, true).await;
    let (status, _, body) =
        s.post("/api/v1/query", json!({"connection": "bad", "sql": "select name from t"})).await;
    assert_eq!(status, 500, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("column \"name\"") && detail.contains("not UTF-8"), "{detail}");
    assert!(!detail.contains('\u{fffd}'), "{detail}");
    // The server is still there, and the cast the message suggests reads the bytes.
    let (status, _, body) =
        s.query_text(json!({"connection": "bad", "sql": "select cast(name as blob) as raw from t"})).await;
    assert_eq!((status, body.as_str()), (200, r#"[{"raw":"Zv9v"}]"#));
}
