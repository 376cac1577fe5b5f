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
    request.sort_model.as_ref().is_some_and(|s| s.iter().any(|i| !is_auto_column(&i.col_id)))
        || request.filter_model.as_ref().is_some_and(|f| !f.is_empty())
        || request.row_group_cols.as_ref().is_some_and(|g| !g.is_empty())
        || request.value_cols.as_ref().is_some_and(|v| !v.is_empty())
        || pivoting(request)
}

fn is_auto_column(col_id: &str) -> bool {
    col_id == AUTO_COLUMN || col_id.starts_with(&format!("{AUTO_COLUMN}-"))
}

/// Pivot mode with at least one pivot column; pivot mode alone is plain grouping.
pub fn pivoting(request: &RowRequest) -> bool {
    request.pivot_mode == Some(true) && request.pivot_cols.as_ref().is_some_and(|p| !p.is_empty())
}

/// The most columns a pivot may generate (pivot keys times value columns): beyond this a grid
/// is unreadable and the statement grows past what databases parse quickly.
pub const MAX_PIVOT_COLUMNS: usize = 200;

/// Longest generated column name: PostgreSQL silently truncates identifiers past 63 bytes, which
/// would break the match between `pivotResultFields` and the row keys.
const MAX_PIVOT_FIELD_BYTES: usize = 63;

/// The page of a request that neither sorts, filters, groups nor pivots, as the statement itself
/// with paging appended, so the rows keep the statement's own order: MariaDB drops an `ORDER BY`
/// inside a derived table, and no engine promises to keep one. `None` when the statement has its
/// own top-level LIMIT/OFFSET/FETCH (then the wrapped form keeps the order: a derived table with
/// a LIMIT is ordered) or the request needs the wrapper.
pub fn direct_page(
    dialect: Dialect,
    body: &str,
    request: &RowRequest,
    max_rows: u64,
) -> Option<(Built, Option<u64>)> {
    let plain = !names_columns(request) && request.group_keys.as_ref().is_none_or(Vec::is_empty);
    if !plain || has_top_level_paging(body, dialect == Dialect::Mysql) {
        return None;
    }
    let start = request.start_row.unwrap_or(0);
    let limit = request.end_row.map(|end| end.saturating_sub(start).min(max_rows));
    let paging = dialect.limit_offset(limit, start);
    // On its own line, so a trailing `--` comment in the statement cannot swallow it.
    let sql = if paging.is_empty() { body.to_string() } else { format!("{body}\n{}", paging.trim_start()) };
    Some((Built { sql, params: Vec::new() }, limit))
}

