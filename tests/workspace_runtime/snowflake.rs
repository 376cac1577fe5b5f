//! The native Snowflake dialogs end to end against the fakesnow adapter, as the frontend's
//! Snowflake dialog drives them (`api/dataConnectors.ts`): roles, then warehouses for a role,
//! then the tables a role and warehouse see (`database/validate`), save, and the grid
//! (`getDatabaseRows`) with its saved order, a pivot and an error row.

use crate::common::*;
use crate::{num, Ws};
use dc_test_support::fakesnow;
use serde_json::{json, Value};

#[tokio::test]
async fn snowflake_dialogs_end_to_end() {
    let Some(sf) = fakesnow::adapter() else { return };
    let user = "WS_RUNTIME";
    let password = "pw-ws-runtime";
    sf.setup(json!({"users": [{"account": "fake", "user": user, "password": password,
        "roles": ["PUBLIC", "ANALYST"], "warehouses": ["FAKESNOW_WAREHOUSE"]}]}))
        .await;
    // The data, made by the same user over the engine directly.
    let engine = sf
        .engine(json!({"user": user, "password": password, "database": "DB_WS_RUNTIME", "warehouse": "FAKESNOW_WAREHOUSE"}))
        .await;
    for sql in [
        "CREATE TABLE SALES (ID INT, REGION VARCHAR(10), PRODUCT VARCHAR(10), AMOUNT INT)",
        "INSERT INTO SALES VALUES (1, 'east', 'A', 10), (2, 'east', 'B', 5), (3, 'west', 'A', 7)",
        "CREATE VIEW EAST AS SELECT * FROM SALES WHERE REGION = 'east'",
    ] {
        dc_test_support::engine::output(&*engine, sql).await;
    }
    let s = start().await;
    let ws = Ws::new(&s, "snowflake-user");
    // The dialog's credentials; `base_url` points the account at the adapter.
    let login =
        json!({"account_identifier": "fake", "username": user, "password": password, "base_url": sf.url});
    let with = |extra: Value| {
        let mut body = login.clone();
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let (status, roles) = ws.post("/snowflake/roles", login.clone()).await;
    assert_eq!((status, roles.clone()), (200, json!(["ANALYST", "PUBLIC"])), "{roles}");
    let (status, warehouses) = ws.post("/snowflake/warehouses", with(json!({"role": "ANALYST"}))).await;
    assert_eq!((status, warehouses.clone()), (200, json!(["FAKESNOW_WAREHOUSE"])), "{warehouses}");
    let (status, tables) = ws
        .post(
            "/snowflake/database/validate",
            with(json!({"role": "ANALYST", "warehouse": "FAKESNOW_WAREHOUSE"})),
        )
        .await;
    assert_eq!(status, 200, "{tables}");
    let ours: Vec<&Value> =
        tables.as_array().unwrap().iter().filter(|t| t["database"] == "DB_WS_RUNTIME").collect();
    assert_eq!(
        ours,
        vec![
            &json!({"database": "DB_WS_RUNTIME", "schema": "PUBLIC", "table": "EAST"}),
            &json!({"database": "DB_WS_RUNTIME", "schema": "PUBLIC", "table": "SALES"}),
        ],
        "{tables}"
    );
    // Only the named database when the dialog names one.
    let (status, one) = ws
        .post(
            "/snowflake/database/validate",
            with(json!({"role": "ANALYST", "warehouse": "FAKESNOW_WAREHOUSE",
            "database": "DB_WS_RUNTIME"})),
        )
        .await;
    assert_eq!((status, one.as_array().map(Vec::len)), (200, Some(2)), "{one}");
    // Save, as the dialog's last step does.
    let (status, item) = ws
        .post(
            "/snowflake/database",
            with(json!({"role": "ANALYST", "warehouse": "FAKESNOW_WAREHOUSE",
            "database": "DB_WS_RUNTIME", "schema": "PUBLIC", "name": "Sales",
            "query": "SELECT ID, REGION, PRODUCT, AMOUNT FROM SALES ORDER BY ID DESC",
            "category": "", "sub_category": "", "description": ""})),
        )
        .await;
    assert_eq!(status, 201, "{item}");
    assert_eq!(
        (item["role"].as_str(), item["warehouse"].as_str()),
        (Some("ANALYST"), Some("FAKESNOW_WAREHOUSE"))
    );
    let id = item["id"].as_i64().unwrap();
    // The grid: the saved order with no sort, a pivot, and an error row.
    let (status, page) =
        ws.post(&format!("/snowflake/query/{id}"), json!({"request": {"startRow": 0, "endRow": 2}})).await;
    assert_eq!(status, 200, "{page}");
    let ids: Vec<f64> = page["data"].as_array().unwrap().iter().map(|r| num(&r["ID"])).collect();
    assert_eq!((ids, page["rows"].as_u64()), (vec![3.0, 2.0], Some(3)), "{page}");
    let pivot = json!({"request": {"startRow": 0, "endRow": 100, "pivotMode": true,
        "rowGroupCols": [{"id": "REGION", "field": "REGION"}], "pivotCols": [{"id": "PRODUCT", "field": "PRODUCT"}],
        "valueCols": [{"id": "AMOUNT", "field": "AMOUNT", "aggFunc": "sum"}], "groupKeys": []}});
    let (status, page) = ws.post(&format!("/snowflake/query/{id}"), pivot).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["pivotResultFields"], json!(["A_AMOUNT", "B_AMOUNT"]), "{page}");
    assert_eq!(num(&page["data"][0]["A_AMOUNT"]), 10.0, "{page}");
    let (status, page) = ws
        .post(
            &format!("/snowflake/query/{id}"),
            json!({"request": {"sortModel": [{"colId": "NOPE", "sort": "asc"}]}}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(page["data"][0]["error"].as_str().unwrap().contains("NOPE"), "{page}");
    // The saved connection's dialogs (`/{id}` forms) list the same.
    let (status, roles) = ws.post(&format!("/snowflake/roles/{id}"), json!({})).await;
    assert_eq!((status, roles), (200, json!(["ANALYST", "PUBLIC"])));
}
