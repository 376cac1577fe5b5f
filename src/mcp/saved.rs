//! One tool per saved query. Its name comes from the query's name (`query_<words>`), kept unique
//! and stable: of two queries that would share a name, the older keeps it and the newer adds its
//! id. Its input schema is the query's declared parameters (`declared_params`), plus `limit`.

use super::render::TextFormat;
use crate::sql_template::{ParamType, ParameterSpec};
use crate::state::SavedQuery;
use connectors::dialect::Dialect;
use connectors::Param;
use std::collections::HashMap;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

pub(super) const PREFIX: &str = "query_";
/// What the strictest MCP clients accept for a tool name: `^[a-zA-Z0-9_-]{1,64}$`.
const MAX_NAME: usize = 64;

/// One parameter a saved-query tool takes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ParamSpec {
    pub name: String,
    /// JSON Schema type: `string`, `integer`, `number`, `boolean`, or none for any scalar.
    pub json_type: Option<&'static str>,
    pub default: Option<Param>,
    pub description: String,
}

/// The parameters a saved query declares: its named `{{name}}` parameters (bound by
/// `bind_named`), or else its positional default values (bound to `?` / `$1` in order), each
/// `param_<n>`, optional, defaulting to the saved value. A query without either takes none.
pub(super) fn declared_params(query: &SavedQuery) -> Vec<ParamSpec> {
    if !query.widget.parameters.is_empty() {
        return query.widget.parameters.iter().map(named_spec).collect();
    }
    query
        .params
        .iter()
        .enumerate()
        .map(|(i, default)| ParamSpec {
            name: format!("param_{}", i + 1),
            json_type: json_type(default),
            default: Some(default.clone()),
            description: format!(
                "Value bound to placeholder {} of the query (default {}).",
                i + 1,
                serde_json::to_string(default).unwrap_or_default()
            ),
        })
        .collect()
}

fn named_spec(spec: &ParameterSpec) -> ParamSpec {
    let json_type = match (spec.kind, spec.multiple) {
        (_, true) | (ParamType::Text | ParamType::Date, false) => "string",
        (ParamType::Number, false) => "number",
        (ParamType::Boolean, false) => "boolean",
    };
    let mut description = spec.description.clone().unwrap_or_else(|| format!("{}.", spec.label_or_name()));
    description.push_str(match (spec.kind, spec.multiple) {
        (ParamType::Date, _) => " A date, YYYY-MM-DD.",
        (_, true) => " Several values, comma-separated.",
        _ => "",
    });
    ParamSpec {
        name: spec.name.clone(),
        json_type: Some(json_type),
        default: spec.default_text().map(|text| match spec.kind {
            ParamType::Number if !spec.multiple => match (text.parse::<i64>(), text.parse::<f64>()) {
                (Ok(int), _) => Param::Int(int),
                (_, Ok(float)) if float.is_finite() => Param::Float(float),
                _ => Param::Text(text),
            },
            ParamType::Boolean => Param::Bool(text == "true"),
            _ => Param::Text(text),
        }),
        description,
    }
}

/// A query with `{{name}}` parameters: its SQL with the engine's placeholders and the values,
/// from the arguments by name (or the defaults), checked as a widget's are.
pub(super) fn bind_named(
    query: &SavedQuery,
    arguments: &Map<String, Value>,
    dialect: Dialect,
) -> Result<(String, Vec<Param>), String> {
    let known: HashSet<&str> =
        query.widget.parameters.iter().map(|p| p.name.as_str()).chain(["limit", "format"]).collect();
    let mut values = HashMap::new();
    for (name, value) in arguments {
        if !known.contains(name.as_str()) {
            let mut names: Vec<&str> = known.into_iter().collect();
            names.sort_unstable();
            return Err(format!("unknown argument {name:?}; this tool takes: {}", names.join(", ")));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => return Err(format!("{name}: must be a string, number or boolean")),
        };
        values.insert(name.clone(), text);
    }
    let bound = crate::sql_template::bind(&query.sql, &query.widget.parameters, &values, dialect)
        .map_err(|e| e.to_string())?;
    Ok((bound.sql, bound.params))
}

