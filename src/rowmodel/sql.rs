//! Turns a row-model request into SQL around the user's query: a page statement and a count
//! statement. Column names are checked against the columns the query returns and written as
//! quoted identifiers; every value is a bound parameter.

use super::model::{CompareOp, Filter, Number, RowRequest, TextOp, AUTO_COLUMN};
use crate::error::{Error, Result};
use connectors::dialect::{escape_like, Dialect};
use connectors::{Column, ColumnKind, Param};
use serde_json::Value;

/// One statement and the values its placeholders stand for.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub sql: String,
    pub params: Vec<Param>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub page: Built,
    pub count: Built,
    /// Rows the page statement asks for (`None`: to the end, under the server's row cap).
    pub limit: Option<u64>,
}

/// Whether the request names any column, so the caller must learn the query's columns first.
pub fn names_columns(request: &RowRequest) -> bool {
    request.sort_model.as_ref().is_some_and(|s| s.iter().any(|i| i.col_id != AUTO_COLUMN))
        || request.filter_model.as_ref().is_some_and(|f| !f.is_empty())
        || request.row_group_cols.as_ref().is_some_and(|g| !g.is_empty())
        || request.value_cols.as_ref().is_some_and(|v| !v.is_empty())
}

/// `subquery` is the user's statement as a derived table (`(...) AS alias`); `columns` what it
/// returns; `max_rows` the server's row cap, which also bounds one page.
pub fn plan(
    dialect: Dialect,
    subquery: &str,
    columns: &[Column],
    request: &RowRequest,
    max_rows: u64,
) -> Result<Plan> {
    let planner = Planner { dialect, columns, request };
    if request.pivot_mode == Some(true) && request.pivot_cols.as_ref().is_some_and(|p| !p.is_empty()) {
        return Err(Error::Unprocessable("pivoting is not supported; turn pivot mode off".into()));
    }
    let groups: Vec<&str> = match &request.row_group_cols {
        Some(cols) => cols.iter().map(|c| c.column()).collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let keys = request.group_keys.as_deref().unwrap_or_default();
    if keys.len() > groups.len() {
        return Err(Error::Unprocessable("more groupKeys than rowGroupCols".into()));
    }
    for column in &groups {
        planner.kind(column)?;
    }
    let start = request.start_row.unwrap_or(0);
    let limit = request.end_row.map(|end| end.saturating_sub(start).min(max_rows));
    let paging = dialect.limit_offset(limit, start);

    let mut page = Binder::new(dialect);
    let mut count = Binder::new(dialect);
    let page_where = planner.where_clause(&mut page, &groups, keys)?;
    let count_where = planner.where_clause(&mut count, &groups, keys)?;

    let (page_sql, count_sql) = if keys.len() < groups.len() {
        let group = dialect.quote_ident(groups[keys.len()]);
        let mut select = vec![group.clone()];
        let mut sortable = vec![groups[keys.len()].to_string()];
        for value in request.value_cols.as_deref().unwrap_or_default() {
            let column = value.column()?;
            planner.kind(column)?;
            let func = aggregate(value.agg_func.as_deref())?;
            let quoted = dialect.quote_ident(column);
            select.push(format!("{func}({quoted}) AS {quoted}"));
            sortable.push(column.to_string());
        }
        let order = planner.order_by(Some(&sortable))?;
        let order = if order.is_empty() { format!(" ORDER BY {group}") } else { order };
        (
            format!("SELECT {} FROM {subquery}{page_where} GROUP BY {group}{order}{paging}", select.join(", ")),
            format!("SELECT COUNT(*) AS dc_count FROM (SELECT {group} FROM {subquery}{count_where} GROUP BY {group}) AS dc_g"),
        )
    } else {
        let order = planner.order_by(None)?;
        (
            format!("SELECT * FROM {subquery}{page_where}{order}{paging}"),
            format!("SELECT COUNT(*) AS dc_count FROM {subquery}{count_where}"),
        )
    };
    Ok(Plan {
        page: Built { sql: page_sql, params: page.params },
        count: Built { sql: count_sql, params: count.params },
        limit,
    })
}

struct Binder {
    dialect: Dialect,
    params: Vec<Param>,
}

impl Binder {
    fn new(dialect: Dialect) -> Self {
        Self { dialect, params: Vec::new() }
    }

    fn bind(&mut self, param: Param) -> String {
        let placeholder = self.dialect.bound(self.params.len() + 1, &param);
        self.params.push(param);
        placeholder
    }
}

struct Planner<'a> {
    dialect: Dialect,
    columns: &'a [Column],
    request: &'a RowRequest,
}

