//! AG Grid's server-side row model request, as Workspace sends it: the grid's
//! `IServerSideGetRowsRequest` (the native protocol wraps it in `{"request": ...}`,
//! `ssrm_table` widgets post it bare, merged with the widget's params).

use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowRequest {
    pub start_row: Option<u64>,
    pub end_row: Option<u64>,
    pub sort_model: Option<Vec<SortItem>>,
    pub filter_model: Option<Map<String, Value>>,
    pub row_group_cols: Option<Vec<ColumnRef>>,
    pub value_cols: Option<Vec<ValueColumn>>,
    pub pivot_cols: Option<Vec<ColumnRef>>,
    pub pivot_mode: Option<bool>,
    pub group_keys: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SortItem {
    pub col_id: String,
    pub sort: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnRef {
    pub id: Option<String>,
    pub field: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueColumn {
    pub id: Option<String>,
    pub field: Option<String>,
    pub agg_func: Option<String>,
}

impl ColumnRef {
    pub fn column(&self) -> Result<&str> {
        column_of(self.field.as_deref(), self.id.as_deref())
    }
}

impl ValueColumn {
    pub fn column(&self) -> Result<&str> {
        column_of(self.field.as_deref(), self.id.as_deref())
    }
}

fn column_of<'a>(field: Option<&'a str>, id: Option<&'a str>) -> Result<&'a str> {
    field
        .or(id)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::Unprocessable("a grouping or value column has neither field nor id".into()))
}

/// Sorting by the grid's own group column means "by the group values", which the group query
/// already orders by; the frontend strips it too.
pub const AUTO_COLUMN: &str = "ag-Grid-AutoColumn";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Equals,
    NotEqual,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Blank,
    NotBlank,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equals,
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    InRange,
    Blank,
    NotBlank,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// One column's filter, parsed from AG Grid's filter model.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Text {
        op: TextOp,
        value: Option<String>,
    },
    Number {
        op: CompareOp,
        from: Option<Number>,
        to: Option<Number>,
    },
    /// Days as `YYYY-MM-DD`; the grid sends `YYYY-MM-DD HH:MM:SS` and compares days.
    Date {
        op: CompareOp,
        from: Option<String>,
        to: Option<String>,
    },
    /// `None` stands for the grid's "(Blanks)" entry.
    Set {
        values: Vec<Option<String>>,
    },
    /// Two (or more) conditions joined by AND or OR.
    Combined {
        all: bool,
        conditions: Vec<Filter>,
    },
    /// A multi filter: every sub-filter applies.
    Multi(Vec<Filter>),
}

impl Filter {
    pub fn parse(column: &str, value: &Value) -> Result<Self> {
        let bad = |why: String| Error::Unprocessable(format!("filter on {column:?}: {why}"));
        let object = value.as_object().ok_or_else(|| bad("must be an object".into()))?;
        let filter_type = object.get("filterType").and_then(Value::as_str).unwrap_or("text");
        if let Some(operator) = object.get("operator").and_then(Value::as_str) {
            let all = match operator.to_ascii_uppercase().as_str() {
                "AND" => true,
                "OR" => false,
                other => return Err(bad(format!("unknown operator {other:?}; use AND or OR"))),
            };
            let conditions: Vec<&Value> = match object.get("conditions").and_then(Value::as_array) {
                Some(list) => list.iter().collect(),
                None => ["condition1", "condition2"].iter().filter_map(|k| object.get(*k)).collect(),
            };
            let conditions = conditions
                .into_iter()
                .map(|c| {
                    let mut c = c.clone();
                    if let Some(map) = c.as_object_mut() {
                        map.entry("filterType").or_insert_with(|| Value::String(filter_type.to_string()));
                    }
                    Self::parse(column, &c)
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(Self::Combined { all, conditions });
        }
        let op_name = object.get("type").and_then(Value::as_str).unwrap_or("");
        match filter_type {
            "text" => {
                Ok(Self::Text { op: text_op(op_name).map_err(bad)?, value: text_value(object.get("filter")) })
            }
            "number" => Ok(Self::Number {
                op: compare_op(op_name).map_err(bad)?,
                from: number_value(object.get("filter")).map_err(bad)?,
                to: number_value(object.get("filterTo")).map_err(bad)?,
            }),
            "date" => Ok(Self::Date {
                op: compare_op(op_name).map_err(bad)?,
                from: date_value(object.get("dateFrom")).map_err(bad)?,
                to: date_value(object.get("dateTo")).map_err(bad)?,
            }),
            "set" => {
                let values = object
                    .get("values")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad("a set filter needs \"values\"".into()))?;
                Ok(Self::Set { values: values.iter().map(|v| text_value(Some(v))).collect() })
            }
            "multi" => {
                let models =
                    object.get("filterModels").and_then(Value::as_array).cloned().unwrap_or_default();
                let filters = models
                    .iter()
                    .filter(|m| !m.is_null())
                    .map(|m| Self::parse(column, m))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Self::Multi(filters))
            }
            other => Err(bad(format!("unsupported filterType {other:?}; use text, number, date or set"))),
        }
    }
}

