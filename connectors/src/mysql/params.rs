//! Query parameters as MySQL binary-protocol values (docs/type-mapping.md, "Parameters").

use crate::error::{ConnectorError, Result};
use crate::Param;
use sqlx::mysql::MySqlArguments;
use sqlx::Arguments as _;

pub(super) fn bind(args: &mut MySqlArguments, param: &Param) -> Result<()> {
    let added = match param {
        Param::Null => args.add(None::<String>),
        Param::Bool(v) => args.add(*v),
        Param::Int(v) => args.add(*v),
        Param::Float(v) => args.add(*v),
        Param::Text(v) => args.add(v.clone()),
    };
    added.map_err(|e| ConnectorError::invalid(format!("cannot bind parameter: {e}")))
}
