//! The row-model SQL builder (`data_connector::rowmodel::sql::plan`), fed generated AG Grid
//! requests naming real, strange and unknown columns. Properties, for every dialect:
//! - it never panics;
//! - what it builds around the user's statement holds only the statement itself, quoted names
//!   of columns the statement returns, placeholders (as many as bound values) and the builder's
//!   own fixed words: no name or value from the request is spliced in;
//! - both statements pass the statement guard as single reading statements.

use crate::{run_for, Rng};
use connectors::dialect::Dialect;
use connectors::statement::{check, check_dialect, Access};
use connectors::{Column, ColumnKind};
use data_connector::rowmodel::sql::plan;
use data_connector::rowmodel::RowRequest;
use serde_json::{json, Value};

const USER_SQL: &str = "select * from t where note <> 'it''s'";

fn columns() -> Vec<Column> {
    [
        ("id", ColumnKind::Integer),
        ("name", ColumnKind::Text),
        ("a\"b", ColumnKind::Text),
        ("a`b", ColumnKind::Float),
        ("sp ace", ColumnKind::Decimal),
        ("ü", ColumnKind::Date),
        ("select", ColumnKind::DateTime),
        ("x'y", ColumnKind::Boolean),
        ("--c", ColumnKind::Json),
    ]
    .into_iter()
    .map(|(name, kind)| Column::new(name, "T", kind))
    .collect()
}

const HOSTILE: &[&str] =
    &["x\"; drop table t; --", "`; delete", "nope", "'", "", "ag-Grid-AutoColumn", "ID", "Name"];

fn name(rng: &mut Rng, known: &[Column]) -> String {
    if rng.chance(75) {
        known[rng.below(known.len())].name.clone()
    } else {
        rng.pick(HOSTILE).to_string()
    }
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => Value::Null,
        1 => json!(rng.below(1000) as i64 - 500),
        2 => json!(rng.below(1000) as f64 / 7.0),
        3 => json!(rng.chance(50)),
        4 => json!(rng.pick(&["2024-01-02", "2024-01-02 00:00:00", "x", "1e999"])),
        5 => json!([1, "a"]),
        _ => json!(rng.pick(&["it's", "%_!", "\"; drop", "\\", "😀", "a\u{1}b", ""])),
    }
}

fn filter(rng: &mut Rng, depth: usize) -> Value {
    let kind = *rng.pick(&["text", "number", "date", "set", "multi", "bogus"]);
    let op = *rng.pick(&[
        "equals",
        "notEqual",
        "contains",
        "notContains",
        "startsWith",
        "endsWith",
        "blank",
        "notBlank",
        "lessThan",
        "lessThanOrEqual",
        "greaterThan",
        "greaterThanOrEqual",
        "inRange",
        "bogus",
    ]);
    if depth < 2 && rng.chance(15) {
        let conditions: Vec<Value> = (0..rng.below(3) + 1).map(|_| filter(rng, depth + 1)).collect();
        return json!({"filterType": kind, "operator": rng.pick(&["AND", "OR", "xor"]), "conditions": conditions});
    }
    match kind {
        "set" => {
            json!({"filterType": "set", "values": (0..rng.below(4)).map(|_| value(rng)).collect::<Vec<_>>()})
        }
        "multi" => json!({"filterType": "multi",
            "filterModels": (0..rng.below(3)).map(|_| filter(rng, depth + 1)).collect::<Vec<_>>()}),
        "date" => json!({"filterType": "date", "type": op, "dateFrom": value(rng), "dateTo": value(rng)}),
        _ => json!({"filterType": kind, "type": op, "filter": value(rng), "filterTo": value(rng)}),
    }
}