/// Whether `sql` has LIMIT, OFFSET or FETCH outside parentheses, strings, quoted names and
/// comments (`#` starts one only in MySQL, where PostgreSQL has an operator).
pub fn has_top_level_paging(sql: &str, hash_comments: bool) -> bool {
    let bytes = sql.as_bytes();
    let mut depth = 0i64;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b {
                        if bytes.get(i + 1) == Some(&b) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    // MySQL's backslash escapes in strings.
                    if bytes[i] == b'\\' && b != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' if hash_comments => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'$' => {
                // A PostgreSQL dollar quote: $tag$ ... $tag$.
                let tag_end = bytes[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(end) if bytes[end] == b'$' => {
                        let tag = &sql[i..=end];
                        match sql[end + 1..].find(tag) {
                            Some(close) => i = end + 1 + close + tag.len(),
                            None => return false,
                        }
                    }
                    _ => i += 1,
                }
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth -= 1;
                i += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &sql[start..i];
                if depth == 0 && ["LIMIT", "OFFSET", "FETCH"].iter().any(|k| word.eq_ignore_ascii_case(k)) {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

/// The distinct pivot keys (one row per combination of the pivot columns' values, filters
/// applied), at most one more than the cap allows so that going over it can be told.
pub fn pivot_keys(
    dialect: Dialect,
    subquery: &str,
    inner: &[Param],
    columns: &[Column],
    request: &RowRequest,
) -> Result<Built> {
    let planner = Planner { dialect, columns, request };
    let pivots = pivot_columns(&planner)?;
    let quoted: Vec<String> = pivots.iter().map(|p| dialect.quote_ident(p)).collect();
    let mut binder = Binder::after_subquery(dialect, inner);
    let groups = group_columns(request)?;
    let keys = request.group_keys.as_deref().unwrap_or_default();
    let where_clause = planner.where_clause(&mut binder, &groups, keys)?;
    let list = quoted.join(", ");
    let cap = MAX_PIVOT_COLUMNS as u64 + 1;
    Ok(Built {
        sql: format!(
            "SELECT DISTINCT {list} FROM {subquery}{where_clause} ORDER BY {list}{}",
            dialect.limit_offset(Some(cap), 0)
        ),
        params: binder.params,
    })
}

/// A pivot page: the group rows (or one total row without row groups) with one conditional
/// aggregate per pivot key and value column, and the fields those columns have.
#[derive(Debug, Clone, PartialEq)]
pub struct PivotPlan {
    pub plan: Plan,
    pub fields: Vec<String>,
}

/// `key_rows` are the rows `pivot_keys` returned, as JSON objects keyed by pivot column.
pub fn plan_pivot(
    dialect: Dialect,
    subquery: &str,
    inner: &[Param],
    columns: &[Column],
    request: &RowRequest,
    key_rows: &[serde_json::Map<String, Value>],
    max_rows: u64,
) -> Result<PivotPlan> {
    let planner = Planner { dialect, columns, request };
    let pivots = pivot_columns(&planner)?;
    let values = request.value_cols.as_deref().unwrap_or_default();
    if values.is_empty() {
        return Err(Error::Unprocessable(
            "pivot mode needs at least one value column: drag a column to \"Values\"".into(),
        ));
    }
    let generated = key_rows.len().saturating_mul(values.len());
    if key_rows.len() > MAX_PIVOT_COLUMNS || generated > MAX_PIVOT_COLUMNS {
        return Err(Error::Unprocessable(format!(
            "pivoting on {} makes more than {MAX_PIVOT_COLUMNS} columns; filter the rows first or pivot on a \
             column with fewer distinct values",
            pivots.join(", ")
        )));
    }
    let groups = group_columns(request)?;
    let keys = request.group_keys.as_deref().unwrap_or_default();
    if !groups.is_empty() && keys.len() >= groups.len() {
        return Err(Error::Unprocessable(
            "in pivot mode every row is a group; more groupKeys than rowGroupCols".into(),
        ));
    }
    for column in &groups {
        planner.kind(column)?;
    }
    // The conditional aggregates' placeholders stand before the subquery in the text.
    let mut page = Binder::before_subquery(dialect, inner);
    let mut select = Vec::new();
    let mut fields = Vec::new();
    let mut sortable = Vec::new();
    let group = groups.get(keys.len()).map(|g| dialect.quote_ident(g));
    if let (Some(quoted), Some(name)) = (&group, groups.get(keys.len())) {
        select.push(quoted.clone());
        sortable.push(name.to_string());
    }
    for row in key_rows {
        let keys_of_row: Vec<Value> =
            pivots.iter().map(|pivot| row.get(*pivot).cloned().unwrap_or(Value::Null)).collect();
        let names: Vec<String> = keys_of_row
            .iter()
            .map(|key| match key {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        for value in values {
            // Bound again for every value column: `?` placeholders are positional.
            let mut conditions = Vec::new();
            for (pivot, key) in pivots.iter().zip(&keys_of_row) {
                let kind = planner.kind(pivot)?;
                conditions.push(planner.equals_key(&mut page, pivot, kind, key));
            }
            let column = value.column()?;
            planner.kind(column)?;
            let func = aggregate(value.agg_func.as_deref())?;
            let value_id = value.id.as_deref().filter(|i| !i.is_empty()).unwrap_or(column);
            let field = format!("{}_{value_id}", names.join("_"));
            if field.len() > MAX_PIVOT_FIELD_BYTES {
                return Err(Error::Unprocessable(format!(
                    "the pivot column {field:?} would be longer than {MAX_PIVOT_FIELD_BYTES} bytes; pivot on a \
                     column with shorter values"
                )));
            }
            select.push(format!(
                "{func}(CASE WHEN {} THEN {} END) AS {}",
                conditions.join(" AND "),
                dialect.quote_ident(column),
                dialect.quote_ident(&field)
            ));
            fields.push(field);
        }
    }
    if fields.is_empty() {
        // No rows, so no pivot keys: the grid still needs a valid statement and no columns.
        select.push("COUNT(*) AS dc_count".to_string());
    }
    page.subquery();
    let page_where = planner.where_clause(&mut page, &groups, keys)?;
    let mut count = Binder::after_subquery(dialect, inner);
    let count_where = planner.where_clause(&mut count, &groups, keys)?;
    let start = request.start_row.unwrap_or(0);
    let limit = request.end_row.map(|end| end.saturating_sub(start).min(max_rows));
    let (page_sql, count) = match &group {
        Some(group) => {
            let order = planner.order_by(Some(&sortable))?;
            let order = if order.is_empty() { format!(" ORDER BY {group}") } else { order };
            (
                format!(
                    "SELECT {} FROM {subquery}{page_where} GROUP BY {group}{order}{}",
                    select.join(", "),
                    dialect.limit_offset(limit, start)
                ),
                Built {
                    sql: format!(
                        "SELECT COUNT(*) AS dc_count FROM (SELECT {group} FROM {subquery}{count_where} GROUP BY {group}) AS dc_g"
                    ),
                    params: count.params,
                },
            )
        }
        // Without row groups the answer is the one total row.
        None => (
            format!("SELECT {} FROM {subquery}{page_where}", select.join(", ")),
            Built { sql: "SELECT 1 AS dc_count".to_string(), params: Vec::new() },
        ),
    };
    Ok(PivotPlan { plan: Plan { page: Built { sql: page_sql, params: page.params }, count, limit }, fields })
}

fn pivot_columns<'a>(planner: &Planner<'a>) -> Result<Vec<&'a str>> {
    let pivots: Vec<&str> =
        planner.request.pivot_cols.iter().flatten().map(|c| c.column()).collect::<Result<_>>()?;
    for pivot in &pivots {
        planner.kind(pivot)?;
    }
    Ok(pivots)
}

fn group_columns(request: &RowRequest) -> Result<Vec<&str>> {
    match &request.row_group_cols {
        Some(cols) => cols.iter().map(|c| c.column()).collect(),
        None => Ok(Vec::new()),
    }
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
    plan_with(dialect, subquery, &[], columns, request, max_rows)
}

/// `plan` around a subquery with bound values of its own (`inner`).
pub fn plan_with(
    dialect: Dialect,
    subquery: &str,
    inner: &[Param],
    columns: &[Column],
    request: &RowRequest,
    max_rows: u64,
) -> Result<Plan> {
    let planner = Planner { dialect, columns, request };
    if pivoting(request) {
        return Err(Error::Internal("a pivot request reached the plain planner".into()));
    }
    let groups = group_columns(request)?;
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

    let mut page = Binder::after_subquery(dialect, inner);
    let mut count = Binder::after_subquery(dialect, inner);
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

/// The values of one statement's placeholders, in the order the engine takes them. `inner` are
/// the user's own bound values (`{{name}}` in workbench SQL), which stand in the subquery text:
/// PostgreSQL numbers them `$1..$k` ahead of ours wherever they stand; `?` placeholders are
/// positional, so they go where the subquery stands in the text.
struct Binder {
    dialect: Dialect,
    params: Vec<Param>,
    pending: Vec<Param>,
}

impl Binder {
    /// For a statement whose subquery comes before any placeholder of ours.
    fn after_subquery(dialect: Dialect, inner: &[Param]) -> Self {
        Self { dialect, params: inner.to_vec(), pending: Vec::new() }
    }

    /// For a statement with placeholders of ours before its subquery: `subquery` marks the spot.
    fn before_subquery(dialect: Dialect, inner: &[Param]) -> Self {
        match dialect {
            Dialect::Postgres => Self::after_subquery(dialect, inner),
            _ => Self { dialect, params: Vec::new(), pending: inner.to_vec() },
        }
    }

    fn subquery(&mut self) {
        self.params.append(&mut self.pending);
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
            if is_auto_column(&item.col_id) {
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
    fn paging_is_found_only_at_the_top_level() {
        for (sql, found) in [
            ("SELECT * FROM t ORDER BY a", false),
            ("SELECT * FROM t ORDER BY a LIMIT 5", true),
            ("select * from t offset 3", true),
            ("SELECT * FROM t FETCH FIRST 3 ROWS ONLY", true),
            ("SELECT * FROM (SELECT * FROM t LIMIT 5) x", false),
            ("SELECT 'LIMIT 5' AS \"limit\" FROM t -- LIMIT 1\n", false),
            ("SELECT `limit` FROM t /* LIMIT 2 */", false),
            ("SELECT $$ LIMIT $$ AS x", false),
            ("SELECT limited, offset_x FROM t", false),
            ("SELECT 'it''s' FROM t LIMIT 1", true),
        ] {
            assert_eq!(has_top_level_paging(sql, true), found, "{sql}");
        }
        assert!(!has_top_level_paging("SELECT 1 # LIMIT 1", true));
        assert!(has_top_level_paging("SELECT 5 # 3 LIMIT 1", false));
    }

    #[test]
    fn a_plain_request_pages_the_statement_itself() {
        let r = request(json!({"startRow": 10, "endRow": 20, "sortModel": [], "filterModel": {}}));
        let (page, limit) = direct_page(Dialect::Mysql, "SELECT * FROM t ORDER BY a -- x", &r, 1000).unwrap();
        assert_eq!(page.sql, "SELECT * FROM t ORDER BY a -- x\nLIMIT 10 OFFSET 10");
        assert_eq!(limit, Some(10));
        assert!(direct_page(Dialect::Mysql, "SELECT * FROM t LIMIT 3", &r, 1000).is_none());
        let sorted = request(json!({"sortModel": [{"colId": "a", "sort": "asc"}]}));
        assert!(direct_page(Dialect::Mysql, "SELECT * FROM t", &sorted, 1000).is_none());
        let auto = request(json!({"sortModel": [{"colId": "ag-Grid-AutoColumn", "sort": "asc"}]}));
        assert!(direct_page(Dialect::Sqlite, "SELECT * FROM t", &auto, 1000).is_some());
    }

    #[test]
    fn pivots_bind_keys_per_aggregate_and_cap_columns() {
        let r = request(json!({"pivotMode": true, "rowGroupCols": [{"id": "day"}], "groupKeys": [],
            "pivotCols": [{"id": "name"}], "valueCols": [{"id": "id", "aggFunc": "sum"}, {"id": "id2", "field": "id", "aggFunc": "max"}]}));
        let keys: Vec<serde_json::Map<String, Value>> = [json!({"name": "a"}), json!({"name": null})]
            .into_iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect();
        let p = plan_pivot(Dialect::Sqlite, "(q) AS dc_q", &[], &columns(), &r, &keys, 1000).unwrap();
        assert_eq!(p.fields, vec!["a_id", "a_id2", "_id", "_id2"]);
        assert_eq!(p.plan.page.params, vec![Param::Text("a".into()), Param::Text("a".into())]);
        assert_eq!(p.plan.page.sql.matches('?').count(), 2, "{}", p.plan.page.sql);
        assert!(
            p.plan.page.sql.contains("MAX(CASE WHEN \"name\" IS NULL THEN \"id\" END) AS \"_id2\""),
            "{}",
            p.plan.page.sql
        );
        let many: Vec<serde_json::Map<String, Value>> = (0..=MAX_PIVOT_COLUMNS)
            .map(|i| json!({"name": i.to_string()}).as_object().unwrap().clone())
            .collect();
        let err = plan_pivot(Dialect::Sqlite, "(q) AS dc_q", &[], &columns(), &r, &many, 1000).unwrap_err();
        assert!(err.to_string().contains("more than 200 columns"), "{err}");
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
