//! What a login can do beyond reading, in words for the connection dialogs. Each engine asks
//! its database (`Engine::privilege_warnings`); the reading of the answers lives here so that
//! it can be tested without one.

/// The advice every warning ends with.
pub const ADVICE: &str = "for Data Connector, a login that can only read is the safer choice";

/// MySQL/MariaDB privileges that only read. Everything else a grant lists is more.
const MYSQL_READ_PRIVILEGES: &[&str] = &["USAGE", "SELECT", "SHOW VIEW", "SHOW DATABASES"];

/// Warnings from the lines of `SHOW GRANTS` (for the current user). Role grants (`GRANT r TO
/// u`) carry no privileges of their own on the line and are passed over; the privileges of the
/// active role appear on their own lines.
pub fn mysql_grant_warnings(grants: &[String]) -> Vec<String> {
    let mut file = false;
    let mut super_ = false;
    let mut more: Vec<String> = Vec::new();
    for line in grants {
        let Some(rest) = line.strip_prefix("GRANT ") else { continue };
        let Some((privileges, after)) = rest.split_once(" ON ") else { continue };
        let object = after.split(" TO ").next().unwrap_or(after).trim();
        let global = object == "*.*";
        for privilege in split_top_level(privileges) {
            // `SELECT (a, b)` names columns; the privilege is the part before them.
            let name = privilege.split('(').next().unwrap_or("").trim().to_ascii_uppercase();
            match name.as_str() {
                "" => {}
                "ALL" | "ALL PRIVILEGES" => {
                    file |= global;
                    super_ |= global;
                    push_unique(&mut more, format!("ALL PRIVILEGES on {object}"));
                }
                "FILE" => file = true,
                "SUPER" => super_ = true,
                _ if MYSQL_READ_PRIVILEGES.contains(&name.as_str()) => {}
                _ => push_unique(&mut more, format!("{name} on {object}")),
            }
        }
    }
    let mut warnings = Vec::new();
    if file {
        warnings.push(format!(
            "This login has the FILE privilege: it can read and write files on the database server \
             (LOAD_FILE, INTO OUTFILE). Data Connector refuses those on read-only connections, but \
             {ADVICE}."
        ));
    }
    if super_ {
        warnings.push(format!(
            "This login has SUPER: it can change server settings, stop other sessions and write \
             even on a read-only server; {ADVICE}."
        ));
    }
    if !more.is_empty() {
        warnings
            .push(format!("This login can do more than read: {}; {ADVICE}.", sample(&more, more.len(), 6)));
    }
    warnings
}

/// Splits a privilege list at the commas outside parentheses.
fn split_top_level(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    parts
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The first `shown` items of a list of `total`, with how many more there are.
fn sample(items: &[String], total: usize, shown: usize) -> String {
    let mut text = items.iter().take(shown).cloned().collect::<Vec<_>>().join(", ");
    if total > shown.min(items.len()) {
        text.push_str(&format!(" and {} more", total - shown.min(items.len())));
    }
    text
}

/// What PostgreSQL reports about the current login (`postgres::schema::privileges`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostgresLogin {
    pub superuser: bool,
    pub create_role: bool,
    pub create_db: bool,
    pub bypass_rls: bool,
    pub replication: bool,
    /// Predefined roles with server-wide powers the login is a member of.
    pub powerful_roles: Vec<String>,
    /// Tables and views it may INSERT, UPDATE, DELETE or TRUNCATE: how many, and a few names.
    pub writable_tables: usize,
    pub writable_sample: Vec<String>,
    /// Schemas it may create objects in.
    pub create_schemas: Vec<String>,
    /// Whether it may create schemas in the current database.
    pub create_in_database: bool,
}

pub fn postgres_warnings(login: &PostgresLogin) -> Vec<String> {
    let mut warnings = Vec::new();
    if login.superuser {
        warnings.push(format!(
            "This login is a superuser: it can read and write files on the server, run programs \
             there and change anything in any database; {ADVICE}."
        ));
    }
    if !login.powerful_roles.is_empty() && !login.superuser {
        warnings.push(format!(
            "This login is a member of {}, which reach beyond the database (server files, \
             programs, other sessions or all data); {ADVICE}.",
            login.powerful_roles.join(", ")
        ));
    }
    let attributes: Vec<&str> = [
        (login.create_role && !login.superuser, "create roles"),
        (login.create_db && !login.superuser, "create databases"),
        (login.replication && !login.superuser, "stream replication"),
        (login.bypass_rls && !login.superuser, "bypass row-level security"),
    ]
    .into_iter()
    .filter_map(|(held, what)| held.then_some(what))
    .collect();
    if !attributes.is_empty() {
        warnings.push(format!("This login can {}; {ADVICE}.", attributes.join(", ")));
    }
    if login.writable_tables > 0 {
        warnings.push(format!(
            "This login can change data in {} table(s) or view(s) ({}); {ADVICE}.",
            login.writable_tables,
            sample(&login.writable_sample, login.writable_tables, 3)
        ));
    }
    let mut creates: Vec<String> = Vec::new();
    if login.create_in_database {
        creates.push("new schemas in this database".into());
    }
    if !login.create_schemas.is_empty() {
        creates.push(format!("objects in schema(s) {}", login.create_schemas.join(", ")));
    }
    if !creates.is_empty() && !login.superuser {
        warnings.push(format!("This login can create {}; {ADVICE}.", creates.join(" and ")));
    }
    warnings
}

