//! Saved queries as dashboards: chart and metric widgets and parameter inputs in widgets.json
//! (checked with the frontend's rules in `widgets.rs`), the "Market data" app that `--demo`
//! ships in apps.json, and the endpoints called as `useJsonData` calls them (query string from
//! `cleanSearchParams`).

use crate::common::*;
use crate::widgets::{check_apps, check_widgets};
use data_connector::demo;
use serde_json::{json, Value};

async fn save(s: &TestServer, body: Value) -> i64 {
    let (status, _, saved) = s.post("/api/v1/queries", body).await;
    assert_eq!(status, 201, "{saved}");
    saved["id"].as_i64().unwrap()
}

#[tokio::test]
async fn chart_and_metric_widgets_pass_the_frontend_rules_and_answer() {
    let s = start().await;
    let db = items_db(s.dir.path(), 12);
    s.add_sqlite("shop", &db, true).await;
    let chart = save(
        &s,
        json!({"connection": "shop", "name": "Prices", "sql": "SELECT id, name, price FROM items WHERE qty >= {{min_qty}}",
               "parameters": [{"name": "min_qty", "type": "number", "default": 2, "label": "Minimum quantity"}],
               "display": {"type": "chart", "chart_type": "line", "x": "id", "y": ["price"]},
               "refresh_interval": 30, "row_limit": 50, "category": "Shop"}),
    )
    .await;
    let metric = save(
        &s,
        json!({"connection": "shop", "name": "Stock", "sql": "SELECT sum(qty) AS total, sum(qty) - 10 AS change FROM items WHERE name IN ({{names}})",
               "parameters": [{"name": "names", "type": "text", "multiple": true, "default": "item 1,item 2",
                               "options_sql": "SELECT name, upper(name) FROM items ORDER BY id"}],
               "display": {"type": "metric", "value": "total", "delta": "change", "label": "Units in stock"}}),
    )
    .await;
    let (_, _, widgets) = s.get("/widgets.json").await;
    assert_eq!(check_widgets(&widgets), Vec::<String>::new());
    let c = &widgets[format!("dc_saved_query_{chart}")];
    assert_eq!(c["type"], "table");
    assert_eq!((c["refetchInterval"].clone(), c["category"].clone()), (json!(30_000), json!("Shop")));
    assert_eq!(
        c["data"]["table"]["chartView"],
        json!({"enabled": true, "chartType": "line", "cellRangeCols": {"line": ["id", "price"]}})
    );
    let roles: Vec<(&str, &str)> = c["data"]["table"]["columnsDefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["field"].as_str().unwrap(), d["chartDataType"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("id", "category"), ("name", "excluded"), ("price", "series")]);
    assert_eq!(
        c["params"],
        json!([{"paramName": "min_qty", "label": "Minimum quantity", "type": "number", "value": 2.0,
                "description": "A number bound to {{min_qty}} in the query"}])
    );
    let m = &widgets[format!("dc_saved_query_{metric}")];
    assert_eq!(m["type"], "metric");
    assert!(m.get("data").is_none(), "{m}");
    let picker = &m["params"][0];
    assert_eq!(picker["type"], "endpoint");
    assert_eq!(picker["multiSelect"], true);
    assert_eq!(picker["optionsEndpoint"], format!("widgets/queries/{metric}/options/param_names"));
    assert_eq!(picker["value"], "item 1,item 2");

    // useJsonData: the chart's rows with the bound value; at most row_limit of them.
    let (status, _, rows) = s.get(&format!("/widgets/queries/{chart}?min_qty=6")).await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!((rows[0]["id"].clone(), rows[0]["price"].as_f64()), (json!(6), Some(3.0)), "{rows}");
    // The metric: `{label, value, delta}` from the first row, a multi-select as one value.
    let (status, _, tile) = s.get(&format!("/widgets/queries/{metric}?names=item+3%2Citem+4")).await;
    assert_eq!(status, 200, "{tile}");
    assert_eq!((tile["label"].clone(), tile["value"].clone(), tile["delta"].clone()), (json!("Units in stock"), json!(7), json!(-3)));
    // The picker's choices from options_sql: first column the value, second the label.
    let (status, _, choices) = s.get(&format!("/widgets/queries/{metric}/options/param_names")).await;
    assert_eq!(status, 200, "{choices}");
    assert_eq!(choices[0], json!({"label": "ITEM 1", "value": "item 1"}));
    assert_eq!(choices.as_array().unwrap().len(), 12);
    let (status, _, nope) = s.get(&format!("/widgets/queries/{metric}/options/param_nope")).await;
    assert_eq!((status, nope["detail"].is_string()), (404, true), "{nope}");
}

/// A save makes the next metric answer carry `refreshBackend: true` (Workspace then re-reads
/// widgets.json, `useJsonData`); reading widgets.json clears it.
#[tokio::test]
async fn a_save_asks_workspace_to_refresh_the_backend() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let metric = save(
        &s,
        json!({"connection": "shop", "name": "Count", "sql": "SELECT count(*) AS n FROM items",
               "display": {"type": "metric", "value": "n"}}),
    )
    .await;
    s.get("/widgets.json").await;
    let (_, _, tile) = s.get(&format!("/widgets/queries/{metric}")).await;
    assert_eq!(tile, json!({"label": "Count", "value": 3}));
    save(&s, json!({"connection": "shop", "name": "New", "sql": "SELECT 1 AS one"})).await;
    let (_, _, tile) = s.get(&format!("/widgets/queries/{metric}")).await;
    assert_eq!(tile["refreshBackend"], true, "{tile}");
    s.get("/widgets.json").await;
    let (_, _, tile) = s.get(&format!("/widgets/queries/{metric}")).await;
    assert!(tile.get("refreshBackend").is_none(), "{tile}");
}

