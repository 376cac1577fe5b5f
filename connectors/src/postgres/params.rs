//! Query parameters as PostgreSQL binary values, each with the type it is sent as
//! (docs/type-mapping.md, "Parameters").

use crate::error::{ConnectorError, Result};
use crate::Param;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgTypeInfo, Postgres};
use sqlx::{Arguments as _, Encode, Type};

/// A NULL parameter of type `unknown`, so the server infers its type from where it is used
/// (`WHERE int_column = $1`, `INSERT ... VALUES ($1)`) as it would for a literal NULL.
struct UntypedNull;

impl Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(705))
    }
}

impl Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> std::result::Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

pub(super) fn param_type(param: &Param) -> PgTypeInfo {
    match param {
        Param::Null => UntypedNull::type_info(),
        Param::Bool(_) => <bool as Type<Postgres>>::type_info(),
        Param::Int(_) => <i64 as Type<Postgres>>::type_info(),
        Param::Float(_) => <f64 as Type<Postgres>>::type_info(),
        Param::Text(_) => <String as Type<Postgres>>::type_info(),
    }
}

/// Text is bound as `text`: the server receives every parameter in binary, so it cannot parse
/// a string as e.g. a date itself; `$1::date` in the query does that.
pub(super) fn bind(args: &mut PgArguments, param: &Param) -> Result<()> {
    let added = match param {
        Param::Null => args.add(UntypedNull),
        Param::Bool(v) => args.add(*v),
        Param::Int(v) => args.add(*v),
        Param::Float(v) => args.add(*v),
        Param::Text(v) => args.add(v.clone()),
    };
    added.map_err(|e| ConnectorError::invalid(format!("cannot bind parameter: {e}")))
}
