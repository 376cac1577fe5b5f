//! Route B: widgets.json and apps.json against the Workspace frontend's validation rules
//! (zod `specificationSchema`, `ParamDefSchema`, `TableColumnDefsSchema`, apps template schema;
//! reference/openbb-workspace.md §1–§2), and every widget endpoint called the way Workspace's
//! validation pass calls it.

use crate::common::*;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

const WIDGET_KEYS: &[&str] = &[
    "name",
    "description",
    "endpoint",
    "type",
    "defaultViz",
    "category",
    "subCategory",
    "sub_category",
    "source",
    "gridData",
    "params",
    "data",
    "runButton",
    "refetchInterval",
    "staleTime",
    "dataUpdateDisplay",
    "raw",
    "exportable",
    "storage",
    "wsEndpoint",
    "fileEndpoint",
    "widgetId",
    "showTitle",
    "schemaName",
    "widgetType",
    "groupById",
    "disableRetrievalForCopilot",
    "copilotParseAs",
    "inputType",
    "mcp_tool",
    "searchCategory",
];
const WIDGET_TYPES: &[&str] = &[
    "advanced_charting",
    "chart",
    "chart-highcharts",
    "chart-vegalite",
    "file_viewer",
    "html",
    "iframe",
    "live_grid",
    "markdown",
    "metric",
    "multi_file_viewer",
    "newsfeed",
    "note",
    "rich_note",
    "omni",
    "pdf",
    "table",
    "ssrm_table",
    "ssrm_advanced",
    "youtube",
];
const PARAM_TYPES: &[&str] =
    &["text", "date", "ticker", "number", "boolean", "endpoint", "button", "tabs", "form"];
const FORM_INPUT_TYPES: &[&str] = &["date", "boolean", "endpoint", "number", "text", "button"];
const PARAM_KEYS: &[&str] = &[
    "paramName",
    "type",
    "value",
    "label",
    "description",
    "show",
    "hidden",
    "options",
    "multiSelect",
    "multiple",
    "optionsEndpoint",
    "optionsParams",
    "style",
    "roles",
    "placeholder",
    "language",
    "endpoint",
    "method",
    "inputParams",
];
const LANGUAGES: &[&str] = &["sql", "javascript", "python", "json", "html", "css", "markdown", "xml", "text"];
const COLUMN_KEYS: &[&str] = &[
    "field",
    "headerName",
    "cellDataType",
    "chartDataType",
    "formatterFn",
    "decimalPlaces",
    "renderFn",
    "renderFnParams",
    "width",
    "minWidth",
    "maxWidth",
    "hide",
    "pinned",
    "headerTooltip",
    "prefix",
    "suffix",
    "align",
    "rowGroup",
    "aggFunc",
    "sparkline",
    "enableCellChangeWs",
];
const CELL_TYPES: &[&str] = &["text", "number", "boolean", "date", "dateString", "object"];
const CHART_DATA_TYPES: &[&str] = &["category", "series", "time", "excluded"];
/// `TableSchema`'s keys (the frontend's inline snapshot of its shape).
const TABLE_KEYS: &[&str] = &[
    "chartView",
    "columnState",
    "columnsDefs",
    "enableAdvanced",
    "enableFormulas",
    "filterModel",
    "formatterFn",
    "showAll",
    "transpose",
];
/// `ChartViewOptionsSchema`'s keys.
const CHART_VIEW_KEYS: &[&str] =
    &["cellRangeCols", "chartSettingsOpen", "chartType", "enabled", "ignoreCellRange", "xLabel", "yLabel"];
