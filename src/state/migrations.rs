//! Versioned schema changes, applied in order and recorded in `PRAGMA user_version`. Never edit
//! a released step; add a new one.

use crate::error::{Error, Result};
use rusqlite::Connection;

const STEPS: &[&str] = &[
    // 1: connections, saved queries, query log.
    "CREATE TABLE connections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        settings TEXT NOT NULL,
        secret_fields TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE queries (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sql TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX queries_connection ON queries (connection_id);
    CREATE TABLE query_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        connection TEXT NOT NULL,
        sql TEXT NOT NULL,
        rows INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        outcome TEXT NOT NULL,
        error TEXT
    );",
    // 2: Workspace's native Data Connector protocol (`native_connector`): connections and saved
    // queries per Workspace user. Credentials live in named connections (`connections`), one
    // per query context; `link` names it and follows renames and deletions there.
    "CREATE TABLE ws_connections (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        family TEXT NOT NULL,
        database_type TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX ws_connections_user ON ws_connections (user_id, family);
    CREATE TABLE ws_queries (
        id INTEGER PRIMARY KEY,
        ws_connection_id INTEGER NOT NULL REFERENCES ws_connections (id) ON DELETE CASCADE,
        link TEXT NOT NULL REFERENCES connections (name) ON UPDATE CASCADE ON DELETE CASCADE,
        name TEXT NOT NULL,
        database TEXT NOT NULL,
        query TEXT NOT NULL,
        category TEXT NOT NULL DEFAULT '',
        sub_category TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        role TEXT,
        warehouse TEXT,
        database_schema TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX ws_queries_connection ON ws_queries (ws_connection_id);
    CREATE INDEX ws_queries_link ON ws_queries (link);",
    // 3: ids are never reused. Dashboards keep `database-<id>`, `.../query/<id>` and
    // `dc_saved_query_<id>` for good, and SQLite's `INTEGER PRIMARY KEY` hands a deleted highest
    // id out again. Rebuilding the tables with AUTOINCREMENT would cascade-delete their children,
    // so the highest id each table ever issued is kept here instead, and inserts number from it
    // (`StateDb::next_id`). The triggers keep it for any insert.
    "CREATE TABLE id_high_water (tbl TEXT PRIMARY KEY, max_id INTEGER NOT NULL);
    INSERT INTO id_high_water (tbl, max_id) SELECT 'connections', coalesce(max(id), 0) FROM connections;
    INSERT INTO id_high_water (tbl, max_id) SELECT 'queries', coalesce(max(id), 0) FROM queries;
    INSERT INTO id_high_water (tbl, max_id) SELECT 'ws_connections', coalesce(max(id), 0) FROM ws_connections;
    INSERT INTO id_high_water (tbl, max_id) SELECT 'ws_queries', coalesce(max(id), 0) FROM ws_queries;
    CREATE TRIGGER connections_high_water AFTER INSERT ON connections BEGIN
        UPDATE id_high_water SET max_id = max(max_id, NEW.id) WHERE tbl = 'connections'; END;
    CREATE TRIGGER queries_high_water AFTER INSERT ON queries BEGIN
        UPDATE id_high_water SET max_id = max(max_id, NEW.id) WHERE tbl = 'queries'; END;
    CREATE TRIGGER ws_connections_high_water AFTER INSERT ON ws_connections BEGIN
        UPDATE id_high_water SET max_id = max(max_id, NEW.id) WHERE tbl = 'ws_connections'; END;
    CREATE TRIGGER ws_queries_high_water AFTER INSERT ON ws_queries BEGIN
        UPDATE id_high_water SET max_id = max(max_id, NEW.id) WHERE tbl = 'ws_queries'; END;",
    // 4: the columns each saved query returns (JSON, as the engine reported them), so
    // widgets.json describes saved queries without running them; NULL until learned, and
    // cleared when the query changes.
    "ALTER TABLE queries ADD COLUMN columns TEXT;",
    // 5: saved queries as dashboard widgets (`state::widget`): `{{name}}` parameter
    // declarations and the display (JSON), and per-query refresh interval (seconds), row cap and
    // category.
    "ALTER TABLE queries ADD COLUMN parameters TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE queries ADD COLUMN display TEXT NOT NULL DEFAULT '{\"type\":\"table\"}';
    ALTER TABLE queries ADD COLUMN refresh_interval INTEGER;
    ALTER TABLE queries ADD COLUMN row_limit INTEGER;
    ALTER TABLE queries ADD COLUMN category TEXT;",
    // 6 (5 is the saved queries' parameters): the result cache policy of a saved query (JSON
    // `{ttl_seconds, max_bytes}`, `result_cache.rs`); NULL means not cached.
    "ALTER TABLE queries ADD COLUMN cache TEXT;",
];

pub(super) fn apply(conn: &mut Connection) -> Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?.max(0) as usize;
    if current > STEPS.len() {
        return Err(Error::State(format!(
            "the state database is at schema version {current}, newer than this build knows ({}); \
             upgrade data-connector",
            STEPS.len()
        )));
    }
    for (index, step) in STEPS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