impl Planner<'_> {
    fn kind(&self, name: &str) -> Result<ColumnKind> {
        self.columns.iter().find(|c| c.name == name).map(|c| c.kind).ok_or_else(|| {
            let known: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            Error::Unprocessable(format!("unknown column {name:?}; the query returns: {}", known.join(", ")))
        })
    }

    fn where_clause(&self, binder: &mut Binder, groups: &[&str], keys: &[Value]) -> Result<String> {
        let mut conditions = Vec::new();
        for (column, key) in groups.iter().zip(keys) {
            let kind = self.kind(column)?;
            conditions.push(self.equals_key(binder, column, kind, key));
        }
        for (column, model) in self.request.filter_model.iter().flatten() {
            let kind = self.kind(column)?;
            let filter = Filter::parse(column, model)?;
            if let Some(condition) = self.filter(binder, column, kind, &filter)? {
                conditions.push(condition);
            }
        }
        Ok(if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) })
    }

    /// A group key as the grid sends it back: the group row's value, typed as the JSON had it.
    fn equals_key(&self, binder: &mut Binder, column: &str, kind: ColumnKind, key: &Value) -> String {
        let quoted = self.dialect.quote_ident(column);
        match key {
            Value::Null => format!("{quoted} IS NULL"),
            Value::Bool(b) => format!("{quoted} = {}", binder.bind(Param::Bool(*b))),
            Value::Number(n) => match n.as_i64() {
                Some(i) => format!("{quoted} = {}", binder.bind(Param::Int(i))),
                None => format!("{quoted} = {}", binder.bind(Param::Float(n.as_f64().unwrap_or(f64::NAN)))),
            },
            Value::String(s) => match typed(kind, s) {
                Some(param) => format!("{quoted} = {}", binder.bind(param)),
                None => {
                    format!("{} = {}", self.dialect.as_text(&quoted), binder.bind(Param::Text(s.clone())))
                }
            },
            other => {
                format!("{} = {}", self.dialect.as_text(&quoted), binder.bind(Param::Text(other.to_string())))
            }
        }
    }

    fn filter(
        &self,
        binder: &mut Binder,
        column: &str,
        kind: ColumnKind,
        filter: &Filter,
    ) -> Result<Option<String>> {
        let quoted = self.dialect.quote_ident(column);
        Ok(match filter {
            Filter::Text { op, value } => self.text(binder, &quoted, *op, value.as_deref()),
            Filter::Number { op, from, to } => {
                let param = |n: &Number| match n {
                    Number::Int(i) => Param::Int(*i),
                    Number::Float(f) => Param::Float(*f),
                };
                compare(
                    binder,
                    &quoted,
                    &quoted,
                    *op,
                    from.as_ref().map(param),
                    to.as_ref().map(param),
                    |p| p,
                )
            }
            Filter::Date { op, from, to } => {
                let day = self.dialect.as_date(&quoted);
                let dialect = self.dialect;
                compare(
                    binder,
                    &quoted,
                    &day,
                    *op,
                    from.clone().map(Param::Text),
                    to.clone().map(Param::Text),
                    |p| dialect.as_date(&p),
                )
            }
            Filter::Set { values } => Some(self.set(binder, &quoted, kind, values)),
            Filter::Combined { all, conditions } => {
                self.filters(binder, column, kind, conditions, if *all { " AND " } else { " OR " })?
            }
            Filter::Multi(filters) => self.filters(binder, column, kind, filters, " AND ")?,
        })
    }

    /// Several filters on one column joined by `separator`; those that constrain nothing drop out.
    fn filters(
        &self,
        binder: &mut Binder,
        column: &str,
        kind: ColumnKind,
        filters: &[Filter],
        separator: &str,
    ) -> Result<Option<String>> {
        let parts = filters
            .iter()
            .map(|c| self.filter(binder, column, kind, c))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        Ok(join(parts, separator))
    }

    /// Text filters match case-insensitively, as the grid's own text filter does.
    fn text(&self, binder: &mut Binder, quoted: &str, op: TextOp, value: Option<&str>) -> Option<String> {
        let text = self.dialect.as_text(quoted);
        let lowered = format!("LOWER({text})");
        match op {
            TextOp::Blank => return Some(format!("({quoted} IS NULL OR {text} = '')")),
            TextOp::NotBlank => return Some(format!("({quoted} IS NOT NULL AND {text} <> '')")),
            _ => {}
        }
        let value = value?.to_lowercase();
        let like = |binder: &mut Binder, pattern: String| {
            let placeholder = binder.bind(Param::Text(pattern));
            self.dialect.like(&lowered, &placeholder)
        };
        Some(match op {
            TextOp::Equals => format!("{lowered} = {}", binder.bind(Param::Text(value))),
            TextOp::NotEqual => {
                format!("({quoted} IS NULL OR {lowered} <> {})", binder.bind(Param::Text(value)))
            }
            TextOp::Contains => like(binder, format!("%{}%", escape_like(&value))),
            TextOp::NotContains => {
                format!("({quoted} IS NULL OR NOT ({}))", like(binder, format!("%{}%", escape_like(&value))))
            }
            TextOp::StartsWith => like(binder, format!("{}%", escape_like(&value))),
            TextOp::EndsWith => like(binder, format!("%{}", escape_like(&value))),
            TextOp::Blank | TextOp::NotBlank => return None,
        })
    }

    /// Set values arrive as the grid's text keys; numbers and booleans are bound typed so that
    /// `1` matches `1.0`, everything else is compared as text.
    fn set(&self, binder: &mut Binder, quoted: &str, kind: ColumnKind, values: &[Option<String>]) -> String {
        let present: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
        let nulls = values.iter().any(Option::is_none);
        let typed_all: Option<Vec<Param>> = present.iter().map(|v| typed(kind, v)).collect();
        let mut parts = Vec::new();
        if !present.is_empty() {
            let (target, params) = match typed_all {
                Some(params) => (quoted.to_string(), params),
                None => (
                    self.dialect.as_text(quoted),
                    present.iter().map(|v| Param::Text((*v).to_string())).collect(),
                ),
            };
            let placeholders: Vec<String> = params.into_iter().map(|p| binder.bind(p)).collect();
            parts.push(format!("{target} IN ({})", placeholders.join(", ")));
        }
        if nulls {
            parts.push(format!("{quoted} IS NULL"));
        }
        // An empty selection shows nothing, as in the grid.
        join(parts, " OR ").unwrap_or_else(|| "1 = 0".to_string())
    }

    fn order_by(&self, allowed: Option<&[String]>) -> Result<String> {
        let mut items = Vec::new();
        for item in self.request.sort_model.iter().flatten() {
            if item.col_id == AUTO_COLUMN || item.col_id.starts_with(&format!("{AUTO_COLUMN}-")) {
                continue;
            }
            self.kind(&item.col_id)?;
            if allowed.is_some_and(|a| !a.contains(&item.col_id)) {
                continue;
            }
            let direction = match item.sort.to_ascii_lowercase().as_str() {
                "asc" => "ASC",
                "desc" => "DESC",
                other => {
                    return Err(Error::Unprocessable(format!(
                        "unknown sort direction {other:?}; use asc or desc"
                    )))
                }
            };
            items.push(format!("{} {direction}", self.dialect.quote_ident(&item.col_id)));
        }
        Ok(if items.is_empty() { String::new() } else { format!(" ORDER BY {}", items.join(", ")) })
    }
}

