//! `{{name}}` parameters in saved SQL: declared as [`ParameterSpec`]s, found by the engine's own
//! lexer (`connectors::statement::template_slots`, so a `{{x}}` inside a string or comment stays
//! text), and sent as bound values in the engine's placeholder syntax, never spliced.
//!
//! How to call it (the saved-query widgets, the API's run, the SQL workbench):
//!
//! ```ignore
//! let dialect = stored_connection.settings.kind().dialect();
//! // `values`: what the client sent, by parameter name, as text (Workspace sends the query
//! // string; a multi-select arrives as one comma-separated string). Missing or empty values take
//! // the declared default; other keys are ignored.
//! let bound = sql_template::bind(&sql, &declared, &values, dialect)?;
//! // bound.sql has `?` (SQLite, MySQL, Snowflake) or `$n` (PostgreSQL) placeholders;
//! // bound.params are the values in placeholder order: run them as a `connectors::Query`.
//! ```
//!
//! `validate` checks declarations and SQL together when a query is saved; `text_specs` declares
//! every `{{x}}` of ad-hoc SQL as a text parameter. Errors are 4xx and name the parameter.

mod dates;

pub use connectors::statement::TemplateSlot;
pub use connectors::Param as BoundValue;
pub use dates::{resolve_date, today};

use crate::error::{Error, Result};
use connectors::dialect::Dialect;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// At most this many parameters per query, options per parameter, and values per multi-select.
pub const MAX_PARAMETERS: usize = 50;
pub const MAX_OPTIONS: usize = 1000;
pub const MAX_VALUES: usize = 1000;
/// Longest text value, label or description accepted.
pub const MAX_TEXT: usize = 4096;

/// The type of a parameter: how its text is checked and what the database receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Any text, bound as a string.
    Text,
    /// An integer (bound as a 64-bit integer) or a decimal number (bound as a double).
    Number,
    /// `YYYY-MM-DD`, or Workspace's `$currentDate-1M` style (units h, d, w, M, q, y, b);
    /// bound as a date.
    Date,
    /// `true` or `false`.
    Boolean,
}

impl ParamType {
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Boolean => "boolean",
        }
    }
}

/// One choice of a parameter's fixed `options`: a bare value, or a value with a label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamChoice {
    Labeled { label: String, value: Value },
    Plain(Value),
}

impl ParamChoice {
    pub fn value(&self) -> &Value {
        match self {
            Self::Labeled { value, .. } | Self::Plain(value) => value,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Labeled { label, .. } => label.clone(),
            Self::Plain(value) => text_of(value).unwrap_or_default(),
        }
    }
}

/// A declared `{{name}}` parameter of a saved query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// The name used in the SQL as `{{name}}`: letters, digits and `_`.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Used when a run sends no value. A date default may be `$currentDate-1M` style; a
    /// `multiple` default may be a list or a comma-separated string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
    /// Fixed choices: a list of values or of `{label, value}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub options: Option<Vec<ParamChoice>>,
    /// A read-only query on the same connection whose first column lists the choices (the
    /// second, when there is one, labels them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options_sql: Option<String>,
    /// Several values, sent as one comma-separated string: `IN ({{name}})` gets one bound
    /// placeholder per value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
}

impl ParameterSpec {
    /// The label Workspace shows: the declared one, else the name.
    pub fn label_or_name(&self) -> &str {
        self.label.as_deref().filter(|l| !l.trim().is_empty()).unwrap_or(&self.name)
    }

    /// The default as the text Workspace would send, with date modifiers left unresolved.
    pub fn default_text(&self) -> Option<String> {
        match self.default.as_ref()? {
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().filter_map(text_of).collect();
                Some(parts.join(","))
            }
            other => text_of(other),
        }
    }
}

/// A statement with its parameters replaced by placeholders, and the values to bind to them in
/// order.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub sql: String,
    pub params: Vec<BoundValue>,
}

/// The `{{name}}` slots of `sql` as `dialect` reads it.
pub fn slots(sql: &str, dialect: Dialect) -> Result<Vec<TemplateSlot>> {
    Ok(connectors::statement::template_slots(sql, dialect)?)
}

/// Declares every `{{name}}` of `sql` as a single text parameter without default: for SQL typed
/// ad hoc (the workbench), where nothing declares them.
pub fn text_specs(sql: &str, dialect: Dialect) -> Result<Vec<ParameterSpec>> {
    let mut seen = HashSet::new();
    Ok(slots(sql, dialect)?
        .into_iter()
        .filter(|slot| seen.insert(slot.name.clone()))
        .map(|slot| ParameterSpec {
            name: slot.name,
            kind: ParamType::Text,
            label: None,
            description: None,
            default: None,
            options: None,
            options_sql: None,
            multiple: false,
        })
        .collect())
}

