//! Saved queries as widgets: their `{{name}}` parameters become widget params, their display a
//! grid, a chart view of the grid or a metric tile; their endpoints bind what Workspace sends
//! in the query string (`useJsonData` through `cleanSearchParams`) and never splice it.

use super::spec::{column_def, saved_query_id, CATEGORY, SAVED_TABLE_ROWS};
use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput};
use crate::http::{stream_response, ApiPath, ApiQuery};
use crate::result_cache;
use crate::sql_template::{self, ParamType, ParameterSpec};
use crate::state::{Display, SavedQuery};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectors::{Column, ColumnKind, Format};
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Choices an `options_sql` picker offers at most.
const MAX_CHOICES: u64 = 1000;
/// Bytes of a metric's first row read at most.
const METRIC_BYTES: usize = 64 * 1024;
/// Stale time of saved-query widgets that refresh on demand only.
const SAVED_STALE_MS: u64 = 5 * 60 * 1000;

/// Where a parameter's `options_sql` choices are served. Workspace links endpoint pickers by
/// the last path segment (`handleEndpointParam`): `param_<name>` links pickers of one name
/// across saved queries and never with the built-in `connection` and `table` pickers.
pub(super) fn options_endpoint(query_id: i64, name: &str) -> String {
    format!("widgets/queries/{query_id}/options/param_{name}")
}

/// The widget a saved query becomes. `paged` queries (no parameters, a grid, SQL the row model
/// can wrap) page in the database as `ssrm_table`; metrics are `metric`; the rest are a `table`
/// of at most `row_limit` rows, shown as a chart when the display says so.
pub(super) fn widget(query: &SavedQuery, columns: Option<&[Column]>, paged: bool) -> Value {
    let settings = &query.widget;
    let rows = settings.row_limit.unwrap_or(SAVED_TABLE_ROWS);
    let mut description = if query.description.trim().is_empty() {
        let sql: String = query.sql.chars().take(300).collect();
        format!("Saved SQL query \"{}\" on the connection {}: {sql}", query.name, query.connection)
    } else {
        query.description.trim().to_string()
    };
    match &settings.display {
        Display::Metric { value, delta, .. } => description.push_str(&format!(
            " (a metric tile: column {value} of the first row{})",
            delta.as_ref().map(|d| format!(", change in {d}")).unwrap_or_default()
        )),
        Display::Chart { chart_type, x, y } => description
            .push_str(&format!(" (a {chart_type} chart of {} by {x}; first {rows} rows)", y.join(", "))),
        Display::Table if !paged => description.push_str(&format!(" (first {rows} rows)")),
        Display::Table => {}
    }
    if !settings.parameters.is_empty() {
        let names: Vec<String> =
            settings.parameters.iter().map(|p| format!("{} ({})", p.name, p.kind.name())).collect();
        description.push_str(&format!(". Parameters: {}", names.join(", ")));
    }
    let kind = match settings.display {
        Display::Metric { .. } => "metric",
        _ if paged => "ssrm_table",
        _ => "table",
    };
    let (refetch, stale) = match settings.refresh_interval {
        Some(secs) => (json!(secs.saturating_mul(1000)), json!(secs.saturating_mul(1000))),
        None => (json!(false), json!(SAVED_STALE_MS)),
    };
    let grid = match settings.display {
        Display::Metric { .. } => json!({"w": 10, "h": 5}),
        _ => json!({"w": 40, "h": 15}),
    };
    let mut widget = json!({
        "name": query.name,
        "description": description,
        "category": settings.category.as_deref().unwrap_or(CATEGORY),
        "subCategory": "Saved queries",
        "type": kind,
        "endpoint": format!("widgets/queries/{}", query.id),
        "gridData": grid,
        "source": [CATEGORY],
        "refetchInterval": refetch,
        "staleTime": stale,
    });
    if !settings.parameters.is_empty() {
        widget["params"] = Value::Array(settings.parameters.iter().map(|p| param(query.id, p)).collect());
    }
    match &settings.display {
        Display::Metric { .. } => {}
        Display::Table => {
            widget["data"] = match columns {
                Some(columns) => {
                    json!({"table": {"showAll": true, "enableAdvanced": true,
                        "columnsDefs": columns.iter().map(column_def).collect::<Vec<_>>()}})
                }
                None => json!({"table": {"showAll": true, "enableAdvanced": true}}),
            };
        }
        Display::Chart { chart_type, x, y } => widget["data"] = chart_data(chart_type, x, y, columns),
    }
    widget
}