/// Number and date comparisons. `target` is what is compared (the column, or its day) and
/// `wrap` turns a placeholder into the same kind of value. Ranges are exclusive, as the grid's
/// default `inRangeInclusive: false`; "not equal" keeps blanks, as the grid does.
fn compare(
    binder: &mut Binder,
    quoted: &str,
    target: &str,
    op: CompareOp,
    from: Option<Param>,
    to: Option<Param>,
    wrap: impl Fn(String) -> String,
) -> Option<String> {
    let bound = |binder: &mut Binder, p: Param| wrap(binder.bind(p));
    Some(match op {
        CompareOp::Blank => format!("{quoted} IS NULL"),
        CompareOp::NotBlank => format!("{quoted} IS NOT NULL"),
        CompareOp::InRange => {
            let (from, to) = (from?, to?);
            let low = bound(binder, from);
            let high = bound(binder, to);
            format!("({target} > {low} AND {target} < {high})")
        }
        CompareOp::NotEqual => {
            let v = bound(binder, from?);
            format!("({quoted} IS NULL OR {target} <> {v})")
        }
        op => {
            let symbol = match op {
                CompareOp::Equals => "=",
                CompareOp::LessThan => "<",
                CompareOp::LessThanOrEqual => "<=",
                CompareOp::GreaterThan => ">",
                _ => ">=",
            };
            let v = bound(binder, from?);
            format!("{target} {symbol} {v}")
        }
    })
}

fn join(parts: Vec<String>, separator: &str) -> Option<String> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(format!("({})", parts.join(separator))),
    }
}