/// `ChartTypeSchema` (reference/openbb-workspace.md §1.4): `cellRangeCols` keys are checked
/// against it too (an unknown key is `unrecognized_keys`).
const CHART_TYPES: &[&str] = &[
    "column",
    "groupedColumn",
    "stackedColumn",
    "normalizedColumn",
    "bar",
    "groupedBar",
    "stackedBar",
    "normalizedBar",
    "line",
    "scatter",
    "bubble",
    "pie",
    "donut",
    "doughnut",
    "area",
    "stackedArea",
    "normalizedArea",
    "histogram",
    "radarLine",
    "radarArea",
    "nightingale",
    "radialColumn",
    "radialBar",
    "sunburst",
    "rangeBar",
    "rangeArea",
    "boxPlot",
    "treemap",
    "heatmap",
    "waterfall",
];
const FORMATTERS: &[&str] = &["int", "none", "percent", "normalized", "normalizedPercent", "dateToYear"];
const APP_KEYS: &[&str] = &[
    "name",
    "tabs",
    "description",
    "img",
    "img_dark",
    "img_light",
    "allowCustomization",
    "selected_agent",
    "authentication",
    "groups",
    "prompts",
    "mcpServers",
    "mcp_servers",
    "templateId",
    "id",
];

/// Every rule violation, as "widget: problem".
pub(crate) fn check_widgets(file: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(widgets) = file.as_object() else {
        return vec!["widgets.json must be an object keyed by widget id".into()];
    };
    for (id, widget) in widgets {
        let mut err = |e: String| errors.push(format!("{id}: {e}"));
        let Some(w) = widget.as_object() else {
            err("not an object".into());
            continue;
        };
        for key in ["name", "description", "endpoint"] {
            if w.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                err(format!("{key} is required"));
            }
        }
        for key in w.keys() {
            if !WIDGET_KEYS.contains(&key.as_str()) {
                err(format!("unknown key {key}"));
            }
        }
        if let Some(t) = w.get("type") {
            if !t.as_str().is_some_and(|t| WIDGET_TYPES.contains(&t)) {
                err(format!("type {t} is not accepted"));
            }
        }
        if let Some(grid) = w.get("gridData") {
            for (k, v) in grid.as_object().into_iter().flatten() {
                if !["w", "h", "minW", "minH", "maxW", "maxH"].contains(&k.as_str()) || !v.is_number() {
                    err(format!("gridData.{k} is invalid"));
                }
            }
            let w_ = grid["w"].as_f64().unwrap_or(0.0);
            let h_ = grid["h"].as_f64().unwrap_or(0.0);
            if !(1.0..=40.0).contains(&w_) || !(1.0..=100.0).contains(&h_) {
                err("gridData w must be 1-40 and h 1-100".into());
            }
        }
        if let Some(run) = w.get("runButton") {
            if !run.is_boolean() {
                err("runButton must be a boolean".into());
            }
        }
        if let Some(source) = w.get("source") {
            if !(source.is_string() || source.as_array().is_some_and(|a| a.iter().all(Value::is_string))) {
                err("source must be a string or strings".into());
            }
        }
        if let Some(params) = w.get("params") {
            let mut names = HashSet::new();
            let Some(list) = params.as_array() else {
                err("params must be an array".into());
                continue;
            };
            let flat: Vec<&Value> = list
                .iter()
                .flat_map(|p| if let Some(row) = p.as_array() { row.iter().collect() } else { vec![p] })
                .collect();
            for param in flat {
                for e in check_param(param, false) {
                    err(e);
                }
                if let Some(name) = param["paramName"].as_str() {
                    if !names.insert(name.to_string()) {
                        err(format!("paramName {name} is repeated"));
                    }
                }
            }
        }
        if let Some(table) = w.get("data").and_then(|d| d.get("table")) {
            for e in check_table(table) {
                err(e);
            }
        }
        if let Some(refetch) = w.get("refetchInterval") {
            if !(refetch == &json!(false) || refetch.is_string() || refetch.as_f64().is_some_and(|ms| ms >= 1000.0)) {
                err(format!("refetchInterval {refetch} must be false, a cron string or >= 1000"));
            }
        }
        if let Some(stale) = w.get("staleTime") {
            if !(stale == &json!(false) || stale.as_f64().is_some_and(|ms| ms >= 1000.0)) {
                err(format!("staleTime {stale} must be false or >= 1000"));
            }
        }
        if let Some(data) = w.get("data") {
            if let Some(columns) = data.pointer("/table/columnsDefs") {
                for column in columns.as_array().into_iter().flatten() {
                    for e in check_column(column) {
                        err(e);
                    }
                }
            }
        }
    }
    errors
}