/// The grid opened on its chart view (`data.table.chartView`): `x` is the category (`time` for
/// dates), `y` the series, every other column left out of the chart (`chartDataType`).
fn chart_data(chart_type: &str, x: &str, y: &[String], columns: Option<&[Column]>) -> Value {
    let chart_role = |name: &str, kind: Option<ColumnKind>| {
        if name == x {
            match kind {
                Some(ColumnKind::Date | ColumnKind::DateTime) => "time",
                _ => "category",
            }
        } else if y.iter().any(|c| c == name) {
            "series"
        } else {
            "excluded"
        }
    };
    let defs: Vec<Value> = match columns {
        Some(columns) => columns
            .iter()
            .map(|c| {
                let mut def = column_def(c);
                def["chartDataType"] = json!(chart_role(&c.name, Some(c.kind)));
                def
            })
            .collect(),
        // Not run yet: the charted columns are enough for the chart; the rows still carry all.
        None => std::iter::once(x)
            .chain(y.iter().map(String::as_str))
            .map(|name| json!({"field": name, "headerName": name, "chartDataType": chart_role(name, None)}))
            .collect(),
    };
    let mut range = vec![x.to_string()];
    range.extend(y.iter().cloned());
    json!({"table": {
        "showAll": true,
        "enableAdvanced": true,
        "columnsDefs": defs,
        "chartView": {"enabled": true, "chartType": chart_type, "cellRangeCols": {chart_type: range}},
    }})
}

/// A widget param for a declared parameter.
fn param(query_id: i64, spec: &ParameterSpec) -> Value {
    let description = spec.description.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| {
        let what = match spec.kind {
            ParamType::Text => "Text",
            ParamType::Number => "A number",
            ParamType::Date => "A date (YYYY-MM-DD)",
            ParamType::Boolean => "True or false",
        };
        let several = if spec.multiple { "; several values, comma-separated" } else { "" };
        format!("{what} bound to {{{{{}}}}} in the query{several}", spec.name)
    });
    let mut p = json!({
        "paramName": spec.name,
        "label": spec.label_or_name(),
        "description": description,
    });
    let default = spec.default_text();
    let kind = if spec.options_sql.is_some() {
        p["optionsEndpoint"] = json!(options_endpoint(query_id, &spec.name));
        "endpoint"
    } else if spec.options.is_some() {
        // A dropdown of fixed choices is a text param with options, whatever the type.
        "text"
    } else if spec.multiple {
        // Workspace allows free multi-value entry on text params only.
        "text"
    } else {
        spec.kind.name()
    };
    p["type"] = json!(kind);
    if let Some(options) = &spec.options {
        p["options"] = Value::Array(
            options.iter().map(|choice| json!({"label": choice.label(), "value": choice.value()})).collect(),
        );
    }
    if spec.multiple {
        if spec.options.is_some() || spec.options_sql.is_some() {
            p["multiSelect"] = json!(true);
        } else {
            p["multiple"] = json!(true);
        }
    }
    if let Some(default) = default {
        p["value"] = match (spec.kind, kind) {
            (ParamType::Number, "number") => match (default.parse::<i64>(), default.parse::<f64>()) {
                (Ok(int), _) => json!(int),
                (_, Ok(float)) if float.is_finite() => json!(float),
                _ => json!(default),
            },
            (ParamType::Boolean, "boolean") => json!(default == "true"),
            _ => json!(default),
        };
    }
    p
}

/// What a GET sent, by parameter name; Workspace's `cleanSearchParams` drops empty values.
pub(super) type Values = HashMap<String, String>;

