//! Query parameters as SQLite values (docs/type-mapping.md, "Parameters").

use crate::Param;

pub(crate) fn bind(stmt: &mut rusqlite::Statement<'_>, index: usize, param: &Param) -> rusqlite::Result<()> {
    match param {
        Param::Null => stmt.raw_bind_parameter(index, rusqlite::types::Null),
        Param::Bool(v) => stmt.raw_bind_parameter(index, i64::from(*v)),
        Param::Int(v) => stmt.raw_bind_parameter(index, v),
        Param::Float(v) => stmt.raw_bind_parameter(index, v),
        Param::Text(v) => stmt.raw_bind_parameter(index, v.as_str()),
    }
}
