//! The other widget calls as a dashboard in use makes them: GET widgets (`useJsonData`) with
//! their params in the query string built by `cleanSearchParams` (empty values dropped, `+` for
//! a space), and the SQL Editor (the Omni widget component) posting
//! `{<prompt param>: editor text, ...params}`.

use crate::common::*;
use crate::search;
use serde_json::json;

/// `useJsonData` + `cleanSearchParams`: the SQL Query widget's params, an emptied `limit`
/// dropped (the default applies), SQL with spaces, `+` and `%` intact.
#[tokio::test]
async fn get_widgets_read_clean_search_params() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("my shop", &db, true).await;
    let sql = "SELECT id, name || '+%' AS tag FROM items WHERE id <= 2 ORDER BY id";
    let url =
        format!("/widgets/sql/query{}", search(&[("connection", "my shop"), ("sql", sql), ("limit", "")]));
    let (status, _, rows) = s.get(&url).await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows, json!([{"id": 1, "tag": "item 1+%"}, {"id": 2, "tag": "item 2+%"}]));
    // Errors show `detail` (the widget's error view reads detail, message or error).
    let (status, _, body) = s.get(&format!("/widgets/sql/query{}", search(&[("sql", sql)]))).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("connection"), "{body}");
    // The Tables, Columns and Query Log widgets the same way.
    let (status, _, tables) =
        s.get(&format!("/widgets/schema/tables{}", search(&[("connection", "my shop")]))).await;
    assert_eq!(status, 200, "{tables}");
    let (status, _, columns) = s
        .get(&format!(
            "/widgets/schema/columns{}",
            search(&[("connection", "my shop"), ("table", "main.items")])
        ))
        .await;
    assert_eq!((status, columns.as_array().map(Vec::len)), (200, Some(4)), "{columns}");
    let (status, _, log) = s.get(&format!("/widgets/log{}", search(&[("limit", "")]))).await;
    assert_eq!(status, 200, "{log}");
}

/// The Omni widget: the editor text under the prompt param's name, the other params beside it
/// (numbers as the dashboard stored them), rows back as a table; a failing statement comes back
/// as text next to the SQL rather than an HTTP error the widget would show as "Error in
/// response".
#[tokio::test]
async fn omni_posts_the_prompt_with_its_params() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("shop", &db, true).await;
    for limit in [json!(2), json!("2")] {
        let (status, _, answer) = s
            .post(
                "/widgets/sql/omni",
                json!({"prompt": "SELECT id FROM items ORDER BY id", "connection": "shop", "limit": limit}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["content"], json!([{"id": 1}, {"id": 2}]), "{limit}");
    }
    let (status, _, answer) =
        s.post("/widgets/sql/omni", json!({"prompt": "SELECT nope FROM items", "connection": "shop"})).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data_format"]["parse_as"], "text");
    assert!(answer["content"].as_str().unwrap().contains("nope"), "{answer}");
}
