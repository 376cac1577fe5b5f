//! The connection settings parser (`ConnectionSettings::from_input`, URLs included), fed
//! generated connection JSON. Properties:
//! - it never panics, and a refusal is `InvalidInput`;
//! - accepted settings hold no secret: no password, token or key value appears in them, and
//!   what they serialize to parses back to the same settings with no secrets;
//! - a URL's password never appears in an error message.

use crate::{run_for, Rng};
use connectors::{ConnectionSettings, ErrorKind};
use serde_json::{json, Map, Value};

const FIELDS: &[&str] = &[
    "path",
    "host",
    "port",
    "database",
    "user",
    "tls",
    "ca_file",
    "read_only",
    "password",
    "account",
    "warehouse",
    "role",
    "schema",
    "authenticator",
    "private_key",
    "private_key_passphrase",
    "token",
    "passcode",
    "base_url",
    "url",
    "bogus",
    "kind",
];

fn text(rng: &mut Rng) -> String {
    let pieces =
        ["a", "db", "x y", "?", "#", "@", ":", "/", "%", "%zz", "%40", "é", "\u{1}", "..", "'", "\"", "5432"];
    (0..rng.below(5)).map(|_| *rng.pick(&pieces)).collect()
}

fn url(rng: &mut Rng, password: &str) -> String {
    let scheme = rng.pick(&["mysql", "mariadb", "postgres", "postgresql", "http", "", "snowflake"]);
    let user = if rng.chance(80) { format!("{}:{password}@", text(rng)) } else { String::new() };
    let host = rng.pick(&["localhost", "127.0.0.1", "[::1]", "", "db.example"]);
    let port = if rng.chance(60) {
        format!(":{}", rng.pick(&["3306", "5432", "0", "99999", "x", ""]))
    } else {
        String::new()
    };
    let query = if rng.chance(30) {
        format!("?{}={}", rng.pick(&["sslmode", "ssl-mode", "x"]), text(rng))
    } else {
        String::new()
    };
    format!("{scheme}://{user}{host}{port}/{}{query}", text(rng))
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(7) {
        0 => Value::Null,
        1 => json!(rng.below(70000)),
        2 => json!(-1),
        3 => json!(rng.chance(50)),
        4 => json!([]),
        5 => json!({"a": 1}),
        _ => json!(text(rng)),
    }
}

#[test]
fn settings_parser() {
    let mut accepted = 0u64;
    let cases = run_for("settings parser", |rng, seed| {
        let password =
            format!("Pw{}{}", rng.pick(&["?x", "#y", "@z", "/w", ":v", "%41", "plain"]), rng.below(1000));
        let mut input = Map::new();
        input.insert("kind".into(), json!(rng.pick(&["sqlite", "mysql", "postgres", "snowflake", "oracle"])));
        for _ in 0..rng.below(6) {
            let field = rng.pick(FIELDS).to_string();
            let v = match field.as_str() {
                "url" => json!(url(rng, &password)),
                "password" | "token" | "passcode" | "private_key" => json!(password.clone()),
                "path" if rng.chance(50) => json!("/tmp/x.db"),
                _ => value(rng),
            };
            input.insert(field, v);
        }
        let context = format!("seed {seed}: {}", Value::Object(input.clone()));
        match ConnectionSettings::from_input(input) {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}, {context}");
                assert!(!e.message().contains(&password), "the password is in the error {e:?}, {context}");
            }
            Ok((settings, _secrets)) => {
                accepted += 1;
                let stored = serde_json::to_value(&settings).unwrap();
                assert!(
                    !stored.to_string().contains(&password),
                    "a secret in the settings {stored}, {context}"
                );
                let Value::Object(map) = stored else { panic!("settings serialize to an object, {context}") };
                let (again, secrets) = ConnectionSettings::from_input(map)
                    .unwrap_or_else(|e| panic!("stored settings refused: {e}, {context}"));
                assert_eq!(again, settings, "{context}");
                assert!(secrets.is_empty(), "{context}");
            }
        }
    });
    eprintln!("settings parser: {accepted} accepted settings checked further");
    assert!(
        cases > 1000 && accepted > 50,
        "the generator must reach accepted settings ({cases}, {accepted})"
    );
}