fn typed(kind: ColumnKind, text: &str) -> Option<Param> {
    let text = text.trim();
    match kind {
        ColumnKind::Integer | ColumnKind::Float | ColumnKind::Decimal => text
            .parse::<i64>()
            .ok()
            .map(Param::Int)
            .or_else(|| text.parse::<f64>().ok().filter(|f| f.is_finite()).map(Param::Float)),
        ColumnKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Param::Bool(true)),
            "false" | "0" => Some(Param::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

fn aggregate(name: Option<&str>) -> Result<&'static str> {
    Ok(match name.unwrap_or("sum").to_ascii_lowercase().as_str() {
        "sum" => "SUM",
        "min" => "MIN",
        "max" => "MAX",
        "avg" => "AVG",
        "count" => "COUNT",
        other => {
            return Err(Error::Unprocessable(format!(
                "unsupported aggFunc {other:?}; use sum, min, max, avg or count"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn columns() -> Vec<Column> {
        vec![
            Column::new("id", "INTEGER", ColumnKind::Integer),
            Column::new("name", "TEXT", ColumnKind::Text),
            Column::new("day", "DATE", ColumnKind::Date),
        ]
    }

    fn request(value: Value) -> RowRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn values_are_bound_and_names_quoted() {
        let r = request(json!({"startRow": 10, "endRow": 20,
            "sortModel": [{"colId": "name", "sort": "desc"}],
            "filterModel": {"name": {"filterType": "text", "type": "contains", "filter": "x'%"},
                            "id": {"filterType": "number", "type": "inRange", "filter": 1, "filterTo": 9}}}));
        let p = plan(Dialect::Postgres, "(q) AS dc_q", &columns(), &r, 1000).unwrap();
        assert!(
            p.page.sql.contains("LOWER(CAST(\"name\" AS TEXT)) LIKE CAST($1 AS TEXT) ESCAPE '!'"),
            "{}",
            p.page.sql
        );
        assert!(
            p.page.sql.contains("(\"id\" > CAST($2 AS BIGINT) AND \"id\" < CAST($3 AS BIGINT))"),
            "{}",
            p.page.sql
        );
        assert!(p.page.sql.ends_with("ORDER BY \"name\" DESC LIMIT 10 OFFSET 10"), "{}", p.page.sql);
        // Filters apply in the order the grid sent them.
        assert_eq!(p.page.params[0], Param::Text("%x'!%%".into()));
        assert!(!p.page.sql.contains("x'"));
        assert_eq!(p.count.params.len(), 3);
        assert_eq!(p.limit, Some(10));
    }

    #[test]
    fn unknown_columns_are_refused() {
        let r = request(json!({"sortModel": [{"colId": "id; DROP TABLE t", "sort": "asc"}]}));
        assert!(plan(Dialect::Sqlite, "(q) AS dc_q", &columns(), &r, 1000).is_err());
        let r = request(
            json!({"filterModel": {"nope": {"filterType": "text", "type": "equals", "filter": "a"}}}),
        );
        assert!(plan(Dialect::Sqlite, "(q) AS dc_q", &columns(), &r, 1000).is_err());
    }

    #[test]
    fn group_level_selects_groups_and_aggregates() {
        let r = request(json!({"rowGroupCols": [{"id": "name", "field": "name"}],
            "valueCols": [{"id": "id", "field": "id", "aggFunc": "sum"}], "groupKeys": []}));
        let p = plan(Dialect::Mysql, "(q) AS dc_q", &columns(), &r, 1000).unwrap();
        assert_eq!(
            p.page.sql,
            "SELECT `name`, SUM(`id`) AS `id` FROM (q) AS dc_q GROUP BY `name` ORDER BY `name`"
        );
        let r = request(json!({"rowGroupCols": [{"id": "name"}], "groupKeys": ["a"]}));
        let p = plan(Dialect::Mysql, "(q) AS dc_q", &columns(), &r, 1000).unwrap();
        assert!(p.page.sql.contains("WHERE CAST(`name` AS CHAR) = ?"), "{}", p.page.sql);
    }

    #[test]
    fn empty_set_matches_nothing_and_null_means_blank() {
        let r = request(json!({"filterModel": {"id": {"filterType": "set", "values": []}}}));
        let p = plan(Dialect::Sqlite, "(q) AS dc_q", &columns(), &r, 1000).unwrap();
        assert!(p.page.sql.contains("WHERE 1 = 0"));
        let r = request(json!({"filterModel": {"id": {"filterType": "set", "values": ["1", null]}}}));
        let p = plan(Dialect::Sqlite, "(q) AS dc_q", &columns(), &r, 1000).unwrap();
        assert!(p.page.sql.contains("(\"id\" IN (?) OR \"id\" IS NULL)"), "{}", p.page.sql);
        assert_eq!(p.page.params, vec![Param::Int(1)]);
    }
}