/// Checks declarations on their own: names, types of defaults and options, `options_sql`.
pub fn check_specs(declared: &[ParameterSpec]) -> Result<()> {
    if declared.len() > MAX_PARAMETERS {
        return Err(Error::BadRequest(format!("a saved query has at most {MAX_PARAMETERS} parameters")));
    }
    let mut names = HashSet::new();
    for spec in declared {
        let name = &spec.name;
        let valid_name = !name.is_empty()
            && name.len() <= connectors::statement::TEMPLATE_NAME_MAX
            && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid_name {
            return Err(Error::BadRequest(format!(
                "parameter {name:?}: a name has 1-{} letters, digits or '_' and starts with a letter or '_'",
                connectors::statement::TEMPLATE_NAME_MAX
            )));
        }
        if !names.insert(name.as_str()) {
            return Err(Error::BadRequest(format!("parameter {name}: declared twice")));
        }
        for (what, text) in [("label", &spec.label), ("description", &spec.description)] {
            if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
                return Err(Error::BadRequest(format!(
                    "parameter {name}: the {what} is longer than {MAX_TEXT} characters"
                )));
            }
        }
        if spec.multiple && spec.kind == ParamType::Boolean {
            return Err(Error::BadRequest(format!("parameter {name}: a boolean cannot take several values")));
        }
        if let Some(default) = &spec.default {
            let ok_shape = match default {
                Value::Array(items) => spec.multiple && items.iter().all(|v| text_of(v).is_some()),
                Value::Null => true,
                other => text_of(other).is_some(),
            };
            if !ok_shape {
                return Err(Error::BadRequest(format!(
                    "parameter {name}: the default must be a {}{}",
                    spec.kind.name(),
                    if spec.multiple { " or a list of them" } else { "" }
                )));
            }
            if let Some(text) = spec.default_text().filter(|t| !t.trim().is_empty()) {
                values_of(spec, &text, dates::today())
                    .map_err(|e| Error::BadRequest(format!("the default of {e}")))?;
            }
        }
        if let Some(options) = &spec.options {
            if options.len() > MAX_OPTIONS {
                return Err(Error::BadRequest(format!("parameter {name}: at most {MAX_OPTIONS} options")));
            }
            for choice in options {
                let text = text_of(choice.value()).ok_or_else(|| {
                    Error::BadRequest(format!(
                        "parameter {name}: an option's value must be text, a number or a boolean"
                    ))
                })?;
                typed(spec, &text, dates::today())
                    .map_err(|e| Error::BadRequest(format!("an option of {e}")))?;
            }
        }
        if let Some(options_sql) = &spec.options_sql {
            connectors::statement::check(options_sql, true).map_err(|e| {
                Error::BadRequest(format!(
                    "parameter {name}: options_sql must be one read-only statement: {e}"
                ))
            })?;
            if options_sql.contains("{{") {
                return Err(Error::BadRequest(format!(
                    "parameter {name}: options_sql cannot use parameters"
                )));
            }
        }
    }
    Ok(())
}

/// Checks a saved query's SQL against its declarations: every `{{name}}` in the SQL must be
/// declared, and the declarations must be valid.
pub fn validate(sql: &str, declared: &[ParameterSpec], dialect: Dialect) -> Result<()> {
    check_specs(declared)?;
    for slot in slots(sql, dialect)? {
        if !declared.iter().any(|d| d.name == slot.name) {
            return Err(Error::BadRequest(format!(
                "parameter {}: the SQL uses {{{{{}}}}} but declares no parameter of that name; add it to \"parameters\"",
                slot.name, slot.name
            )));
        }
    }
    Ok(())
}