fn json_type(param: &Param) -> Option<&'static str> {
    match param {
        Param::Null => None,
        Param::Bool(_) => Some("boolean"),
        Param::Int(_) => Some("integer"),
        Param::Float(_) => Some("number"),
        Param::Text(_) => Some("string"),
    }
}

/// The values to bind, in placeholder order: each declared parameter's argument, or its default.
pub(super) fn bind(query: &SavedQuery, arguments: &Map<String, Value>) -> Result<Vec<Param>, String> {
    let specs = declared_params(query);
    let known: HashSet<&str> = specs.iter().map(|s| s.name.as_str()).chain(["limit", "format"]).collect();
    if let Some(unknown) = arguments.keys().find(|k| !known.contains(k.as_str())) {
        let mut names: Vec<&str> = known.into_iter().collect();
        names.sort_unstable();
        return Err(format!("unknown argument {unknown:?}; this tool takes: {}", names.join(", ")));
    }
    specs
        .into_iter()
        .map(|spec| match arguments.get(&spec.name) {
            Some(value) => super::tools::param(value).map_err(|why| format!("{}: {why}", spec.name)),
            None => spec.default.ok_or_else(|| format!("{} is required", spec.name)),
        })
        .collect()
}

/// The input schema: the declared parameters, then `limit` and `format` as `run_query` has them.
pub(super) fn input_schema(query: &SavedQuery, max_rows: u64) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in declared_params(query) {
        let mut property = Map::new();
        if let Some(json_type) = spec.json_type {
            property.insert("type".into(), json!(json_type));
        }
        property.insert("description".into(), json!(spec.description));
        match &spec.default {
            Some(default) => {
                property.insert("default".into(), serde_json::to_value(default).unwrap_or(Value::Null));
            }
            None => required.push(spec.name.clone()),
        }
        properties.insert(spec.name, Value::Object(property));
    }
    properties.insert(
        "limit".into(),
        json!({
            "type": "integer", "minimum": 1, "maximum": max_rows,
            "description": format!("Most rows to return (default {}, at most {max_rows}).", super::DEFAULT_ROWS),
        }),
    );
    properties.insert(
        "format".into(),
        json!({
            "type": "string", "enum": TextFormat::NAMES,
            "description": "How the rows are written for you: markdown (default) or csv (more compact).",
        }),
    );
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

/// The description a model reads to pick the tool.
pub(super) fn description(query: &SavedQuery) -> String {
    let sql = match super::render::clip(&query.sql) {
        Some(cut) => cut,
        None => query.sql.clone(),
    };
    let about = query.description.trim();
    let about = match about.chars().last() {
        None => String::new(),
        Some('.' | '!' | '?') => format!(" {about}"),
        Some(_) => format!(" {about}."),
    };
    format!(
        "Saved query \"{}\" on connection \"{}\".{about} Runs read-only and returns its rows \
         (at most {} unless `limit` says otherwise). SQL: {sql}",
        query.name,
        query.connection,
        super::DEFAULT_ROWS
    )
}

/// Tool names for saved queries, in the order given. `queries` must be all saved queries (so the
/// names are unique among them) ordered by id (so the older query keeps a shared name).
pub(super) fn names(queries: &[SavedQuery]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(queries.len());
    for query in queries {
        let base = base_name(&query.name);
        let name =
            if base.len() > PREFIX.len() && !taken.contains(&base) { base } else { with_id(&base, query.id) };
        taken.insert(name.clone());
        out.push(name);
    }
    out
}

/// `query_` and the query's name in lower case, runs of anything but letters and digits as one
/// `_`, cut to fit the longest name clients accept (with room for an id suffix).
fn base_name(name: &str) -> String {
    let mut out = String::from(PREFIX);
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && out.len() > PREFIX.len() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    // Room for `_<id>` with a 12-digit id.
    out.truncate(MAX_NAME - 13);
    while out.ends_with('_') && out.len() > PREFIX.len() {
        out.pop();
    }
    out
}

