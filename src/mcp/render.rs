//! Results sized for a model: rows read from the query path's NDJSON, wide cells cut with a
//! marker, rendered as a markdown table or CSV with the row count (or "more rows exist") said in
//! words, and the same rows as structured content for clients that read it.

use crate::execution::Truncation;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Characters of one cell a model is shown; longer text is cut and marked.
pub(super) const MAX_CELL_CHARS: usize = 500;

/// One value as read from the query path. Numbers keep the database's digits.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Shown {
    Null,
    Bool(bool),
    /// The JSON number text exactly as the engine wrote it.
    Number(String),
    Text(String),
}

/// The rows of one result, ready to render.
#[derive(Debug, Clone)]
pub(super) struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Shown>>,
    pub truncated: Truncation,
    /// The row cap the query ran with.
    pub limit: u64,
    /// Cells cut to `MAX_CELL_CHARS`.
    pub cut_cells: usize,
}

impl Table {
    pub(super) fn new(columns: Vec<String>, limit: u64) -> Self {
        Self { columns, rows: Vec::new(), truncated: Truncation::No, limit, cut_cells: 0 }
    }

    /// Adds one NDJSON line (`{"col": value, ...}`, keys as the columns are named).
    pub(super) fn push_ndjson(&mut self, line: &[u8]) -> Result<(), String> {
        let object: HashMap<String, &RawValue> =
            serde_json::from_slice(line).map_err(|e| format!("a result row was not JSON: {e}"))?;
        let mut row = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let value = match object.get(column) {
                Some(raw) => shown(raw)?,
                None => Shown::Null,
            };
            row.push(clip_cell(value, &mut self.cut_cells));
        }
        self.rows.push(row);
        Ok(())
    }

    /// Adds a row of ready values (listings, column descriptions).
    pub(super) fn push(&mut self, row: Vec<Shown>) {
        let row = row.into_iter().map(|value| clip_cell(value, &mut self.cut_cells)).collect();
        self.rows.push(row);
    }
}

/// The value with long text cut, counting the cut in `cut_cells`.
fn clip_cell(value: Shown, cut_cells: &mut usize) -> Shown {
    match value {
        Shown::Text(text) => match clip(&text) {
            Some(cut) => {
                *cut_cells += 1;
                Shown::Text(cut)
            }
            None => Shown::Text(text),
        },
        other => other,
    }
}

fn shown(raw: &RawValue) -> Result<Shown, String> {
    let text = raw.get();
    Ok(match text.as_bytes().first() {
        Some(b'n') => Shown::Null,
        Some(b't') => Shown::Bool(true),
        Some(b'f') => Shown::Bool(false),
        Some(b'"') => Shown::Text(serde_json::from_str(text).map_err(|e| format!("a text value: {e}"))?),
        Some(_) => Shown::Number(text.to_string()),
        None => Shown::Null,
    })
}

/// `text` cut to `MAX_CELL_CHARS` characters with a marker saying how much was left out, or
/// `None` when it fits.
pub(super) fn clip(text: &str) -> Option<String> {
    let mut chars = text.char_indices();
    let (cut_at, _) = chars.nth(MAX_CELL_CHARS)?;
    let left_out = text[cut_at..].chars().count();
    Some(format!("{}…[cut: {left_out} more characters]", &text[..cut_at]))
}

/// How the text content shows the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
pub(super) enum TextFormat {
    /// A markdown table (default): readable in chat, NULL spelled out.
    #[default]
    Markdown,
    /// RFC 4180 CSV with a header line: the most compact; NULL is an empty field, an empty
    /// string is `""`.
    Csv,
}