/// `data.table`: known keys, and a chart view Workspace can draw.
fn check_table(table: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(t) = table.as_object() else { return vec!["data.table is not an object".into()] };
    for key in t.keys() {
        if !TABLE_KEYS.contains(&key.as_str()) {
            errors.push(format!("data.table: unknown key {key}"));
        }
    }
    if let Some(view) = t.get("chartView") {
        let Some(v) = view.as_object() else { return vec!["chartView is not an object".into()] };
        for key in v.keys() {
            if !CHART_VIEW_KEYS.contains(&key.as_str()) {
                errors.push(format!("chartView: unknown key {key}"));
            }
        }
        if let Some(kind) = v.get("chartType") {
            if !kind.as_str().is_some_and(|k| CHART_TYPES.contains(&k)) {
                errors.push(format!("chartView: chartType {kind}"));
            }
        }
        if let Some(enabled) = v.get("enabled") {
            if !enabled.is_boolean() {
                errors.push("chartView: enabled must be a boolean".into());
            }
        }
        if let Some(ranges) = v.get("cellRangeCols") {
            for (kind, columns) in ranges.as_object().into_iter().flatten() {
                if !CHART_TYPES.contains(&kind.as_str()) {
                    errors.push(format!("chartView.cellRangeCols: unknown chart type {kind}"));
                }
                if !columns.as_array().is_some_and(|c| c.iter().all(Value::is_string)) {
                    errors.push(format!("chartView.cellRangeCols.{kind} must be column names"));
                }
            }
        }
    }
    errors
}

fn check_param(param: &Value, in_form: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(p) = param.as_object() else { return vec!["a param is not an object".into()] };
    let name = p.get("paramName").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        errors.push("a param has no paramName".into());
    }
    for key in p.keys() {
        if !PARAM_KEYS.contains(&key.as_str()) {
            errors.push(format!("param {name}: unknown key {key}"));
        }
    }
    let kind = p.get("type").and_then(Value::as_str).unwrap_or("text");
    let allowed = if in_form { FORM_INPUT_TYPES } else { PARAM_TYPES };
    if !allowed.contains(&kind) {
        errors.push(format!("param {name}: type {kind} not accepted here"));
    }
    if p.contains_key("multiple") && kind != "text" {
        errors.push(format!("param {name}: multiple only on text"));
    }
    if let Some(language) = p.get("language") {
        if kind != "text" || !language.as_str().is_some_and(|l| LANGUAGES.contains(&l)) {
            errors.push(format!("param {name}: bad language"));
        }
    }
    if kind == "endpoint" && !p.get("optionsEndpoint").is_some_and(Value::is_string) {
        errors.push(format!("param {name}: endpoint params need optionsEndpoint"));
    }
    if let Some(options) = p.get("options") {
        for option in options.as_array().into_iter().flatten() {
            let ok = option.get("label").is_some_and(Value::is_string)
                && option
                    .get("value")
                    .is_some_and(|v| v.is_string() || v.is_number() || v.is_boolean() || v.is_null());
            if !ok {
                errors.push(format!("param {name}: option {option} needs label and value"));
            }
        }
    }
    if let Some(width) = p.get("style").and_then(|s| s.get("popupWidth")) {
        if !width.as_f64().is_some_and(|w| (100.0..=1000.0).contains(&w)) {
            errors.push(format!("param {name}: popupWidth out of range"));
        }
    }
    if kind == "form" {
        if !p.get("endpoint").is_some_and(Value::is_string) {
            errors.push(format!("form {name}: endpoint required"));
        }
        let inputs = p.get("inputParams").and_then(Value::as_array);
        if inputs.is_none() {
            errors.push(format!("form {name}: inputParams required"));
        }
        for input in inputs.into_iter().flatten() {
            errors.extend(check_param(input, true));
        }
    }
    errors
}