/// Binds a saved query's parameters for its connection's engine.
fn bound(app: &App, saved: &SavedQuery, values: &Values) -> Result<sql_template::Bound> {
    let dialect = app.state.require_connection(&saved.connection)?.settings.kind().dialect();
    let bound = sql_template::bind(&saved.sql, &saved.widget.parameters, values, dialect)?;
    // Positional params saved with the query (the API's `params`) still apply to SQL without
    // named ones.
    if bound.params.is_empty() {
        return Ok(sql_template::Bound { sql: bound.sql, params: saved.params.clone() });
    }
    Ok(bound)
}

/// `GET /widgets/queries/{id}?<param>=...`: rows of a table or chart, or a metric's
/// `{label, value, delta?}` (plus `refreshBackend: true` when saved queries changed since
/// widgets.json was last read).
pub(super) async fn rows(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiQuery(values): ApiQuery<Values>,
) -> Result<Response> {
    let saved = app.state.require_query(id)?;
    let bound = bound(&app, &saved, &values)?;
    let metric = matches!(saved.widget.display, Display::Metric { .. });
    let input = QueryInput {
        connection: saved.connection.clone(),
        sql: bound.sql,
        params: bound.params,
        limit: Some(if metric { 1 } else { saved.widget.row_limit.unwrap_or(SAVED_TABLE_ROWS) }),
        timeout_ms: None,
        force_read_only: false,
    };
    // A dashboard's refreshes come here: a cached query answers from its kept result.
    let bypass = result_cache::bypass_requested(&headers);
    let (output, outcome) = result_cache::run_saved(&app, id, bypass, input, Format::Json, "widget").await?;
    if !metric {
        super::sql::remember_columns(&app, &saved, &output.columns);
    }
    let Display::Metric { value, label, delta } = &saved.widget.display else {
        return Ok(result_cache::with_cache_header(stream_response(output), outcome));
    };
    let mut text = Vec::new();
    let mut body = output.body;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::Internal(format!("reading the metric's row: {e}")))?;
        if text.len() + chunk.len() > METRIC_BYTES {
            return Err(Error::BadRequest(format!(
                "the metric's first row is larger than {METRIC_BYTES} bytes; select only the value (and delta) columns"
            )));
        }
        text.extend_from_slice(&chunk);
    }
    let rows: Vec<Map<String, Value>> = serde_json::from_slice(&text)
        .map_err(|e| Error::Internal(format!("the metric's rows are not a JSON table: {e}")))?;
    let row = rows.into_iter().next().ok_or_else(|| {
        Error::NotFound(format!("the query \"{}\" returned no row for its metric", saved.name))
    })?;
    // Snowflake upper-cases unquoted names: `value: "n"` finds `N`.
    let column = |name: &str| {
        let found =
            row.get(name).or_else(|| row.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v));
        found.cloned().ok_or_else(|| {
            let known: Vec<&str> = row.keys().map(String::as_str).collect();
            Error::BadRequest(format!(
                "the metric's column {name:?} is not in the result (columns: {})",
                known.join(", ")
            ))
        })
    };
    let mut answer = json!({
        "label": label.clone().unwrap_or_else(|| saved.name.clone()),
        "value": column(value)?,
    });
    if let Some(delta) = delta {
        answer["delta"] = column(delta)?;
    }
    if app.state.widgets_stale() {
        answer["refreshBackend"] = json!(true);
    }
    Ok(result_cache::with_cache_header(Json(answer).into_response(), outcome))
}