fn text_op(name: &str) -> Result<TextOp, String> {
    Ok(match name {
        "equals" => TextOp::Equals,
        "notEqual" => TextOp::NotEqual,
        "contains" => TextOp::Contains,
        "notContains" => TextOp::NotContains,
        "startsWith" => TextOp::StartsWith,
        "endsWith" => TextOp::EndsWith,
        "blank" => TextOp::Blank,
        "notBlank" => TextOp::NotBlank,
        other => return Err(format!("unsupported text filter type {other:?}")),
    })
}

fn compare_op(name: &str) -> Result<CompareOp, String> {
    Ok(match name {
        "equals" => CompareOp::Equals,
        "notEqual" => CompareOp::NotEqual,
        "lessThan" => CompareOp::LessThan,
        "lessThanOrEqual" => CompareOp::LessThanOrEqual,
        "greaterThan" => CompareOp::GreaterThan,
        "greaterThanOrEqual" => CompareOp::GreaterThanOrEqual,
        "inRange" => CompareOp::InRange,
        "blank" => CompareOp::Blank,
        "notBlank" => CompareOp::NotBlank,
        other => return Err(format!("unsupported filter type {other:?}")),
    })
}

fn text_value(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn number_value(value: Option<&Value>) -> Result<Option<Number>, String> {
    let parsed = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Number::Int).or_else(|| n.as_f64().map(Number::Float)),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            s.parse::<i64>().ok().map(Number::Int).or_else(|| s.parse::<f64>().ok().map(Number::Float))
        }
        Some(_) => None,
    };
    match parsed {
        Some(Number::Float(f)) if !f.is_finite() => Err("the number must be finite".into()),
        Some(n) => Ok(Some(n)),
        None => Err(format!("{} is not a number", value.map(Value::to_string).unwrap_or_default())),
    }
}

fn date_value(value: Option<&Value>) -> Result<Option<String>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(other) => return Err(format!("{other} is not a date")),
    };
    let day = text.get(..10).unwrap_or(text);
    let bytes = day.as_bytes();
    // The grid appends a time of day; anything else after the date is not a date.
    let time = text.get(10..).unwrap_or_default();
    let shaped = bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
        && time.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | 'T' | ':' | '.' | 'Z' | '+' | '-'));
    if shaped {
        Ok(Some(day.to_string()))
    } else {
        Err(format!("{text:?} is not a date (YYYY-MM-DD)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_filter_type() {
        let f =
            Filter::parse("a", &json!({"filterType": "text", "type": "contains", "filter": "x"})).unwrap();
        assert_eq!(f, Filter::Text { op: TextOp::Contains, value: Some("x".into()) });
        let f = Filter::parse(
            "a",
            &json!({"filterType": "number", "type": "inRange", "filter": 1, "filterTo": "2.5"}),
        )
        .unwrap();
        assert_eq!(
            f,
            Filter::Number {
                op: CompareOp::InRange,
                from: Some(Number::Int(1)),
                to: Some(Number::Float(2.5))
            }
        );
        let f = Filter::parse(
            "a",
            &json!({"filterType": "date", "type": "lessThan", "dateFrom": "2024-01-02 00:00:00"}),
        )
        .unwrap();
        assert_eq!(f, Filter::Date { op: CompareOp::LessThan, from: Some("2024-01-02".into()), to: None });
        let f = Filter::parse("a", &json!({"filterType": "set", "values": ["x", null]})).unwrap();
        assert_eq!(f, Filter::Set { values: vec![Some("x".into()), None] });
    }

    #[test]
    fn parses_both_spellings_of_combined_filters() {
        let new = json!({"filterType": "text", "operator": "OR", "conditions": [
            {"filterType": "text", "type": "equals", "filter": "a"}, {"type": "equals", "filter": "b"}]});
        let old = json!({"filterType": "text", "operator": "OR",
            "condition1": {"filterType": "text", "type": "equals", "filter": "a"},
            "condition2": {"filterType": "text", "type": "equals", "filter": "b"}});
        assert_eq!(Filter::parse("a", &new).unwrap(), Filter::parse("a", &old).unwrap());
    }

    #[test]
    fn refuses_bad_input() {
        assert!(Filter::parse("a", &json!({"filterType": "number", "type": "equals", "filter": "1; drop"}))
            .is_err());
        assert!(Filter::parse("a", &json!({"filterType": "date", "type": "equals", "dateFrom": "1' or '1"}))
            .is_err());
        assert!(Filter::parse("a", &json!({"filterType": "text", "type": "regex", "filter": "x"})).is_err());
        assert!(
            Filter::parse("a", &json!({"filterType": "text", "operator": "XOR", "conditions": []})).is_err()
        );
    }
}