fn check_column(column: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(c) = column.as_object() else { return vec!["a column def is not an object".into()] };
    let field = c.get("field").and_then(Value::as_str).unwrap_or_default();
    if field.is_empty() {
        errors.push("a column def has no field".into());
    }
    if !c.get("headerName").is_some_and(Value::is_string) {
        errors.push(format!("column {field}: headerName is required"));
    }
    for key in c.keys() {
        if !COLUMN_KEYS.contains(&key.as_str()) {
            errors.push(format!("column {field}: unknown key {key}"));
        }
    }
    if let Some(t) = c.get("cellDataType") {
        if !t.as_str().is_some_and(|t| CELL_TYPES.contains(&t)) {
            errors.push(format!("column {field}: cellDataType {t}"));
        }
    }
    if let Some(t) = c.get("chartDataType") {
        if !t.as_str().is_some_and(|t| CHART_DATA_TYPES.contains(&t)) {
            errors.push(format!("column {field}: chartDataType {t}"));
        }
    }
    if let Some(f) = c.get("formatterFn") {
        if !f.as_str().is_some_and(|f| FORMATTERS.contains(&f)) {
            errors.push(format!("column {field}: formatterFn {f}"));
        }
    }
    errors
}

pub(crate) fn check_apps(apps: &Value, widgets: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(list) = apps.as_array() else { return vec!["apps.json must be an array".into()] };
    for app in list {
        let name = app["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            errors.push("an app has no name".into());
        }
        for key in app.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !APP_KEYS.contains(&key.as_str()) {
                errors.push(format!("app {name}: unknown key {key}"));
            }
        }
        let Some(tabs) = app["tabs"].as_object() else {
            errors.push(format!("app {name}: tabs required"));
            continue;
        };
        for (key, tab) in tabs {
            if tab["id"].as_str() != Some(key) || !tab["name"].is_string() {
                errors.push(format!("app {name} tab {key}: id and name required"));
            }
            for item in tab["layout"].as_array().into_iter().flatten() {
                let id = item["i"].as_str().unwrap_or_default();
                if widgets.get(id).is_none() {
                    errors.push(format!("app {name} tab {key}: layout names unknown widget {id:?}"));
                }
                for k in ["x", "y", "w", "h"] {
                    if !item[k].is_number() {
                        errors.push(format!("app {name} tab {key}: {id}.{k} must be a number"));
                    }
                }
            }
        }
        for group in app["groups"].as_array().into_iter().flatten() {
            if !group["name"].is_string() || !group["type"].is_string() {
                errors.push(format!("app {name}: a group needs name and type"));
            }
            for id in group["widgetIds"].as_array().into_iter().flatten() {
                if widgets.get(id.as_str().unwrap_or_default()).is_none() {
                    errors.push(format!("app {name}: group names unknown widget {id}"));
                }
            }
        }
    }
    errors
}

#[test]
fn the_checker_catches_what_workspace_rejects() {
    let bad = json!({"w": {"name": "x", "endpoint": "e", "type": "table_ssrm", "imgUrl": "u",
        "params": [{"paramName": "a", "type": "endpoint"}, {"paramName": "a", "type": "number", "multiple": true}],
        "refetchInterval": 500,
        "data": {"table": {"enableCharts": true, "columnsDefs": [{"field": "c", "formatterFn": "currency", "chartDataType": "x"}],
            "chartView": {"enabled": true, "chartType": "sparkle", "cellRangeCols": {"pie3d": ["c"]}}}}}});
    let errors = check_widgets(&bad);
    for expected in [
        "description is required",
        "table_ssrm",
        "imgUrl",
        "optionsEndpoint",
        "repeated",
        "multiple",
        "headerName",
        "currency",
        "enableCharts",
        "sparkle",
        "pie3d",
        "chartDataType x",
        "refetchInterval",
    ] {
        assert!(errors.iter().any(|e| e.contains(expected)), "{expected} not in {errors:?}");
    }
    assert!(!check_apps(&json!([{"name": "a", "tabs": {"t": {"id": "t", "name": "T", "layout": [{"i": "nope", "x": 0, "y": 0, "w": 1, "h": 1}]}}}]), &json!({})).is_empty());
}

