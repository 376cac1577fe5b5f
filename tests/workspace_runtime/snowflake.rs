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

/// A programmatic access token over HTTP: typed into the native dialog's password field, saved
/// through our API as `pat`, and through the Workspace add-connection form. It signs in, a wrong
/// one is refused with a detail saying what to check, and the token shows up in no response and
/// no query log.
#[tokio::test]
async fn snowflake_programmatic_access_token_over_http() {
    let Some(sf) = fakesnow::adapter() else { return };
    let user = "WS_PAT";
    let pat = "pat-ws-0123456789-good";
    let wrong = "pat-ws-9876543210-bad";
    sf.setup(json!({"users": [{"account": "fake", "user": user, "pat": pat,
        "roles": ["PUBLIC"], "warehouses": ["FAKESNOW_WAREHOUSE"]}]}))
        .await;
    let s = start().await;
    let ws = Ws::new(&s, "snowflake-pat-user");
    let mut seen = Vec::new();

    // The native dialog has one secret field, `password`: a PAT goes there.
    let login = |secret: &str| json!({"account_identifier": "fake", "username": user, "password": secret, "base_url": sf.url});
    let (status, roles) = ws.post("/snowflake/roles", login(pat)).await;
    assert_eq!((status, roles.clone()), (200, json!(["PUBLIC"])), "{roles}");
    let (status, refused) = ws.post("/snowflake/roles", login(wrong)).await;
    assert!((400..500).contains(&status), "{status} {refused}");
    let detail = refused["detail"].as_str().unwrap_or_else(|| panic!("no detail: {refused}"));
    assert!(detail.contains("programmatic access token in the password field"), "{detail}");
    seen.push(refused);

    // Our API: `pat` is a secret of its own, kept in the keyring.
    let connection = |name: &str, token: &str| {
        json!({"name": name, "kind": "snowflake", "account": "fake", "user": user, "pat": token,
            "base_url": sf.url, "database": "DB_WS_PAT", "schema": "PUBLIC"})
    };
    let (status, _, created) = s.post("/api/v1/connections", connection("sf-pat", pat)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["has_pat"], true, "{created}");
    seen.push(created);
    let (status, _, body) = s.query_text(json!({"connection": "sf-pat", "sql": "SELECT 'ok' AS R"})).await;
    assert_eq!(status, 200, "{body}");
    seen.push(Value::String(body));
    let (status, _, refused) = s.post("/api/v1/connections", connection("sf-pat-wrong", wrong)).await;
    assert!((400..500).contains(&status), "{status} {refused}");
    let detail = refused["detail"].as_str().unwrap_or_else(|| panic!("no detail: {refused}"));
    assert!(
        detail.contains("with the programmatic access token") && detail.contains("expired or revoked"),
        "{detail}"
    );
    seen.push(refused);

    // Bad input: a PAT login without the token, a token that is not text.
    let mut missing = connection("sf-pat-missing", pat);
    missing["authenticator"] = json!("programmatic_access_token");
    missing.as_object_mut().unwrap().remove("pat");
    let mut not_text = connection("sf-pat-number", pat);
    not_text["pat"] = json!(12345);
    for (body, says) in [(missing, "\"pat\""), (not_text, "pat")] {
        let (status, _, refused) = s.post("/api/v1/connections", body).await;
        assert!((400..500).contains(&status), "{status} {refused}");
        assert!(refused["detail"].as_str().unwrap_or_default().contains(says), "{refused}");
    }

    // The Workspace form: `pat` is one of its inputs, typed in clear (so it says so).
    let (_, _, widgets) = s.get("/widgets.json").await;
    let inputs = widgets["dc_connections"]["params"][0]["inputParams"].clone();
    for name in ["pat", "oauth_token"] {
        let input = inputs.as_array().unwrap().iter().find(|p| p["paramName"] == name).unwrap();
        assert!(input["description"].as_str().unwrap().contains("clear text"), "{input}");
    }
    let account = inputs.as_array().unwrap().iter().find(|p| p["paramName"] == "account").unwrap();
    assert!(account["description"].as_str().unwrap().contains("desktop app"), "key pair: {account}");
    let form = |name: &str, token: &str| {
        json!({"name": name, "kind": "snowflake", "account": "fake", "user": user, "pat": token,
            "base_url": sf.url, "database": "DB_WS_PAT", "schema": "PUBLIC"})
    };
    let body = crate::form::submitted(&s, form("sf-form-pat", pat)).await;
    let (status, _, answer) = s.post("/widgets/connections", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["connection"]["has_pat"], true, "{answer}");
    seen.push(answer);
    let body = crate::form::submitted(&s, form("sf-form-wrong", wrong)).await;
    let (status, _, answer) = s.post("/widgets/connections", body).await;
    assert!((400..500).contains(&status), "{status} {answer}");
    assert!(answer["message"].as_str().unwrap().contains("programmatic access token"), "{answer}");
    seen.push(answer);

    for path in [
        "/api/v1/connections",
        "/api/v1/connections/sf-pat",
        "/api/v1/log",
        "/widgets/log",
        "/widgets/connections",
    ] {
        let (status, _, body) = s.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body);
    }
    assert!(s.log().await.iter().any(|e| e["sql"] == "SELECT 'ok' AS R"), "the query is logged");
    for body in &seen {
        let text = body.to_string();
        assert!(!text.contains(pat) && !text.contains(wrong), "a token leaked: {text}");
    }
    let (_, _, names) = s.get("/api/v1/connections").await;
    let names: Vec<&str> = names.as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| n.contains("wrong")).count(),
        0,
        "refused logins are not saved: {names:?}"
    );
    assert_eq!(s.get("/health").await.0, 200);
}