/// Snowflake's administrative roles: a session with one of them can change the account.
pub const SNOWFLAKE_ADMIN_ROLES: &[&str] =
    &["ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "ORGADMIN"];

/// Snowflake privileges that change data or objects, as `SHOW GRANTS TO ROLE` names them.
const SNOWFLAKE_WRITE_PRIVILEGES: &[&str] = &["INSERT", "UPDATE", "DELETE", "TRUNCATE", "OWNERSHIP"];

/// Warnings from the session's role and that role's grants (`privilege`, `granted_on`, `name`).
pub fn snowflake_warnings(role: &str, grants: &[(String, String, String)]) -> Vec<String> {
    let mut warnings = Vec::new();
    let role_upper = role.to_ascii_uppercase();
    if SNOWFLAKE_ADMIN_ROLES.contains(&role_upper.as_str()) {
        warnings.push(format!(
            "This connection uses the role {role_upper}, which can change the account, its users \
             and all data; a role that can only read is the safer choice for Data Connector."
        ));
    }
    let mut writes: Vec<String> = Vec::new();
    for (privilege, granted_on, name) in grants {
        let privilege = privilege.to_ascii_uppercase();
        let changes =
            SNOWFLAKE_WRITE_PRIVILEGES.contains(&privilege.as_str()) || privilege.starts_with("CREATE ");
        if changes {
            push_unique(&mut writes, format!("{privilege} on {} {name}", granted_on.to_ascii_lowercase()));
        }
    }
    if !writes.is_empty() {
        warnings.push(format!(
            "The role {role_upper} can change data or objects: {}; a role that can only read is the \
             safer choice for Data Connector.",
            sample(&writes, writes.len(), 5)
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mysql_root_has_every_warning() {
        let warnings = mysql_grant_warnings(&lines(&[
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
            "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
        ]));
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("FILE"));
        assert!(warnings[1].contains("SUPER"));
        assert!(warnings[2].contains("ALL PRIVILEGES on *.*") && warnings[2].contains("PROXY"));
    }

    #[test]
    fn mysql_reader_has_none_and_writers_are_named() {
        assert!(mysql_grant_warnings(&lines(&[
            "GRANT USAGE ON *.* TO `ro`@`%`",
            "GRANT SELECT, SHOW VIEW ON `db`.* TO `ro`@`%`",
            "GRANT SELECT (`a`, `b`) ON `db`.`t` TO `ro`@`%`",
            "GRANT `reader` TO `ro`@`%`",
        ]))
        .is_empty());
        let warnings = mysql_grant_warnings(&lines(&[
            "GRANT USAGE ON *.* TO `w`@`%`",
            "GRANT SELECT, INSERT, UPDATE (`a`) ON `db`.* TO `w`@`%`",
            "GRANT FILE ON *.* TO `w`@`%`",
        ]));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[1].contains("INSERT on `db`.*, UPDATE on `db`.*"), "{warnings:?}");
    }

    #[test]
    fn postgres_warnings_follow_the_login() {
        assert!(postgres_warnings(&PostgresLogin::default()).is_empty());
        let superuser =
            PostgresLogin { superuser: true, create_role: true, writable_tables: 1, ..Default::default() };
        let warnings = postgres_warnings(&superuser);
        assert!(warnings[0].contains("superuser"), "{warnings:?}");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let writer = PostgresLogin {
            powerful_roles: vec!["pg_write_server_files".into()],
            writable_tables: 5,
            writable_sample: vec!["public.a".into(), "public.b".into(), "public.c".into()],
            create_schemas: vec!["public".into()],
            ..Default::default()
        };
        let warnings = postgres_warnings(&writer);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[1].contains("5 table(s) or view(s) (public.a, public.b, public.c and 2 more)"));
        assert!(warnings[2].contains("objects in schema(s) public"));
    }

    #[test]
    fn snowflake_admin_roles_and_write_grants_warn() {
        assert_eq!(snowflake_warnings("accountadmin", &[]).len(), 1);
        assert!(
            snowflake_warnings("ANALYST", &[("SELECT".into(), "TABLE".into(), "DB.S.T".into())]).is_empty()
        );
        let w = snowflake_warnings("LOADER", &[("INSERT".into(), "TABLE".into(), "DB.S.T".into())]);
        assert!(w[0].contains("INSERT on table DB.S.T"), "{w:?}");
    }
}