/// A server with one SQLite connection and one saved query.
async fn server_with_data() -> (TestServer, i64) {
    let s = start().await;
    let db = items_db(s.dir.path(), 12);
    s.add_sqlite("shop", &db, true).await;
    let (status, _, saved) = s
        .post("/api/v1/queries", json!({"connection": "shop", "name": "Cheap items", "sql": "SELECT id, name, price FROM items WHERE price < 5"}))
        .await;
    assert_eq!(status, 201, "{saved}");
    (s, saved["id"].as_i64().unwrap())
}

#[tokio::test]
async fn widgets_and_apps_pass_the_frontend_rules() {
    let (s, query_id) = server_with_data().await;
    let (status, _, widgets) = s.get("/widgets.json").await;
    assert_eq!(status, 200);
    assert_eq!(check_widgets(&widgets), Vec::<String>::new());
    let (status, _, apps) = s.get("/apps.json").await;
    assert_eq!(status, 200);
    assert_eq!(check_apps(&apps, &widgets), Vec::<String>::new());
    assert_eq!(apps[0]["name"], "Data Connector");

    let types: HashSet<&str> =
        widgets.as_object().unwrap().values().filter_map(|w| w["type"].as_str()).collect();
    for t in ["omni", "table", "ssrm_table"] {
        assert!(types.contains(t), "{t}");
    }
    let saved = &widgets[format!("dc_saved_query_{query_id}")];
    assert_eq!(saved["endpoint"], format!("widgets/queries/{query_id}"));
    assert_eq!(
        saved["data"]["table"]["columnsDefs"],
        json!([
            {"field": "id", "headerName": "id", "cellDataType": "number", "formatterFn": "int"},
            {"field": "name", "headerName": "name", "cellDataType": "text"},
            {"field": "price", "headerName": "price", "cellDataType": "number"}
        ])
    );
    let form =
        widgets["dc_connections"]["params"].as_array().unwrap().iter().find(|p| p["type"] == "form").unwrap();
    assert_eq!(form["endpoint"], "widgets/connections");
    let editor = &widgets["dc_sql_editor"];
    assert_eq!(editor["params"][0]["paramName"], "prompt");
    assert!(widgets["dc_sql_query"]["runButton"].as_bool().unwrap());
}

/// Default params of a widget as Workspace's validation pass sends them.
fn defaults(widget: &Value) -> Map<String, Value> {
    let mut params = Map::new();
    for p in widget["params"].as_array().into_iter().flatten() {
        if p["type"] == "form" {
            continue;
        }
        if let (Some(name), Some(value)) = (p["paramName"].as_str(), p.get("value")) {
            if !value.is_null() && value != "" {
                params.insert(name.into(), value.clone());
            }
        }
    }
    params
}