/// `--demo`: the "Market data" app, linked by ticker and dates, starter SQL in `state.params`,
/// every widget and parameter described, and every other saved query on a tab of its own.
#[tokio::test]
async fn the_demo_ships_a_linked_market_data_app() {
    let s = start().await;
    demo::ensure(&s.app).await.unwrap();
    let other = save(&s, json!({"connection": "demo", "name": "My query", "sql": "SELECT ticker FROM companies"})).await;
    let (_, _, widgets) = s.get("/widgets.json").await;
    let (_, _, apps) = s.get("/apps.json").await;
    assert_eq!(check_widgets(&widgets), Vec::<String>::new());
    assert_eq!(check_apps(&apps, &widgets), Vec::<String>::new());

    let market = apps.as_array().unwrap().iter().find(|a| a["name"] == "Market data").expect("the Market data app");
    let layout = market["tabs"]["overview"]["layout"].as_array().unwrap();
    let in_app: Vec<&Value> = layout.iter().map(|item| &widgets[item["i"].as_str().unwrap()]).collect();
    let names: Vec<&str> = in_app.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            demo::COMPANIES_METRIC,
            demo::LAST_DAY_METRIC,
            demo::VOLUME_METRIC,
            demo::PRICE_CHART,
            demo::SECTOR_CHART,
            demo::FINANCIALS,
            "SQL Editor"
        ]
    );
    let kinds: Vec<&str> = in_app.iter().map(|w| w["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["metric", "metric", "metric", "table", "table", "table", "omni"]);
    assert_eq!(in_app[3]["data"]["table"]["chartView"]["chartType"], "line");
    assert_eq!(in_app[4]["data"]["table"]["chartView"]["chartType"], "bar");
    // Linked: the ticker pickers (endpoint params) and both dates, each group naming its widgets.
    let groups = market["groups"].as_array().unwrap();
    let group = |param: &str| groups.iter().find(|g| g["paramName"] == param).unwrap_or_else(|| panic!("no {param} group"));
    assert_eq!(group("ticker")["type"], "endpointParam");
    assert_eq!(group("ticker")["widgetIds"].as_array().unwrap().len(), 2);
    assert_eq!(group("ticker")["defaultValue"], "AAPL");
    for date in ["start_date", "end_date"] {
        assert_eq!(group(date)["type"], "param");
        assert_eq!(group(date)["widgetIds"].as_array().unwrap().len(), 2);
    }
    for g in groups {
        for id in g["widgetIds"].as_array().unwrap() {
            let item = layout.iter().find(|i| &i["i"] == id).unwrap();
            assert!(item["groups"].as_array().unwrap().contains(&g["name"]), "{id} not in {}", g["name"]);
        }
    }
    // Starter SQL and starting values, through state.params.
    let editor = layout.iter().find(|i| i["i"] == "dc_sql_editor").unwrap();
    assert_eq!(editor["state"]["params"]["prompt"], demo::STARTER_SQL);
    let price = layout.iter().find(|i| widgets[i["i"].as_str().unwrap()]["name"] == demo::PRICE_CHART).unwrap();
    assert_eq!(price["state"]["params"], json!({"ticker": "AAPL", "start_date": "2024-01-01", "end_date": "2024-12-31"}));

    // Every widget, and every parameter, tells Copilot what it is.
    for (id, widget) in widgets.as_object().unwrap() {
        assert!(widget["description"].as_str().is_some_and(|d| d.len() > 20), "{id}");
        for param in widget["params"].as_array().into_iter().flatten() {
            assert!(param["description"].as_str().is_some_and(|d| !d.is_empty()), "{id}: {param}");
        }
    }
    for id in ["dc_connections", "dc_query_log"] {
        assert_eq!(widgets[id]["disableRetrievalForCopilot"], true, "{id}");
    }
    // Every other saved query on a tab of its own in the main app.
    let main_tabs = apps[0]["tabs"].as_object().unwrap();
    let own = main_tabs.get(&format!("query-{other}")).expect("a tab for the user's query");
    assert_eq!(own["layout"][0]["i"], format!("dc_saved_query_{other}"));
    assert!(main_tabs.values().any(|t| t["name"] == "Latest close by company"));

    // Each widget answers with its starting values, as the dashboard first loads it.
    for (item, widget) in layout.iter().zip(&in_app) {
        if widget["type"] == "omni" {
            continue;
        }
        let params: Vec<(String, String)> = item["state"]["params"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let url = s.at(&format!("/{}", widget["endpoint"].as_str().unwrap()));
        let (status, _, body) = into_parts(s.client.get(url).query(&params).send().await.unwrap()).await;
        assert_eq!(status, 200, "{}: {body}", widget["name"]);
        match widget["type"].as_str().unwrap() {
            "metric" => assert!(body["value"].is_number() || body["value"].is_string(), "{body}"),
            _ => assert!(!body.as_array().unwrap().is_empty(), "{}: {body}", widget["name"]),
        }
    }
    let chart = in_app[3];
    let picker = chart["params"].as_array().unwrap().iter().find(|p| p["paramName"] == "ticker").unwrap();
    let (status, _, tickers) = s.get(&format!("/{}", picker["optionsEndpoint"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{tickers}");
    assert_eq!(tickers.as_array().unwrap().len(), 60);
    assert_eq!(tickers[0], json!({"label": "AAPL - Apple Inc.", "value": "AAPL"}));
    let endpoint = chart["endpoint"].as_str().unwrap();
    let (_, _, msft) = s.get(&format!("/{endpoint}?ticker=MSFT&start_date=2024-03-01&end_date=2024-03-08")).await;
    assert_eq!(msft.as_array().unwrap().len(), 6, "{msft}");

    // The demo app's widgets.json entries, for the record.
    let entries: serde_json::Map<String, Value> =
        layout.iter().map(|i| (i["i"].as_str().unwrap().to_string(), widgets[i["i"].as_str().unwrap()].clone())).collect();
    println!("Market data widgets.json entries:\n{}", serde_json::to_string_pretty(&entries).unwrap());
    println!("Market data app:\n{}", serde_json::to_string_pretty(market).unwrap());
}