fn with_id(base: &str, id: i64) -> String {
    if base.len() > PREFIX.len() {
        format!("{base}_{id}")
    } else {
        format!("{PREFIX}{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: i64, name: &str, params: Vec<Param>) -> SavedQuery {
        SavedQuery {
            id,
            connection: "prices".into(),
            name: name.into(),
            sql: "SELECT * FROM t WHERE a = ? AND b = ?".into(),
            description: String::new(),
            params,
            widget: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn names_are_valid_unique_and_stable() {
        let queries = vec![
            query(1, "Top movers (today)", vec![]),
            query(2, "top-movers today", vec![]),
            query(3, "¿¡!", vec![]),
            query(4, &"Very long name ".repeat(20), vec![]),
            query(5, "Top movers (today)", vec![]),
        ];
        let names = names(&queries);
        assert_eq!(names[0], "query_top_movers_today");
        assert_eq!(names[1], "query_top_movers_today_2");
        assert_eq!(names[2], "query_3");
        assert_eq!(names[4], "query_top_movers_today_5");
        let valid = |n: &String| {
            !n.is_empty() && n.len() <= MAX_NAME && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        assert!(names.iter().all(valid), "{names:?}");
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
        // The older query keeps its name when a newer one with the same name is deleted or added.
        assert_eq!(super::names(&queries[..1])[0], names[0]);
        let without_second: Vec<SavedQuery> = queries.iter().filter(|q| q.id != 2).cloned().collect();
        assert_eq!(super::names(&without_second)[0], names[0]);
        assert!(names[3].len() <= MAX_NAME && names[3].starts_with("query_very_long_name"));
    }

    #[test]
    fn positional_defaults_become_optional_typed_parameters() {
        let q = query(1, "q", vec![Param::Text("AAPL".into()), Param::Int(5)]);
        let schema = input_schema(&q, 1000);
        assert_eq!(schema["properties"]["param_1"]["type"], "string");
        assert_eq!(schema["properties"]["param_1"]["default"], "AAPL");
        assert_eq!(schema["properties"]["param_2"]["type"], "integer");
        assert_eq!(schema["properties"]["limit"]["maximum"], 1000);
        assert_eq!(schema["properties"]["format"]["enum"], json!(["markdown", "csv"]));
        assert!(schema.get("required").is_none());
        let args: Map<String, Value> = serde_json::from_value(json!({"param_2": 7})).unwrap();
        assert_eq!(bind(&q, &args).unwrap(), vec![Param::Text("AAPL".into()), Param::Int(7)]);
        let args: Map<String, Value> = serde_json::from_value(json!({"symbol": "X"})).unwrap();
        assert!(bind(&q, &args).unwrap_err().contains("unknown argument \"symbol\""));
        let args: Map<String, Value> = serde_json::from_value(json!({"param_1": [1]})).unwrap();
        assert!(bind(&q, &args).unwrap_err().starts_with("param_1:"));
    }

    #[test]
    fn descriptions_carry_the_query_and_read_as_sentences() {
        let mut q = query(1, "Movers", vec![]);
        q.description = "Biggest moves today".into();
        let text = description(&q);
        assert!(
            text.starts_with("Saved query \"Movers\" on connection \"prices\". Biggest moves today. Runs"),
            "{text}"
        );
        assert!(text.ends_with("SQL: SELECT * FROM t WHERE a = ? AND b = ?"), "{text}");
        q.description = "Done!".into();
        assert!(description(&q).contains("\"prices\". Done! Runs"));
    }

    #[test]
    fn a_query_without_parameters_takes_only_the_row_options() {
        let q = query(1, "q", vec![]);
        let schema = input_schema(&q, 1000);
        let properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(properties, ["limit", "format"]);
        assert!(bind(&q, &Map::new()).unwrap().is_empty());
    }
}
