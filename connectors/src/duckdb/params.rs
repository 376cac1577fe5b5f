//! Query parameters as DuckDB values (docs/type-mapping.md, "Parameters"). DuckDB casts a bound
//! value to the type its place in the statement asks for, so a string binds to a DATE column.

use crate::Param;
use duckdb::types::Value;

pub(crate) fn values(params: &[Param]) -> Vec<Value> {
    params.iter().map(value).collect()
}

fn value(param: &Param) -> Value {
    match param {
        Param::Null => Value::Null,
        Param::Bool(v) => Value::Boolean(*v),
        Param::Int(v) => Value::BigInt(*v),
        Param::Float(v) => Value::Double(*v),
        Param::Text(v) => Value::Text(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_duckdb_values() {
        let got = values(&[
            Param::Null,
            Param::Bool(true),
            Param::Int(-3),
            Param::Float(0.5),
            Param::Text("é".into()),
        ]);
        assert_eq!(
            got,
            vec![
                Value::Null,
                Value::Boolean(true),
                Value::BigInt(-3),
                Value::Double(0.5),
                Value::Text("é".into())
            ]
        );
    }
}