impl TextFormat {
    /// As the `format` argument spells them.
    pub(super) const NAMES: [&'static str; 2] = ["markdown", "csv"];
}

/// The text a model reads: a one-line summary, then the rows.
pub(super) fn text(table: &Table, format: TextFormat) -> String {
    let mut out = summary(table);
    if !table.columns.is_empty() {
        out.push_str("\n\n");
        match format {
            TextFormat::Markdown => markdown(table, &mut out),
            TextFormat::Csv => csv(table, &mut out),
        }
    }
    out
}

/// The row count in words, with what to do when the cap cut the result.
pub(super) fn summary(table: &Table) -> String {
    let n = table.rows.len();
    let rows = if n == 1 { "1 row".to_string() } else { format!("{n} rows") };
    let mut out = match table.truncated {
        Truncation::No => format!("{rows}."),
        Truncation::Yes => format!(
            "{rows} shown: the result was cut at the row limit of {}, and more rows exist. Ask for \
             fewer rows (WHERE, aggregation) or a higher limit.",
            table.limit
        ),
        Truncation::Unknown => format!(
            "{rows} shown: the result reached the row limit of {}, and more rows may exist.",
            table.limit
        ),
    };
    if table.cut_cells > 0 {
        out.push_str(&format!(
            " {} long value{} cut to {MAX_CELL_CHARS} characters (marked …[cut: N more characters]).",
            table.cut_cells,
            if table.cut_cells == 1 { " was" } else { "s were" }
        ));
    }
    out
}

/// A GitHub-flavoured markdown table. Pipes are escaped (and a backslash just before one) and
/// line breaks become `<br>`, so every row stays one table row; NULL is written `NULL`. Other
/// backslashes stay as they are: a model reads `C:\data` better than `C:\\data`.
pub(super) fn markdown(table: &Table, out: &mut String) {
    let header: Vec<String> = table.columns.iter().map(|c| markdown_cell(c)).collect();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", " --- |".repeat(table.columns.len())));
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|value| match value {
                Shown::Null => "NULL".to_string(),
                Shown::Bool(b) => b.to_string(),
                Shown::Number(n) => n.clone(),
                Shown::Text(t) => markdown_cell(t),
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}

fn markdown_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' if chars.peek() == Some(&'|') => out.push_str("\\\\"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 4180 CSV: fields with a comma, quote or line break are quoted with quotes doubled; an
/// empty string is `""` so that it differs from NULL (an empty field).
pub(super) fn csv(table: &Table, out: &mut String) {
    let header: Vec<String> = table.columns.iter().map(|c| csv_text(c)).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|value| match value {
                Shown::Null => String::new(),
                Shown::Bool(b) => b.to_string(),
                Shown::Number(n) => n.clone(),
                Shown::Text(t) if t.is_empty() => "\"\"".to_string(),
                Shown::Text(t) => csv_text(t),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
}

fn csv_text(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The rows as JSON objects (keys in column order) with the count and truncation, for
/// `structuredContent`.
pub(super) fn structured(table: &Table, extra: Map<String, Value>) -> Value {
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|row| {
            let object: Map<String, Value> =
                table.columns.iter().cloned().zip(row.iter().map(structured_value)).collect();
            Value::Object(object)
        })
        .collect();
    let truncated = match table.truncated {
        Truncation::No => json!(false),
        Truncation::Yes => json!(true),
        Truncation::Unknown => Value::Null,
    };
    let mut out = extra;
    out.insert("columns".into(), json!(table.columns));
    out.insert("rows".into(), Value::Array(rows));
    out.insert("row_count".into(), json!(table.rows.len()));
    out.insert("truncated".into(), truncated);
    out.insert("row_limit".into(), json!(table.limit));
    out.insert("cut_cells".into(), json!(table.cut_cells));
    Value::Object(out)
}

/// A number stays a JSON number only when a double holds it exactly (integers up to 2^53,
/// decimals of at most 15 significant digits); otherwise it is a string of the database's
/// digits, as the flat JSON rules do for big integers.
fn structured_value(value: &Shown) -> Value {
    match value {
        Shown::Null => Value::Null,
        Shown::Bool(b) => Value::Bool(*b),
        Shown::Text(t) => Value::String(t.clone()),
        Shown::Number(n) => exact_number(n).unwrap_or_else(|| Value::String(n.clone())),
    }
}

fn exact_number(text: &str) -> Option<Value> {
    if let Ok(int) = text.parse::<i64>() {
        return (int.unsigned_abs() <= connectors::format::MAX_SAFE_INTEGER.unsigned_abs())
            .then(|| json!(int));
    }
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    let significant = mantissa.chars().filter(char::is_ascii_digit).skip_while(|c| *c == '0').count();
    if significant > 15 {
        return None;
    }
    let float: f64 = text.parse().ok()?;
    serde_json::Number::from_f64(float).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str]) -> Table {
        let mut t = Table::new(vec!["id".into(), "name".into(), "price".into()], 200);
        for row in rows {
            t.push_ndjson(row.as_bytes()).unwrap();
        }
        t
    }

    #[test]
    fn rows_keep_column_order_types_and_digits() {
        let t = table(&[
            r#"{"name":"a","id":1,"price":12.3456789012345678901}"#,
            r#"{"id":2,"name":null,"price":true}"#,
        ]);
        assert_eq!(
            t.rows[0],
            vec![
                Shown::Number("1".into()),
                Shown::Text("a".into()),
                Shown::Number("12.3456789012345678901".into())
            ]
        );
        assert_eq!(t.rows[1], vec![Shown::Number("2".into()), Shown::Null, Shown::Bool(true)]);
        let s = structured(&t, Map::new());
        assert_eq!(s["rows"][0], json!({"id": 1, "name": "a", "price": "12.3456789012345678901"}));
        assert_eq!(s["rows"][1]["name"], Value::Null);
        assert_eq!(s["row_count"], 2);
        assert_eq!(s["truncated"], false);
        let keys: Vec<&String> = s["rows"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "name", "price"]);
    }