#[tokio::test]
async fn every_widget_answers_the_validation_pass() {
    let (s, _) = server_with_data().await;
    let (_, _, widgets) = s.get("/widgets.json").await;
    for (id, widget) in widgets.as_object().unwrap() {
        let endpoint = format!("/{}", widget["endpoint"].as_str().unwrap());
        let params = defaults(widget);
        let response = match widget["type"].as_str().unwrap_or("table") {
            "omni" => {
                let mut body = params.clone();
                body.insert("prompt".into(), json!("test validation query"));
                s.client.post(s.at(&endpoint)).json(&body).send().await.unwrap()
            }
            "ssrm_table" => {
                let mut body = params.clone();
                body.insert("startRow".into(), json!(0));
                body.insert("endRow".into(), json!(10));
                s.client.post(s.at(&endpoint)).json(&body).send().await.unwrap()
            }
            _ => {
                let query: Vec<(String, String)> = params
                    .iter()
                    .map(|(k, v)| {
                        (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                    })
                    .collect();
                s.client.get(s.at(&endpoint)).query(&query).send().await.unwrap()
            }
        };
        let (status, _, body) = into_parts(response).await;
        let tolerated = (200..300).contains(&status)
            || status == 405
            || (status == 422 && body["detail"].as_str().is_some_and(|d| d.contains("missing")));
        assert!(tolerated, "{id}: {status} {body}");
    }
}

#[tokio::test]
async fn widget_endpoints_serve_data() {
    let (s, query_id) = server_with_data().await;
    let (status, _, options) = s.get("/widgets/connections/options").await;
    assert_eq!(status, 200);
    assert_eq!(options[0]["label"], "shop");
    assert_eq!(options[0]["value"], "shop");

    // Form-encoded GET: '+' is a space.
    let url = format!(
        "{}?connection=shop&sql=SELECT+id%2C+name+FROM+items+WHERE+id+%3C+3&limit=10",
        s.at("/widgets/sql/query")
    );
    let (status, _, rows) = into_parts(s.client.get(url).send().await.unwrap()).await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows, json!([{"id": 1, "name": "item 1"}, {"id": 2, "name": "item 2"}]));
    let (status, _, missing) = s.get("/widgets/sql/query?sql=SELECT+1").await;
    assert_eq!(status, 422);
    assert!(missing["detail"].as_str().unwrap().contains("connection missing"));

    let (status, _, omni) = s
        .post("/widgets/sql/omni", json!({"prompt": "SELECT count(*) AS n FROM items", "connection": "shop"}))
        .await;
    assert_eq!(status, 200, "{omni}");
    assert_eq!(omni["content"], json!([{"n": 12}]));
    assert_eq!(omni["data_format"], json!({"data_type": "object", "parse_as": "table"}));
    let (status, _, failed) =
        s.post("/widgets/sql/omni", json!({"prompt": "SELECT nope FROM items", "connection": "shop"})).await;
    assert_eq!(status, 200);
    assert_eq!(failed["data_format"]["parse_as"], "text");

    let (_, _, tables) = s.get("/widgets/schema/tables?connection=shop").await;
    assert!(tables.as_array().unwrap().iter().any(|t| t["name"] == "items"), "{tables}");
    let (_, _, table_options) = s.get("/widgets/schema/tables/options?connection=shop").await;
    assert!(table_options.as_array().unwrap().iter().any(|t| t["value"] == "main.items"), "{table_options}");
    let (status, _, columns) = s.get("/widgets/schema/columns?connection=shop&table=main.items").await;
    assert_eq!(status, 200, "{columns}");
    assert_eq!(columns[1]["name"], "name");
    let (status, _, nope) = s.get("/widgets/schema/columns?connection=shop&table=main.items%22%3B").await;
    assert_eq!(status, 404, "{nope}");

    let (status, _, page) = s
        .post("/widgets/table/rows", json!({"connection": "shop", "table": "main.items", "startRow": 0, "endRow": 3,
            "sortModel": [{"colId": "price", "sort": "desc"}], "filterModel": {"name": {"filterType": "text", "type": "startsWith", "filter": "item 1"}}}))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rowCount"], 4);
    assert_eq!(page["rowData"].as_array().unwrap().len(), 3);
    assert_eq!(page["rowData"][0]["id"], 12);

    let (status, _, saved) = s.get(&format!("/widgets/queries/{query_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(saved.as_array().unwrap().len(), 9);
    let (status, _, log) = s.get("/widgets/log?limit=5").await;
    assert_eq!(status, 200);
    assert_eq!(log.as_array().unwrap().len(), 5);
    assert!(log.as_array().unwrap().iter().any(|e| e["source"] == "widget"));

    // The add-connection form posts its values as JSON, the button included.
    let other = items_db(s.dir.path(), 2);
    let (status, _, added) = s
        .post(
            "/widgets/connections",
            json!({"name": "second", "kind": "sqlite", "path": other, "url": "", "host": "",
            "port": null, "read_only": true, "submit": true}),
        )
        .await;
    assert_eq!(status, 200, "{added}");
    let (_, _, listed) = s.get("/widgets/connections").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (status, _, refused) =
        s.post("/widgets/connections", json!({"name": "bad", "kind": "sqlite", "path": "/nope.db"})).await;
    assert!(status >= 400 && refused["detail"].is_string(), "{refused}");
}