/// Replaces each `{{name}}` of `sql` by placeholders of `dialect` and returns the values to bind:
/// `values[name]` when present and not blank, else the declared default. A `multiple`
/// parameter's comma-separated values each get a placeholder (`IN ({{x}})` → `IN (?, ?)`).
/// SQL without `{{` is returned unchanged with no values, so callers may call this always.
pub fn bind(
    sql: &str,
    declared: &[ParameterSpec],
    values: &HashMap<String, String>,
    dialect: Dialect,
) -> Result<Bound> {
    let slots = slots(sql, dialect)?;
    if slots.is_empty() {
        return Ok(Bound { sql: sql.to_string(), params: Vec::new() });
    }
    let today = dates::today();
    let mut resolved: HashMap<&str, Vec<BoundValue>> = HashMap::new();
    for slot in &slots {
        if resolved.contains_key(slot.name.as_str()) {
            continue;
        }
        let spec = declared.iter().find(|d| d.name == slot.name).ok_or_else(|| {
            Error::BadRequest(format!("parameter {}: the SQL uses it but it is not declared", slot.name))
        })?;
        let sent = values.get(&spec.name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let text = match sent {
            Some(text) => text.to_string(),
            None => spec.default_text().filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                Error::Unprocessable(format!(
                    "{} missing: choose a value for the \"{}\" parameter",
                    spec.name,
                    spec.label_or_name()
                ))
            })?,
        };
        resolved.insert(spec.name.as_str(), values_of(spec, &text, today)?);
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut params = Vec::new();
    let mut at = 0;
    for slot in &slots {
        out.push_str(&sql[at..slot.start]);
        at = slot.end;
        let spec = declared.iter().find(|d| d.name == slot.name);
        let is_date = spec.is_some_and(|s| s.kind == ParamType::Date);
        let values = resolved.get(slot.name.as_str()).map(Vec::as_slice).unwrap_or_default();
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            params.push(value.clone());
            out.push_str(&placeholder(dialect, params.len(), value, is_date));
        }
    }
    out.push_str(&sql[at..]);
    Ok(Bound { sql: out, params })
}

/// The placeholder of the `n`th value, typed where the engine would otherwise guess: a date
/// arrives as text, which PostgreSQL and DuckDB-backed Snowflake emulators will not compare with
/// a DATE column on their own. SQLite keeps dates as text, so its dates stay text.
fn placeholder(dialect: Dialect, n: usize, value: &BoundValue, is_date: bool) -> String {
    if !is_date {
        return dialect.bound(n, value);
    }
    let p = dialect.placeholder(n);
    match dialect {
        Dialect::Sqlite => p,
        Dialect::Mysql | Dialect::Postgres | Dialect::Duckdb => format!("CAST({p} AS DATE)"),
        Dialect::Snowflake => format!("TO_DATE({p})"),
    }
}

/// The values of one parameter from the text a client sent.
fn values_of(spec: &ParameterSpec, text: &str, today: time::Date) -> Result<Vec<BoundValue>> {
    if !spec.multiple {
        return Ok(vec![typed(spec, text, today)?]);
    }
    let parts: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(Error::Unprocessable(format!("{} missing: choose at least one value", spec.name)));
    }
    if parts.len() > MAX_VALUES {
        return Err(Error::BadRequest(format!("parameter {}: at most {MAX_VALUES} values", spec.name)));
    }
    parts.into_iter().map(|p| typed(spec, p, today)).collect()
}

/// One value checked against the parameter's type.
fn typed(spec: &ParameterSpec, text: &str, today: time::Date) -> Result<BoundValue> {
    let name = &spec.name;
    let text = text.trim();
    let wrong = |what: &str| {
        let shown: String = text.chars().take(40).collect();
        Error::BadRequest(format!("parameter {name}: {shown:?} is not {what}"))
    };
    match spec.kind {
        ParamType::Text => {
            if text.chars().count() > MAX_TEXT {
                return Err(Error::BadRequest(format!(
                    "parameter {name}: longer than {MAX_TEXT} characters"
                )));
            }
            if text.contains('\0') {
                return Err(wrong("text without NUL characters"));
            }
            Ok(BoundValue::Text(text.to_string()))
        }
        ParamType::Number => {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(BoundValue::Int(i));
            }
            // Only plain decimal spellings: Rust also parses "inf" and "NaN".
            let plain = !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
            match text.parse::<f64>() {
                Ok(f) if plain && f.is_finite() => Ok(BoundValue::Float(f)),
                _ => Err(wrong("a number")),
            }
        }
        ParamType::Date => {
            let date = dates::resolve_date(text, today)
                .ok_or_else(|| wrong("a date (YYYY-MM-DD or $currentDate-1M)"))?;
            Ok(BoundValue::Text(dates::format(date)))
        }
        ParamType::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(BoundValue::Bool(true)),
            "false" | "0" | "no" | "off" => Ok(BoundValue::Bool(false)),
            _ => Err(wrong("true or false")),
        },
    }
}

