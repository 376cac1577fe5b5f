//! Query parameters as Snowflake positional binds.

use crate::Param;
use snowflake_connector_rs as sf;

pub(super) fn statement_with(sql: &str, params: &[Param]) -> sf::Statement<sf::PositionalBinds> {
    params.iter().fold(sf::Statement::new_positional(sql.to_string()), |statement, param| match param {
        Param::Null => statement.bind(Option::<String>::None),
        Param::Bool(v) => statement.bind(*v),
        Param::Int(v) => statement.bind(*v),
        Param::Float(v) => statement.bind(*v),
        Param::Text(v) => statement.bind(v.clone()),
    })
}
