//! What Workspace's native Data Connector protocol saves (`native_connector`): Workspace
//! connections (an integer id per user and family) and their saved queries. Each query runs on
//! a named connection (`link`) that holds the credentials and the query's context (database;
//! Snowflake role, warehouse and schema). The tables keep their first names, `ws_connections`
//! and `ws_queries` (migration 2).

use super::{insert_connection_row, now, StateDb};
use crate::error::{Error, Result};
use connectors::ConnectionSettings;
use rusqlite::{params, OptionalExtension};

#[derive(Debug, Clone, PartialEq)]
pub struct NativeQuery {
    pub id: i64,
    pub connection: i64,
    pub family: String,
    pub database_type: String,
    pub link: String,
    pub fields: NativeQueryFields,
}

/// The fields of a saved query that Workspace edits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NativeQueryFields {
    pub name: String,
    pub database: String,
    pub query: String,
    pub category: String,
    pub sub_category: String,
    pub description: String,
    pub role: Option<String>,
    pub warehouse: Option<String>,
    pub database_schema: Option<String>,
}

const SELECT: &str = "SELECT q.id, c.id, c.family, c.database_type, q.link, q.name, q.database, q.query, \
     q.category, q.sub_category, q.description, q.role, q.warehouse, q.database_schema \
     FROM ws_queries q JOIN ws_connections c ON c.id = q.ws_connection_id";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NativeQuery> {
    Ok(NativeQuery {
        id: r.get(0)?,
        connection: r.get(1)?,
        family: r.get(2)?,
        database_type: r.get(3)?,
        link: r.get(4)?,
        fields: NativeQueryFields {
            name: r.get(5)?,
            database: r.get(6)?,
            query: r.get(7)?,
            category: r.get(8)?,
            sub_category: r.get(9)?,
            description: r.get(10)?,
            role: r.get(11)?,
            warehouse: r.get(12)?,
            database_schema: r.get(13)?,
        },
    })
}

/// The insert takes its id from the high-water mark, so a deleted query's id never comes back.
fn insert_query_sql() -> String {
    format!(
        "INSERT INTO ws_queries (id, ws_connection_id, link, name, database, query, category, \
         sub_category, description, role, warehouse, database_schema, created_at, updated_at) \
         VALUES ({}, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        super::next_id("ws_queries")
    )
}

const UPDATE_QUERY: &str = "UPDATE ws_queries SET link = ?2, name = ?3, database = ?4, query = ?5, \
     category = ?6, sub_category = ?7, description = ?8, role = ?9, warehouse = ?10, \
     database_schema = ?11, updated_at = ?12 WHERE id = ?1";

/// Runs `insert_query_sql()` or `UPDATE_QUERY`; both number their
/// parameters alike: the row key, the link, the fields, then the time.
fn write_query(
    conn: &rusqlite::Connection,
    sql: &str,
    key: i64,
    link: &str,
    fields: &NativeQueryFields,
) -> rusqlite::Result<usize> {
    conn.execute(
        sql,
        params![
            key,
            link,
            fields.name,
            fields.database,
            fields.query,
            fields.category,
            fields.sub_category,
            fields.description,
            fields.role,
            fields.warehouse,
            fields.database_schema,
            now()
        ],
    )
}

/// Where `native_save` puts a query.
pub enum SaveTarget<'a> {
    /// A new Workspace connection of `user` in `family`, with this as its first query.
    NewConnection { user: &'a str, family: &'a str, database_type: &'a str },
    /// Another query on Workspace connection `connection`.
    Add { connection: i64 },
    /// New fields for saved query `id` of connection `connection`.
    Update { connection: i64, id: i64 },
}

/// The named connection (link) a saved query runs on.
pub enum LinkChoice<'a> {
    Existing(&'a str),
    /// A new one, stored under the first free `workspace-<connection id>[-<n>]` name.
    New {
        settings: &'a ConnectionSettings,
        secret_fields: &'a [String],
    },
}

/// What `native_save` stored: the query's id, its Workspace connection, the link it runs on.
#[derive(Debug, Clone)]
pub struct Saved {
    pub id: i64,
    pub connection: i64,
    pub link: String,
}