/// A scalar JSON value as the text a query string would carry.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: Value) -> ParameterSpec {
        serde_json::from_value(value).unwrap()
    }

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn binds_each_type_in_each_dialect() {
        let declared = vec![
            spec(json!({"name": "t", "type": "text"})),
            spec(json!({"name": "n", "type": "number"})),
            spec(json!({"name": "d", "type": "date"})),
            spec(json!({"name": "b", "type": "boolean"})),
        ];
        let sql = "SELECT * FROM x WHERE a = {{t}} AND b > {{n}} AND c >= {{d}} AND e = {{b}} AND f = {{t}}";
        let v = values(&[("t", "AAPL"), ("n", "1.5"), ("d", "2024-01-31"), ("b", "true")]);
        let bound = bind(sql, &declared, &v, Dialect::Sqlite).unwrap();
        assert_eq!(bound.sql, "SELECT * FROM x WHERE a = ? AND b > ? AND c >= ? AND e = ? AND f = ?");
        assert_eq!(
            bound.params,
            vec![
                BoundValue::Text("AAPL".into()),
                BoundValue::Float(1.5),
                BoundValue::Text("2024-01-31".into()),
                BoundValue::Bool(true),
                BoundValue::Text("AAPL".into()),
            ]
        );
        let pg = bind(sql, &declared, &v, Dialect::Postgres).unwrap();
        assert!(
            pg.sql.contains("a = CAST($1 AS TEXT)") && pg.sql.contains("c >= CAST($3 AS DATE)"),
            "{}",
            pg.sql
        );
        assert!(bind(sql, &declared, &v, Dialect::Snowflake).unwrap().sql.contains("TO_DATE(?)"));
        assert!(bind(sql, &declared, &v, Dialect::Mysql).unwrap().sql.contains("CAST(? AS DATE)"));
    }

    #[test]
    fn multiple_values_expand_and_defaults_fill_in() {
        let declared = vec![
            spec(json!({"name": "tickers", "type": "text", "multiple": true, "default": ["AAPL", "MSFT"]})),
            spec(json!({"name": "since", "type": "date", "default": "$currentDate-1M"})),
        ];
        let sql = "SELECT 1 WHERE t IN ({{tickers}}) AND d >= {{since}}";
        let bound = bind(sql, &declared, &values(&[("tickers", "A, B,C")]), Dialect::Postgres).unwrap();
        assert!(
            bound.sql.contains("IN (CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT))"),
            "{}",
            bound.sql
        );
        assert_eq!(bound.params.len(), 4);
        let defaulted = bind(sql, &declared, &HashMap::new(), Dialect::Sqlite).unwrap();
        assert_eq!(defaulted.sql, "SELECT 1 WHERE t IN (?, ?) AND d >= ?");
        let month_ago = dates::resolve_date("$currentDate-1M", today()).unwrap();
        assert_eq!(defaulted.params[2], BoundValue::Text(dates::format(month_ago)));
    }

    #[test]
    fn errors_name_the_parameter() {
        let declared = vec![spec(json!({"name": "n", "type": "number"}))];
        let e = bind("SELECT {{n}}", &declared, &values(&[("n", "1; DROP TABLE x")]), Dialect::Sqlite)
            .unwrap_err();
        assert!(e.to_string().contains("parameter n"), "{e}");
        let e = bind("SELECT {{n}}", &declared, &HashMap::new(), Dialect::Sqlite).unwrap_err();
        assert!(matches!(e, Error::Unprocessable(_)) && e.to_string().starts_with("n missing"), "{e}");
        let e = validate("SELECT {{m}}", &declared, Dialect::Sqlite).unwrap_err();
        assert!(e.to_string().contains("parameter m"), "{e}");
        let e = bind("SELECT {{n", &declared, &HashMap::new(), Dialect::Sqlite).unwrap_err();
        assert!(e.to_string().contains("parameter n"), "{e}");
        for bad in ["inf", "NaN", "", "1e999"] {
            assert!(typed(&declared[0], bad, today()).is_err(), "{bad}");
        }
        let dup = vec![declared[0].clone(), declared[0].clone()];
        assert!(check_specs(&dup).unwrap_err().to_string().contains("declared twice"));
        let bad_default = vec![spec(json!({"name": "d", "type": "date", "default": "yesterday"}))];
        assert!(check_specs(&bad_default).unwrap_err().to_string().contains("parameter d"));
    }

    #[test]
    fn text_in_strings_and_comments_is_left_alone() {
        let declared = vec![spec(json!({"name": "x", "type": "text"}))];
        let sql = "SELECT '{{x}}' AS s -- {{x}}\n, {{x}} AS v";
        let bound = bind(sql, &declared, &values(&[("x", "' OR 1=1 --")]), Dialect::Sqlite).unwrap();
        assert_eq!(bound.sql, "SELECT '{{x}}' AS s -- {{x}}\n, ? AS v");
        assert_eq!(bound.params, vec![BoundValue::Text("' OR 1=1 --".into())]);
        assert_eq!(text_specs("SELECT {{a}}, {{a}}, {{b}}", Dialect::Mysql).unwrap().len(), 2);
    }
}