fn request(rng: &mut Rng, known: &[Column]) -> Value {
    let mut r = serde_json::Map::new();
    if rng.chance(70) {
        r.insert("startRow".into(), json!(rng.below(200)));
        r.insert("endRow".into(), json!(rng.below(400)));
    }
    if rng.chance(60) {
        let sort: Vec<Value> = (0..rng.below(3))
            .map(|_| json!({"colId": name(rng, known), "sort": rng.pick(&["asc", "desc", "DESC", "sideways"])}))
            .collect();
        r.insert("sortModel".into(), json!(sort));
    }
    if rng.chance(60) {
        let mut model = serde_json::Map::new();
        for _ in 0..rng.below(3) {
            model.insert(name(rng, known), filter(rng, 0));
        }
        r.insert("filterModel".into(), Value::Object(model));
    }
    if rng.chance(30) {
        let groups: Vec<Value> = (0..rng.below(3)).map(|_| json!({"field": name(rng, known)})).collect();
        r.insert("rowGroupCols".into(), json!(groups));
        let keys: Vec<Value> = (0..rng.below(3)).map(|_| value(rng)).collect();
        r.insert("groupKeys".into(), json!(keys));
        let values: Vec<Value> = (0..rng.below(3))
            .map(|_| json!({"field": name(rng, known), "aggFunc": rng.pick(&["sum", "avg", "min", "max", "count", "drop"])}))
            .collect();
        r.insert("valueCols".into(), json!(values));
    }
    if rng.chance(5) {
        r.insert("pivotMode".into(), json!(true));
        r.insert("pivotCols".into(), json!([{"field": "id"}]));
    }
    Value::Object(r)
}

/// What is left of a built statement once the user's statement, the quoted names of known
/// columns and the builder's own literals are taken out.
fn remainder(sql: &str, subquery: &str, dialect: Dialect, known: &[Column]) -> String {
    let mut rest = sql.replacen(subquery, " ", 1);
    // Longest first, so a name inside another's quoted form goes with the longer one.
    let mut quoted: Vec<String> = known.iter().map(|c| dialect.quote_ident(&c.name)).collect();
    quoted.sort_by_key(|q| std::cmp::Reverse(q.len()));
    for q in quoted {
        rest = rest.replace(&q, " ");
    }
    for literal in ["'!'", "''"] {
        rest = rest.replace(literal, " ");
    }
    rest
}

#[test]
fn row_model_builder() {
    let known = columns();
    let mut built = 0u64;
    let cases = run_for("row-model builder", |rng, seed| {
        let json = request(rng, &known);
        let Ok(request) = serde_json::from_value::<RowRequest>(json.clone()) else { return };
        let dialect = *rng.pick(&[Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres, Dialect::Snowflake]);
        let subquery = check(USER_SQL, true).unwrap().as_subquery("dc_q");
        let Ok(plan) = plan(dialect, &subquery, &known, &request, 1000) else { return };
        built += 1;
        for statement in [&plan.page, &plan.count] {
            let context = format!("seed {seed}, {dialect:?}, {json}: {}", statement.sql);
            let rest = remainder(&statement.sql, &subquery, dialect, &known);
            for bad in ["\"", "`", "'", ";", "--", "/*", "#", "drop", "delete", "nope"] {
                assert!(!rest.contains(bad), "{bad:?} outside the quoted names, {context}\n  rest: {rest}");
            }
            let placeholders = match dialect {
                Dialect::Postgres => {
                    (1..=statement.params.len() + 1).filter(|n| rest.contains(&format!("${n}"))).count()
                }
                _ => rest.matches('?').count(),
            };
            assert_eq!(placeholders, statement.params.len(), "placeholders vs values, {context}");
            let checked = check_dialect(&statement.sql, dialect, Access::ReadOnlyRequest)
                .unwrap_or_else(|e| panic!("the guard refused it ({e}), {context}"));
            assert_eq!(checked.keyword, "SELECT", "{context}");
        }
    });
    eprintln!("row-model builder: {built} plans built and checked");
    assert!(cases > 1000 && built > 100, "the generator must reach built plans ({cases}, {built})");
}
