//! `data-connector queries list|add|rm|run`: saved queries from a terminal. Every action goes
//! through the HTTP API's own handlers in-process (`api::local`), so a query saved here is
//! checked exactly as one saved by Workspace, the window or `curl`, and shows up in all of them.

use super::{data_dir, write_stdout, DataDirArg, OutputFormat, ResultArgs};
use crate::api::local;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::App;
use axum::http::Method;
use clap::{Args, Subcommand};
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The parameter types a saved query may declare (issue 13, the API's `parameters[].type`).
const PARAMETER_TYPES: [&str; 4] = ["text", "number", "date", "boolean"];

#[derive(Debug, Subcommand)]
pub enum QueriesCommand {
    /// List the saved queries: id, connection, name, parameters.
    List(ListArgs),
    /// Save a query; Workspace shows it as a widget on its next refresh.
    Add(AddArgs),
    /// Delete a saved query, by id or name.
    Rm(RmArgs),
    /// Run a saved query and print its rows.
    Run(RunArgs),
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Read secrets from memory only (useful only with a data dir whose connections have none).
    #[arg(long, hide = true)]
    pub ephemeral_secrets: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the queries of this connection.
    #[arg(long, short)]
    pub connection: Option<String>,
    /// Print the saved queries as the API returns them (a JSON array).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Name of a saved connection.
    #[arg(long, short)]
    pub connection: String,
    /// How Workspace lists the widget.
    #[arg(long, short)]
    pub name: String,
    /// The SQL; `{{name}}` marks a parameter. `-` reads it from standard input.
    #[arg(long)]
    pub sql: String,
    #[arg(long)]
    pub description: Option<String>,
    /// A parameter as `name:type` or `name:type=default`, type one of text, number, date,
    /// boolean (repeatable).
    #[arg(long = "param", value_name = "NAME:TYPE[=DEFAULT]")]
    pub params: Vec<String>,
    /// How Workspace shows it, as JSON: {"type":"table"}, {"type":"chart","chart_type":"line",
    /// "x":"date","y":["close"]} or {"type":"metric","value":"total","label":"Total"}.
    #[arg(long, value_name = "JSON")]
    pub display: Option<String>,
    /// Seconds between Workspace's automatic refreshes of the widget.
    #[arg(long)]
    pub refresh_interval: Option<u64>,
    /// Most rows the widget returns.
    #[arg(long)]
    pub row_limit: Option<u64>,
    /// Workspace's category for the widget.
    #[arg(long)]
    pub category: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The query's id, or its name.
    pub query: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The query's id, or its name.
    pub query: String,
    /// A parameter value as `name=value` (repeatable); missing ones take their defaults.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub result: ResultArgs,
    #[command(flatten)]
    pub common: Common,
}

pub(super) async fn run(command: QueriesCommand) -> Result<()> {
    match command {
        QueriesCommand::List(args) => list(args).await,
        QueriesCommand::Add(args) => add(args).await,
        QueriesCommand::Rm(args) => rm(args).await,
        QueriesCommand::Run(args) => run_query(args).await,
    }
}

fn open(common: &Common) -> Result<Arc<App>> {
    let mut config = Config::local(data_dir(&common.data_dir)?);
    config.ephemeral_secrets = common.ephemeral_secrets;
    App::open(config)
}

async fn list(args: ListArgs) -> Result<()> {
    let app = open(&args.common)?;
    let all = local::json(&app, Method::GET, "/api/v1/queries", None).await?;
    let queries: Vec<&Value> = all
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|q| args.connection.as_deref().is_none_or(|c| q["connection"] == c))
        .collect();
    if args.json {
        let text = serde_json::to_string_pretty(&queries).map_err(|e| Error::Internal(e.to_string()))?;
        return write_stdout(format!("{text}\n").as_bytes()).await;
    }
    let mut out = String::from("ID\tCONNECTION\tNAME\tPARAMETERS\n");
    for q in queries {
        let parameters = q["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| format!("{}:{}", text(&p["name"]), text(&p["type"])))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            q["id"],
            text(&q["connection"]),
            one_line(&text(&q["name"])),
            parameters
        ));
    }
    write_stdout(out.as_bytes()).await
}