/// `GET /widgets/queries/{id}/options/param_{name}`: the `options_sql` choices of one
/// parameter as `[{label, value}]`, run read-only on the query's connection.
pub(super) async fn options(
    State(app): State<Arc<App>>,
    ApiPath((id, segment)): ApiPath<(i64, String)>,
) -> Result<Json<Vec<Value>>> {
    let saved = app.state.require_query(id)?;
    let name = segment.strip_prefix("param_").unwrap_or(&segment);
    let spec = saved.widget.parameters.iter().find(|p| p.name == name).ok_or_else(|| {
        Error::NotFound(format!("the saved query \"{}\" has no parameter {name:?}", saved.name))
    })?;
    let choices = match (&spec.options_sql, &spec.options) {
        (Some(sql), _) => {
            let input = QueryInput {
                connection: saved.connection.clone(),
                sql: sql.clone(),
                params: Vec::new(),
                limit: Some(MAX_CHOICES),
                timeout_ms: None,
                force_read_only: true,
            };
            let output = execution::run(&app, input, Format::Json, "widget").await?;
            let mut text = Vec::new();
            let mut body = output.body;
            while let Some(chunk) = body.next().await {
                text.extend_from_slice(&chunk.map_err(|e| Error::Internal(format!("reading choices: {e}")))?);
            }
            let rows: Vec<Vec<Value>> = serde_json::from_slice::<Vec<Map<String, Value>>>(&text)
                .map_err(|e| Error::Internal(format!("the choices are not a JSON table: {e}")))?
                .into_iter()
                .map(|row| row.into_iter().map(|(_, v)| v).collect())
                .collect();
            rows.into_iter()
                .filter_map(|row| {
                    let value = row.first()?.clone();
                    let label = match row.get(1) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => plain(&value),
                        Some(other) => other.to_string(),
                    };
                    Some(json!({"label": label, "value": value}))
                })
                .collect()
        }
        (None, Some(options)) => {
            options.iter().map(|c| json!({"label": c.label(), "value": c.value()})).collect()
        }
        (None, None) => Vec::new(),
    };
    Ok(Json(choices))
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Saved queries of the demo connection that make up the "Market data" app, by name, with
/// their place: (name, x, y, w, h).
pub(super) const MARKET_DATA_LAYOUT: &[(&str, u32, u32, u32, u32)] = &[
    (crate::demo::COMPANIES_METRIC, 0, 0, 10, 5),
    (crate::demo::LAST_DAY_METRIC, 10, 0, 10, 5),
    (crate::demo::VOLUME_METRIC, 20, 0, 10, 5),
    (crate::demo::PRICE_CHART, 0, 5, 40, 15),
    (crate::demo::SECTOR_CHART, 0, 20, 20, 14),
    (crate::demo::FINANCIALS, 20, 20, 20, 14),
];

/// Groups linking every parameter shared by two or more of `queries` (Workspace links params
/// of one name; endpoint pickers through `endpointParam` groups). Names follow OpenBB's "Group
/// N" from `first`. Returns the groups and each widget's group names.
pub(super) fn parameter_groups(
    queries: &[&SavedQuery],
    first: usize,
) -> (Vec<Value>, HashMap<String, Vec<String>>) {
    let mut by_name: Vec<(String, bool, Option<String>, Vec<String>)> = Vec::new();
    for query in queries {
        for spec in &query.widget.parameters {
            let id = saved_query_id(query.id);
            match by_name.iter_mut().find(|(name, ..)| *name == spec.name) {
                Some((_, _, _, ids)) => ids.push(id),
                None => by_name.push((
                    spec.name.clone(),
                    spec.options_sql.is_some(),
                    spec.default_text(),
                    vec![id],
                )),
            }
        }
    }
    let mut groups = Vec::new();
    let mut membership: HashMap<String, Vec<String>> = HashMap::new();
    for (name, endpoint, default, ids) in by_name.into_iter().filter(|(.., ids)| ids.len() > 1) {
        let group = format!("Group {}", first + groups.len());
        let mut value = json!({
            "name": group,
            "type": if endpoint { "endpointParam" } else { "param" },
            "paramName": name,
            "widgetIds": ids,
        });
        if let Some(default) = default {
            value["defaultValue"] = json!(default);
        }
        for id in &ids {
            membership.entry(id.clone()).or_default().push(group.clone());
        }
        groups.push(value);
    }
    (groups, membership)
}