impl StateDb {
    /// Saves a native-protocol query and whatever it needs (a new Workspace connection, a new
    /// link) in one transaction, so that a crash between the steps leaves nothing half-made.
    /// `store_secrets` saves the new link's secrets under its name, inside the transaction: if
    /// it fails, nothing is written. (A crash after it but before the commit leaves only a
    /// keyring entry under a name the next save of that connection id overwrites.)
    pub fn native_save(
        &self,
        target: SaveTarget<'_>,
        link: LinkChoice<'_>,
        fields: &NativeQueryFields,
        store_secrets: impl FnOnce(&str) -> Result<()>,
    ) -> Result<Saved> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let connection = match target {
            SaveTarget::NewConnection { user, family, database_type } => {
                tx.execute(
                    &format!(
                        "INSERT INTO ws_connections (id, user_id, family, database_type, created_at) \
                         VALUES ({}, ?1, ?2, ?3, ?4)",
                        super::next_id("ws_connections")
                    ),
                    params![user, family, database_type, now()],
                )?;
                tx.last_insert_rowid()
            }
            SaveTarget::Add { connection } | SaveTarget::Update { connection, .. } => connection,
        };
        let link = match link {
            LinkChoice::Existing(name) => name.to_string(),
            LinkChoice::New { settings, secret_fields } => {
                let mut free = None;
                for n in 1..=1000 {
                    let name = if n == 1 {
                        format!("workspace-{connection}")
                    } else {
                        format!("workspace-{connection}-{n}")
                    };
                    if insert_connection_row(&tx, &name, settings, secret_fields)? {
                        free = Some(name);
                        break;
                    }
                }
                let name = free.ok_or_else(|| {
                    Error::Conflict(format!("no free connection name for Workspace connection {connection}"))
                })?;
                store_secrets(&name)?;
                name
            }
        };
        let id = match target {
            SaveTarget::Update { id, .. } => {
                if write_query(&tx, UPDATE_QUERY, id, &link, fields)? == 0 {
                    return Err(Error::NotFound(format!("there is no saved query with id {id}")));
                }
                id
            }
            _ => {
                write_query(&tx, &insert_query_sql(), connection, &link, fields)?;
                tx.last_insert_rowid()
            }
        };
        tx.commit()?;
        Ok(Saved { id, connection, link })
    }

    pub fn native_delete_connection(&self, id: i64) -> Result<()> {
        self.conn()?.execute("DELETE FROM ws_connections WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Whether `user` owns connection `id` in `family`.
    pub fn native_owns_connection(&self, user: &str, family: &str, id: i64) -> Result<bool> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT 1 FROM ws_connections WHERE id = ?1 AND user_id = ?2 AND family = ?3",
                params![id, user, family],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn native_list_queries(&self, user: &str, family: &str) -> Result<Vec<NativeQuery>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare(&format!("{SELECT} WHERE c.user_id = ?1 AND c.family = ?2 ORDER BY q.id"))?;
        let rows = stmt.query_map(params![user, family], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn native_connection_queries(&self, connection: i64) -> Result<Vec<NativeQuery>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!("{SELECT} WHERE c.id = ?1 ORDER BY q.id"))?;
        let rows = stmt.query_map([connection], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A saved query of `user` in `family`; another user's id is "not found", never "forbidden",
    /// so ids reveal nothing.
    pub fn native_require_query(&self, user: &str, family: &str, id: i64) -> Result<NativeQuery> {
        let conn = self.conn()?;
        conn.query_row(
            &format!("{SELECT} WHERE q.id = ?1 AND c.user_id = ?2 AND c.family = ?3"),
            params![id, user, family],
            row,
        )
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("there is no saved query with id {id}")))
    }

    pub fn native_insert_query(
        &self,
        connection: i64,
        link: &str,
        fields: &NativeQueryFields,
    ) -> Result<i64> {
        let conn = self.conn()?;
        write_query(&conn, &insert_query_sql(), connection, link, fields)?;
        Ok(conn.last_insert_rowid())
    }

    pub fn native_update_query(&self, id: i64, link: &str, fields: &NativeQueryFields) -> Result<()> {
        let changed = write_query(&*self.conn()?, UPDATE_QUERY, id, link, fields)?;
        if changed == 0 {
            return Err(Error::NotFound(format!("there is no saved query with id {id}")));
        }
        Ok(())
    }

    pub fn native_delete_query(&self, id: i64) -> Result<()> {
        self.conn()?.execute("DELETE FROM ws_queries WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The named connection a query of `connection` with this context already runs on.
    pub fn native_find_link(&self, connection: i64, fields: &NativeQueryFields) -> Result<Option<String>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT link FROM ws_queries WHERE ws_connection_id = ?1 AND database = ?2 AND role IS ?3 \
                 AND warehouse IS ?4 AND database_schema IS ?5 LIMIT 1",
                params![connection, fields.database, fields.role, fields.warehouse, fields.database_schema],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn native_link_in_use(&self, link: &str) -> Result<bool> {
        let conn = self.conn()?;
        Ok(conn
            .query_row("SELECT 1 FROM ws_queries WHERE link = ?1 LIMIT 1", [link], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use connectors::sqlite::SqliteSettings;

    fn fields() -> NativeQueryFields {
        NativeQueryFields {
            name: "q".into(),
            database: "/tmp/x.db".into(),
            query: "select 1".into(),
            ..NativeQueryFields::default()
        }
    }

    fn count(db: &StateDb, sql: &str) -> i64 {
        db.conn().unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_save_that_fails_midway_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(&dir.path().join("state.db")).unwrap();
        let settings =
            ConnectionSettings::Sqlite(SqliteSettings { path: "/tmp/x.db".into(), read_only: true });
        let target = SaveTarget::NewConnection { user: "u", family: "sql", database_type: "sqlite" };
        let link = LinkChoice::New { settings: &settings, secret_fields: &[] };
        // The step between the connection and the query fails (the keyring refuses).
        let failed = db.native_save(target, link, &fields(), |_| Err(Error::SecretStore("locked".into())));
        assert!(matches!(failed, Err(Error::SecretStore(_))));
        assert_eq!(count(&db, "SELECT count(*) FROM ws_connections"), 0);
        assert_eq!(count(&db, "SELECT count(*) FROM connections"), 0);

        let target = SaveTarget::NewConnection { user: "u", family: "sql", database_type: "sqlite" };
        let link = LinkChoice::New { settings: &settings, secret_fields: &[] };
        let saved = db.native_save(target, link, &fields(), |_| Ok(())).unwrap();
        assert_eq!(saved.link, format!("workspace-{}", saved.connection));
        assert_eq!(count(&db, "SELECT count(*) FROM ws_queries"), 1);
        // A second context on the same connection gets the next free name.
        let link = LinkChoice::New { settings: &settings, secret_fields: &[] };
        let second = db
            .native_save(SaveTarget::Add { connection: saved.connection }, link, &fields(), |_| Ok(()))
            .unwrap();
        assert_eq!(second.link, format!("workspace-{}-2", saved.connection));
    }
}