async fn add(args: AddArgs) -> Result<()> {
    let app = open(&args.common)?;
    let sql = if args.sql == "-" { super::read_stdin()? } else { args.sql };
    let mut draft = Map::new();
    draft.insert("connection".into(), json!(args.connection));
    draft.insert("name".into(), json!(args.name));
    draft.insert("sql".into(), json!(sql));
    if let Some(description) = args.description {
        draft.insert("description".into(), json!(description));
    }
    // Only what was asked for is sent, so the API's own defaults apply to the rest.
    if !args.params.is_empty() {
        let parameters =
            args.params.iter().map(String::as_str).map(parse_parameter).collect::<Result<Vec<_>>>()?;
        draft.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(display) = args.display {
        let value: Value = serde_json::from_str(&display)
            .map_err(|e| Error::BadRequest(format!("--display is not JSON: {e}")))?;
        if !value.is_object() {
            return Err(Error::BadRequest(
                "--display must be a JSON object, e.g. {\"type\":\"table\"}".into(),
            ));
        }
        draft.insert("display".into(), value);
    }
    if let Some(seconds) = args.refresh_interval {
        draft.insert("refresh_interval".into(), json!(seconds));
    }
    if let Some(rows) = args.row_limit {
        draft.insert("row_limit".into(), json!(rows));
    }
    if let Some(category) = args.category {
        draft.insert("category".into(), json!(category));
    }
    let saved = local::json(&app, Method::POST, "/api/v1/queries", Some(&Value::Object(draft))).await?;
    write_stdout(format!("saved query {} \"{}\"\n", saved["id"], text(&saved["name"])).as_bytes()).await
}

async fn rm(args: RmArgs) -> Result<()> {
    let app = open(&args.common)?;
    let (id, name) = resolve(&app, &args.query).await?;
    local::json(&app, Method::DELETE, &format!("/api/v1/queries/{id}"), None).await?;
    write_stdout(format!("deleted query {id} \"{name}\"\n").as_bytes()).await
}

async fn run_query(args: RunArgs) -> Result<()> {
    let app = open(&args.common)?;
    let (id, _) = resolve(&app, &args.query).await?;
    let mut options = Map::new();
    options.insert("format".into(), json!(format_name(args.result.format)));
    if let Some(limit) = args.result.limit {
        options.insert("limit".into(), json!(limit));
    }
    if let Some(timeout) = args.result.timeout_ms {
        options.insert("timeout_ms".into(), json!(timeout));
    }
    if !args.params.is_empty() {
        let mut values = Map::new();
        for pair in &args.params {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::BadRequest(format!("--param {pair:?} must be name=value")))?;
            values.insert(name.trim().to_string(), json!(value));
        }
        options.insert("parameters".into(), Value::Object(values));
    }
    let response =
        local::send(&app, Method::POST, &format!("/api/v1/queries/{id}/run"), Some(&Value::Object(options)))
            .await?;
    let truncated =
        response.headers().get("x-truncated").and_then(|v| v.to_str().ok()).unwrap_or("false").to_string();
    let row_limit =
        response.headers().get("x-row-limit").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
    let mut body = response.into_body().into_data_stream();
    let mut wrote = false;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::BadRequest(e.to_string()))?;
        if !super::write_chunk(&chunk).await? {
            return Ok(());
        }
        wrote = true;
    }
    if wrote && matches!(args.result.format, OutputFormat::Json) {
        super::write_chunk(b"\n").await?;
    }
    match truncated.as_str() {
        "true" => eprintln!("note: the result was cut at {row_limit} rows; raise it with --limit"),
        "unknown" => eprintln!("note: the result may have been cut at {row_limit} rows"),
        _ => {}
    }
    Ok(())
}

/// A query named by id, or by a name only one saved query has.
async fn resolve(app: &Arc<App>, wanted: &str) -> Result<(i64, String)> {
    let all = local::json(app, Method::GET, "/api/v1/queries", None).await?;
    let queries = all.as_array().cloned().unwrap_or_default();
    let by_id = wanted.trim().parse::<i64>().ok();
    let found: Vec<&Value> = queries
        .iter()
        .filter(|q| by_id.is_some_and(|id| q["id"].as_i64() == Some(id)) || q["name"] == wanted)
        .collect();
    match found.as_slice() {
        [] => Err(Error::NotFound(format!(
            "there is no saved query with id or name {wanted:?}; `data-connector queries list` shows them"
        ))),
        [one] => Ok((one["id"].as_i64().unwrap_or_default(), text(&one["name"]))),
        many => Err(Error::Conflict(format!(
            "{} saved queries are named {wanted:?} (ids {}); name one by its id",
            many.len(),
            many.iter().map(|q| q["id"].to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// `name:type` or `name:type=default` as the API's parameter object.
fn parse_parameter(text: &str) -> Result<Value> {
    let usage = || {
        Error::BadRequest(format!(
            "--param {text:?} must be name:type or name:type=default, type one of {}",
            PARAMETER_TYPES.join(", ")
        ))
    };
    let (name, rest) = text.split_once(':').ok_or_else(usage)?;
    let (kind, default) = match rest.split_once('=') {
        Some((kind, default)) => (kind, Some(default)),
        None => (rest, None),
    };
    let (name, kind) = (name.trim(), kind.trim().to_ascii_lowercase());
    if name.is_empty() || !PARAMETER_TYPES.contains(&kind.as_str()) {
        return Err(usage());
    }
    let mut parameter = Map::new();
    parameter.insert("name".into(), json!(name));
    parameter.insert("type".into(), json!(kind));
    if let Some(default) = default {
        parameter.insert("default".into(), json!(default));
    }
    Ok(Value::Object(parameter))
}

fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Json => "json",
        OutputFormat::Csv => "csv",
        OutputFormat::Ndjson => "ndjson",
        OutputFormat::Arrow => "arrow",
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Names may hold tabs or newlines; a listing keeps one query per line.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_with_and_without_defaults() {
        assert_eq!(
            parse_parameter("ticker:text=AAPL").unwrap(),
            json!({"name": "ticker", "type": "text", "default": "AAPL"})
        );
        assert_eq!(parse_parameter("day:DATE").unwrap(), json!({"name": "day", "type": "date"}));
        assert_eq!(
            parse_parameter("start:date=$currentDate-1M").unwrap(),
            json!({"name": "start", "type": "date", "default": "$currentDate-1M"})
        );
        for bad in ["ticker", "ticker:money", ":text", "x:=1"] {
            let message = parse_parameter(bad).unwrap_err().to_string();
            assert!(message.contains("name:type"), "{bad}: {message}");
        }
    }
}