/// A layout item for a saved query, with its starting parameter values in `state.params`.
pub(super) fn layout_item(
    query: &SavedQuery,
    place: (u32, u32, u32, u32),
    groups: Option<&[String]>,
) -> Value {
    let (x, y, w, h) = place;
    let mut item = json!({"i": saved_query_id(query.id), "x": x, "y": y, "w": w, "h": h});
    let params: Map<String, Value> = query
        .widget
        .parameters
        .iter()
        .filter_map(|p| p.default_text().map(|d| (p.name.clone(), json!(d))))
        .collect();
    if !params.is_empty() {
        item["state"] = json!({"params": params});
    }
    if let Some(groups) = groups.filter(|g| !g.is_empty()) {
        item["groups"] = json!(groups);
    }
    item
}

/// Where a widget sits in a tab: x, y, width, height.
pub(super) type Place = (u32, u32, u32, u32);

/// The "Market data" app over the demo's saved queries (those still there), or `None` when
/// none is. Its SQL widgets start with demo SQL through `state.params`.
pub(super) fn market_data_app(saved: &[SavedQuery]) -> Option<Value> {
    let placed: Vec<(&SavedQuery, Place)> = MARKET_DATA_LAYOUT
        .iter()
        .filter_map(|(name, x, y, w, h)| {
            saved
                .iter()
                .find(|q| q.connection == crate::demo::CONNECTION && q.name == *name)
                .map(|q| (q, (*x, *y, *w, *h)))
        })
        .collect();
    if placed.is_empty() {
        return None;
    }
    let queries: Vec<&SavedQuery> = placed.iter().map(|(q, _)| *q).collect();
    let (mut groups, membership) = parameter_groups(&queries, 1);
    let mut layout: Vec<Value> = placed
        .iter()
        .map(|(q, place)| layout_item(q, *place, membership.get(&saved_query_id(q.id)).map(Vec::as_slice)))
        .collect();
    // Starter SQL for the editor, next to the dashboard it explains.
    let bottom = placed.iter().map(|(_, (_, y, _, h))| y + h).max().unwrap_or(0);
    let mut editor = json!({"i": super::spec::SQL_EDITOR, "x": 0, "y": bottom, "w": 40, "h": 18,
        "state": {"params": {"prompt": crate::demo::STARTER_SQL, "connection": crate::demo::CONNECTION}}});
    let connection_group = format!("Group {}", groups.len() + 1);
    editor["groups"] = json!([connection_group]);
    layout.push(editor);
    groups.push(json!({"name": connection_group, "type": "endpointParam", "paramName": "connection",
        "widgetIds": [super::spec::SQL_EDITOR], "defaultValue": crate::demo::CONNECTION}));
    Some(json!({
        "name": "Market data",
        "description": "A dashboard over the demo market database: price chart with ticker and date range, sector market caps, key figures and quarterly financials, all linked by ticker and dates. Every widget is a saved SQL query you can change.",
        "allowCustomization": true,
        "tabs": {"overview": {"id": "overview", "name": "Overview", "layout": layout}},
        "groups": groups,
    }))
}

/// Adds the saved queries to apps.json: the "Market data" app over the demo's queries, and a
/// tab of its own in the main app for every other saved query (with its parameters' starting
/// values).
pub(super) fn add_saved_query_apps(apps: &mut Value, saved: &[SavedQuery]) {
    let market = market_data_app(saved);
    let in_market: Vec<String> = market
        .as_ref()
        .and_then(|app| app.pointer("/tabs/overview/layout"))
        .and_then(Value::as_array)
        .map(|layout| layout.iter().filter_map(|item| item["i"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if let Some(tabs) = apps.pointer_mut("/0/tabs").and_then(Value::as_object_mut) {
        for query in saved.iter().filter(|q| !in_market.contains(&saved_query_id(q.id))) {
            let key = format!("query-{}", query.id);
            let (w, h) = match query.widget.display {
                Display::Metric { .. } => (10, 5),
                _ => (40, 20),
            };
            let name: String = query.name.chars().take(40).collect();
            tabs.insert(
                key.clone(),
                json!({"id": key, "name": name, "layout": [layout_item(query, (0, 0, w, h), None)]}),
            );
        }
    }
    if let (Some(market), Some(list)) = (market, apps.as_array_mut()) {
        list.push(market);
    }
}