    #[test]
    fn exact_numbers_only_where_a_double_holds_them() {
        assert_eq!(exact_number("9007199254740991"), Some(json!(9_007_199_254_740_991i64)));
        assert_eq!(exact_number("9007199254740992"), None);
        assert_eq!(exact_number("0.000123456789012345"), Some(json!(0.000123456789012345)));
        assert_eq!(exact_number("1234567890.1234567"), None);
        assert_eq!(exact_number("-1.5e3"), Some(json!(-1500.0)));
    }

    #[test]
    fn markdown_escapes_pipes_backslashes_and_line_breaks() {
        let mut t = Table::new(vec!["a|b".into(), "text".into()], 10);
        t.push(vec![Shown::Text("x|y".into()), Shown::Text("one\r\ntwo\nC:\\dir \\| four".into())]);
        t.push(vec![Shown::Null, Shown::Text(String::new())]);
        let out = text(&t, TextFormat::Markdown);
        assert_eq!(
            out,
            "2 rows.\n\n| a\\|b | text |\n| --- | --- |\n| x\\|y | one<br>two<br>C:\\dir \\\\\\| four |\n| NULL |  |\n"
        );
        // Every data line is one table row with exactly the column count of separators.
        for line in out.lines().skip(2) {
            let unescaped_pipes = line.replace("\\\\", "").replace("\\|", "").matches('|').count();
            assert_eq!(unescaped_pipes, 3, "{line}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_tells_null_from_empty() {
        let mut t = Table::new(vec!["k".into(), "v".into()], 10);
        t.push(vec![Shown::Text("a,b".into()), Shown::Text("say \"hi\"\nbye".into())]);
        t.push(vec![Shown::Null, Shown::Text(String::new())]);
        t.push(vec![Shown::Number("-0.5".into()), Shown::Bool(false)]);
        let mut out = String::new();
        csv(&t, &mut out);
        assert_eq!(out, "k,v\n\"a,b\",\"say \"\"hi\"\"\nbye\"\n,\"\"\n-0.5,false\n");
    }

    #[test]
    fn the_row_cap_is_said_plainly() {
        let mut t = table(&[r#"{"id":1,"name":"a","price":1}"#, r#"{"id":2,"name":"b","price":2}"#]);
        t.limit = 2;
        assert_eq!(summary(&t), "2 rows.");
        t.truncated = Truncation::Yes;
        let said = summary(&t);
        assert!(
            said.starts_with("2 rows shown: the result was cut at the row limit of 2, and more rows exist.")
        );
        t.truncated = Truncation::Unknown;
        assert!(summary(&t).contains("more rows may exist"));
        assert_eq!(structured(&t, Map::new())["truncated"], Value::Null);
        let one = table(&[r#"{"id":1,"name":"a","price":1}"#]);
        assert_eq!(summary(&one), "1 row.");
    }

    #[test]
    fn wide_cells_are_cut_with_a_marker_that_counts_what_was_left_out() {
        let long = "é".repeat(MAX_CELL_CHARS + 42);
        let mut t = Table::new(vec!["v".into()], 10);
        t.push_ndjson(json!({"v": long}).to_string().as_bytes()).unwrap();
        t.push_ndjson(json!({"v": "é".repeat(MAX_CELL_CHARS)}).to_string().as_bytes()).unwrap();
        assert_eq!(t.cut_cells, 1);
        let Shown::Text(cut) = &t.rows[0][0] else { panic!("text expected") };
        assert!(cut.ends_with("…[cut: 42 more characters]"), "{cut}");
        assert_eq!(cut.chars().filter(|c| *c == 'é').count(), MAX_CELL_CHARS);
        assert_eq!(t.rows[1][0], Shown::Text("é".repeat(MAX_CELL_CHARS)));
        assert!(summary(&t).contains("1 long value was cut to 500 characters"), "{}", summary(&t));
    }

    #[test]
    fn format_names_match_the_argument_spelling() {
        for (name, format) in TextFormat::NAMES.iter().zip([TextFormat::Markdown, TextFormat::Csv]) {
            assert_eq!(serde_json::from_value::<TextFormat>(json!(name)).unwrap(), format);
        }
    }

    #[test]
    fn a_result_without_rows_still_names_its_columns() {
        let t = table(&[]);
        assert_eq!(text(&t, TextFormat::Csv), "0 rows.\n\nid,name,price\n");
        assert!(text(&t, TextFormat::Markdown).contains("| id | name | price |"));
    }
}
