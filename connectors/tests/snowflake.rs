//! The Snowflake engine against Snowflake's wire protocol: fakesnow's server mode behind the
//! test adapter (`dc_test_support::fakesnow`, tests/fixtures/fakesnow/adapter.py: JSON rowsets,
//! gzip result chunks, and the login checks and errors fakesnow does not have). One adapter
//! process serves the whole test binary; tests keep apart by user and database names.
//!
//! Needs the venv once: `tests/fixtures/fakesnow/start.sh setup`. Without it every test fails and
//! says so; `DC_SKIP_SNOWFLAKE=1` skips them instead (a local opt-out, refused under CI).

// A test that cannot go on should stop right there, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::{
    statement, ColumnKind, EngineKind, ErrorKind, Format, Listing, Param, Query, ResultSink, SinkOptions,
    StreamEvent,
};
use dc_test_support::engine::{error, output, query, query_with, run, run_limited};
use dc_test_support::fakesnow::{self, control, Adapter, CHUNK_ROWS};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The memory test takes this exclusively so no other test allocates while it samples RSS.
static HEAVY: RwLock<()> = RwLock::const_new(());

#[tokio::test]
async fn password_login_and_every_type() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    let db = sf.password_user("TYPES").await;
    assert_eq!(db.kind(), EngineKind::Snowflake);
    // fakesnow reports CURRENT_VERSION() as 10.0.0.
    assert_eq!(db.server_version().await.unwrap(), "Snowflake 10.0.0");

    let out = output(
        &*db,
        r#"SELECT
             1 AS INT_SMALL,
             9007199254740993 AS INT_BIG,
             12.50::NUMBER(10,2) AS DEC,
             -0.000001::NUMBER(38,10) AS DEC_SMALL,
             1.5::FLOAT AS FLT,
             'NaN'::FLOAT AS FLT_NAN,
             'héllo "q"' AS TXT,
             TRUE AS BOOL,
             '2024-01-02'::DATE AS D,
             '1969-07-20'::DATE AS D_OLD,
             '12:34:56.5'::TIME AS TM,
             '2024-01-02 03:04:05.123'::TIMESTAMP_NTZ AS TS_NTZ,
             '1969-12-31 23:59:59.5'::TIMESTAMP_NTZ AS TS_OLD,
             '2024-01-02 03:04:05.123 +02:00'::TIMESTAMP_TZ AS TS_TZ,
             '2024-01-02 03:04:05'::TIMESTAMP_LTZ AS TS_LTZ,
             TO_BINARY('48656C6C6F', 'HEX') AS BIN,
             PARSE_JSON('{"a":[1,2]}') AS VAR,
             OBJECT_CONSTRUCT('k', 'v') AS OBJ,
             [1,2]::ARRAY AS ARR,
             NULL AS NUL"#,
    )
    .await;
    let text = out.body.clone();
    assert_eq!(
        text,
        concat!(
            r#"[{"INT_SMALL":1,"INT_BIG":"9007199254740993","DEC":12.50,"DEC_SMALL":-0.0000010000,"#,
            r#""FLT":1.5,"FLT_NAN":null,"TXT":"héllo \"q\"","BOOL":true,"D":"2024-01-02","D_OLD":"1969-07-20","#,
            r#""TM":"12:34:56.5","TS_NTZ":"2024-01-02T03:04:05.123","TS_OLD":"1969-12-31T23:59:59.5","#,
            // fakesnow normalises TIMESTAMP_TZ to UTC and reports LTZ as TZ (see docs/snowflake.md).
            r#""TS_TZ":"2024-01-02T01:04:05.123+00:00","TS_LTZ":"2024-01-02T03:04:05+00:00","#,
            r#""BIN":"SGVsbG8=","VAR":"{\"a\":[1,2]}","OBJ":"{\"k\":\"v\"}","ARR":"[1,2]","NUL":null}]"#
        )
    );
    let kinds: Vec<(&str, &str, ColumnKind)> =
        out.columns.iter().map(|c| (c.name.as_str(), c.db_type.as_str(), c.kind)).collect();
    assert_eq!(kinds[0], ("INT_SMALL", "NUMBER(38,0)", ColumnKind::Integer));
    assert_eq!(kinds[2], ("DEC", "NUMBER(10,2)", ColumnKind::Decimal));
    assert_eq!(kinds[4], ("FLT", "FLOAT", ColumnKind::Float));
    assert_eq!(kinds[6].2, ColumnKind::Text);
    assert_eq!(kinds[7], ("BOOL", "BOOLEAN", ColumnKind::Boolean));
    assert_eq!(kinds[8], ("D", "DATE", ColumnKind::Date));
    assert_eq!(kinds[10], ("TM", "TIME(9)", ColumnKind::Time));
    assert_eq!(kinds[11], ("TS_NTZ", "TIMESTAMP_NTZ(9)", ColumnKind::DateTime));
    assert_eq!(kinds[13], ("TS_TZ", "TIMESTAMP_TZ(9)", ColumnKind::DateTime));
    assert_eq!(kinds[15], ("BIN", "BINARY", ColumnKind::Binary));
    assert_eq!(kinds[16], ("VAR", "VARIANT", ColumnKind::Json));

    // The same values through a table: DDL, a DML result (JSON rowset from fakesnow itself) and
    // typed columns, plus duplicate output names.
    output(&*db, "CREATE TABLE T (ID INT, AMT NUMBER(12,4), TS TIMESTAMP_NTZ, NOTE VARCHAR(20), RAW BINARY)")
        .await;
    let inserted = output(
        &*db,
        "INSERT INTO T VALUES (1, 1234.5, '2001-02-03 04:05:06', 'a', TO_BINARY('00FF', 'HEX')), \
         (2, NULL, NULL, NULL, NULL)",
    )
    .await;
    assert_eq!(inserted.json(), json!([{"number of rows inserted": 2}]));
    let out = output(&*db, "SELECT ID, AMT, TS, NOTE, RAW, ID FROM T ORDER BY ID").await;
    assert_eq!(
        out.json(),
        json!([
            {"ID": 1, "AMT": 1234.5, "TS": "2001-02-03T04:05:06", "NOTE": "a", "RAW": "AP8=", "ID_2": 1},
            {"ID": 2, "AMT": null, "TS": null, "NOTE": null, "RAW": null, "ID_2": 2}
        ])
    );
    // Exact digits: the scale's trailing zeros survive.
    assert!(out.body.contains(r#""AMT":1234.5000"#));
}

/// RSA key pair for the JWT login: (PKCS#8 PEM, encrypted PKCS#8 PEM, public key PEM).
fn key_pair(passphrase: &str) -> (String, String, String) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("generate an RSA key");
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PEM").to_string();
    let public = key.to_public_key().to_public_key_pem(LineEnding::LF).expect("public PEM");
    // What `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes: PBES2, PBKDF2-SHA256, AES-256-CBC.
    let der = key.to_pkcs8_der().expect("DER");
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).expect("PKCS#8");
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut iv);
    let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &salt, &iv).expect("params");
    let encrypted = info.encrypt_with_params(params, passphrase).expect("encrypt");
    let encrypted = encrypted.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF).expect("PEM").to_string();
    (pem, encrypted, public)
}

#[tokio::test]
async fn key_pair_login() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    let (pem, encrypted, public) = tokio::task::spawn_blocking(|| key_pair("correct horse")).await.unwrap();
    sf.setup(json!({"users": [
        {"account": "fake", "user": "KEYUSER", "public_key": public},
        {"account": "fake", "user": "NOKEYUSER", "password": "irrelevant"}
    ]}))
    .await;
    let base = json!({"user": "keyuser", "database": "DB_KEYS"});
    let with = |extra: Value| {
        let mut fields = base.clone();
        if let (Value::Object(f), Value::Object(e)) = (&mut fields, extra) {
            f.extend(e);
        }
        fields
    };

    // The adapter verifies the RS256 signature against the registered public key and the
    // issuer's SHA256 fingerprint, as Snowflake does; fakesnow alone accepts anything.
    let db = sf.engine(with(json!({"private_key": pem}))).await;
    assert_eq!(output(&*db, "SELECT 7 AS N").await.json(), json!([{"N": 7}]));
    let db =
        sf.engine(with(json!({"private_key": encrypted, "private_key_passphrase": "correct horse"}))).await;
    assert_eq!(output(&*db, "SELECT 8 AS N").await.json(), json!([{"N": 8}]));
    let logins = sf.state().await["logins"].clone();
    let jwt_logins = logins
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["user"] == "KEYUSER" && l["authenticator"] == "SNOWFLAKE_JWT")
        .count();
    assert_eq!(jwt_logins, 2, "{logins}");

    // A key pasted with literal \n (from a JSON or .env file) still works.
    let escaped = pem.trim().replace('\n', "\\n");
    sf.engine(with(json!({"private_key": escaped}))).await;

    let err = sf.connect_err(with(json!({"private_key": encrypted}))).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("private_key_passphrase"), "{err}");

    let err =
        sf.connect_err(with(json!({"private_key": encrypted, "private_key_passphrase": "wrong"}))).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!err.message().contains("wrong"), "the passphrase leaked: {err}");

    let err = sf
        .connect_err(with(
            json!({"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
        ))
        .await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    // A valid key the user has not registered: Snowflake's 390144.
    let err = sf.connect_err(json!({"user": "NOKEYUSER", "private_key": pem, "database": "DB_KEYS"})).await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert!(err.message().contains("JWT token is invalid"), "{err}");
}

#[tokio::test]
async fn password_oauth_and_mfa_failures() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    sf.setup(json!({"users": [
        {"account": "fake", "user": "PWUSER", "password": "s3cret-pass"},
        {"account": "fake", "user": "MFAUSER", "password": "mfa-pass", "passcode": "123456"},
        {"account": "fake", "user": "OAUTHUSER", "oauth_token": "token-abc-123"}
    ]}))
    .await;

    let err =
        sf.connect_err(json!({"user": "pwuser", "password": "not-the-pass", "database": "DB_AUTH"})).await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert!(err.message().contains("Incorrect username or password"), "{err}");
    assert!(!err.message().contains("not-the-pass"), "{err}");
    sf.engine(json!({"user": "pwuser", "password": "s3cret-pass", "database": "DB_AUTH"})).await;

    let err = sf.connect_err(json!({"user": "mfauser", "password": "mfa-pass", "database": "DB_AUTH"})).await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert!(err.message().contains("MFA"), "{err}");
    sf.engine(
        json!({"user": "mfauser", "password": "mfa-pass", "passcode": "123456", "database": "DB_AUTH"}),
    )
    .await;

    let err = sf
        .connect_err(json!({"user": "oauthuser", "oauth_token": "expired-token", "database": "DB_AUTH"}))
        .await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert!(!err.message().contains("expired-token"), "{err}");
    let db =
        sf.engine(json!({"user": "oauthuser", "oauth_token": "token-abc-123", "database": "DB_AUTH"})).await;
    assert_eq!(output(&*db, "SELECT 'ok' AS R").await.json(), json!([{"R": "ok"}]));

    let err = sf.connect_err(json!({"user": "pwuser", "database": "DB_AUTH"})).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

/// A programmatic access token as its own mode (`pat`, sent in the password slot) and typed into
/// the password field, as the native dialog sends it; a wrong one is refused with a message that
/// says what to check and never contains either token.
#[tokio::test]
async fn programmatic_access_token_login() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    let pat = "pat-0123456789-valid-token";
    let wrong = "pat-9876543210-wrong-token";
    // The user also has MFA on its password: a PAT signs in without a passcode.
    sf.setup(json!({"users": [{"account": "fake", "user": "PATUSER", "password": "pat-user-pw",
        "passcode": "654321", "pat": pat}]}))
        .await;

    let db = sf.engine(json!({"user": "patuser", "pat": pat, "database": "DB_PAT"})).await;
    assert_eq!(output(&*db, "SELECT 'ok' AS R").await.json(), json!([{"R": "ok"}]));
    let explicit = sf
        .engine(json!({"user": "patuser", "authenticator": "programmatic_access_token", "pat": pat,
            "password": "stale", "database": "DB_PAT"}))
        .await;
    assert_eq!(output(&*explicit, "SELECT 1 AS N").await.json(), json!([{"N": 1}]));
    let in_password = sf.engine(json!({"user": "patuser", "password": pat, "database": "DB_PAT"})).await;
    assert_eq!(output(&*in_password, "SELECT 2 AS N").await.json(), json!([{"N": 2}]));

    let err = sf.connect_err(json!({"user": "patuser", "pat": wrong, "database": "DB_PAT"})).await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    let message = err.message();
    assert!(message.contains("programmatic access token") && message.contains("Incorrect username"), "{err}");
    assert!(message.contains("expired or revoked"), "{err}");
    assert!(!message.contains(wrong) && !message.contains(pat), "{err}");
    let err = sf.connect_err(json!({"user": "patuser", "password": wrong, "database": "DB_PAT"})).await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert!(err.message().contains("programmatic access token in the password field"), "{err}");
    assert!(!err.message().contains(wrong), "{err}");
    let err = sf
        .connect_err(json!({"user": "patuser", "authenticator": "programmatic_access_token",
            "password": pat, "database": "DB_PAT"}))
        .await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("\"pat\""), "{err}");

    // Every PAT login went out as Snowflake's password login (the crate has no PAT authenticator).
    let state = sf.state().await;
    let logins: Vec<&Value> =
        state["logins"].as_array().unwrap().iter().filter(|l| l["user"] == "PATUSER").collect();
    assert_eq!(logins.len(), 5, "{state}");
    assert!(logins.iter().all(|l| l["authenticator"] == "SNOWFLAKE"), "{state}");
    assert!(!state.to_string().contains(pat), "the adapter's record holds no token");

    // Snowflake's own PAT login (authenticator PROGRAMMATIC_ACCESS_TOKEN, the token in TOKEN),
    // which other drivers send: the adapter checks that path too.
    let login = |token: &str| {
        let body = json!({"data": {"ACCOUNT_NAME": "fake", "LOGIN_NAME": "patuser",
            "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN", "TOKEN": token}});
        control("POST", format!("{}/session/v1/login-request?databaseName=DB_PAT", sf.url), Some(body))
    };
    let refused = login(wrong).await;
    assert_eq!((&refused["success"], &refused["code"]), (&json!(false), &json!("390100")), "{refused}");
    let accepted = login(pat).await;
    assert_eq!(accepted["success"], json!(true), "{accepted}");
    assert!(!refused.to_string().contains(wrong) && !accepted.to_string().contains(pat));
}

#[tokio::test]
async fn unknown_account_and_unreachable_host() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    sf.setup(json!({"unknown_accounts": ["NOPE12345.EU-CENTRAL-1"]})).await;
    let err =
        sf.connect_err(json!({"account": "nope12345.eu-central-1", "user": "u", "password": "p"})).await;
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("nope12345.eu-central-1"), "{err}");

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = sf
        .connect_err(json!({"user": "u", "password": "p", "base_url": format!("http://127.0.0.1:{port}")}))
        .await;
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");

    let err = sf.connect_err(json!({"account": "not an account", "user": "u", "password": "p"})).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = sf
        .connect_err(json!({"user": "u", "password": "p", "base_url": "http://snowflake.example.com"}))
        .await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[tokio::test]
async fn warehouse_privilege_and_sql_errors() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    sf.setup(json!({"users": [{"account": "fake", "user": "ERRUSER", "password": "err-pass-1",
                          "warehouses": ["COMPUTE_WH"], "denied": ["SECRET_TABLE"]}]}))
        .await;
    let fields = json!({"user": "erruser", "password": "err-pass-1", "database": "DB_ERRORS"});
    let no_warehouse = sf.engine(fields.clone()).await;
    // Statements that read no table run without a warehouse, as on Snowflake.
    output(&*no_warehouse, "SELECT 1 AS ONE").await;
    let err = error(&*no_warehouse, query("SELECT * FROM INFORMATION_SCHEMA.TABLES")).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("000606") && err.message().contains("warehouse"), "{err}");

    let mut with_warehouse = fields;
    with_warehouse["warehouse"] = json!("compute_wh");
    let db = sf.engine(with_warehouse).await;
    // The adapter refuses statements on SECRET_TABLE for this user with Snowflake's 003001.
    let err = error(&*db, query("SELECT * FROM SECRET_TABLE")).await;
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert!(err.message().contains("003001") && err.message().contains("Insufficient privileges"), "{err}");

    let err = error(&*db, query("SELECT * FROM NO_SUCH_TABLE")).await;
    assert_eq!(err.kind(), ErrorKind::Sql, "{err}");
    assert!(err.message().contains("002003") && err.message().contains("NO_SUCH_TABLE"), "{err}");
    let err = error(&*db, query("SELEC 1")).await;
    assert_eq!(err.kind(), ErrorKind::Sql, "{err}");
    assert!(err.message().contains("001003"), "{err}");

    // A driver message that echoes a secret is scrubbed.
    let err = error(&*db, query("SELECT * FROM \"err-pass-1\"")).await;
    assert!(!err.message().contains("err-pass-1") && err.message().contains("***"), "{err}");
}

#[tokio::test]
async fn schema_browsing() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    sf.setup(json!({"users": [{"account": "fake", "user": "BROWSER", "password": "browse-pw",
                          "roles": ["PUBLIC", "ANALYST", "SYSADMIN"]}]}))
        .await;
    let db = sf.engine(json!({"user": "browser", "password": "browse-pw", "database": "DB_BROWSE"})).await;
    for sql in [
        "CREATE TABLE T1 (ID INT NOT NULL, NAME VARCHAR(20), AMT NUMBER(10,2), CREATED_AT TIMESTAMP_NTZ)",
        "CREATE VIEW V1 AS SELECT ID, NAME FROM T1",
        "CREATE SCHEMA S2",
        "CREATE TABLE S2.\"Mixed Case\" (X INT)",
    ] {
        output(&*db, sql).await;
    }

    assert!(db.list(Listing::Databases).await.unwrap().contains(&"DB_BROWSE".to_string()));
    let schemas = db.list(Listing::Schemas).await.unwrap();
    assert!(schemas.contains(&"PUBLIC".to_string()) && schemas.contains(&"S2".to_string()), "{schemas:?}");
    assert_eq!(db.list(Listing::Warehouses).await.unwrap(), ["FAKESNOW_WAREHOUSE"]);
    // CURRENT_AVAILABLE_ROLES() is answered by the adapter (fakesnow lacks it), sorted by us.
    assert_eq!(db.list(Listing::Roles).await.unwrap(), ["ANALYST", "PUBLIC", "SYSADMIN"]);

    let tables = db.tables(Some("PUBLIC")).await.unwrap();
    let found: Vec<(&str, &str, &str)> =
        tables.iter().map(|t| (t.schema.as_str(), t.name.as_str(), t.kind.as_str())).collect();
    assert_eq!(found, [("PUBLIC", "T1", "table"), ("PUBLIC", "V1", "view")]);
    let everywhere = db.tables(None).await.unwrap();
    assert!(
        everywhere.iter().any(|t| t.schema == "S2" && t.name == "Mixed Case" && t.kind == "table"),
        "{everywhere:?}"
    );
    assert!(everywhere.iter().any(|t| t.schema == "PUBLIC" && t.name == "V1"), "{everywhere:?}");

    let columns = db.columns(Some("PUBLIC"), "T1").await.unwrap();
    let shown: Vec<(&str, &str, bool)> =
        columns.iter().map(|c| (c.name.as_str(), c.db_type.as_str(), c.nullable)).collect();
    assert_eq!(
        shown,
        [
            ("ID", "NUMBER(38,0)", false),
            ("NAME", "VARCHAR(20)", true),
            ("AMT", "NUMBER(10,2)", true),
            ("CREATED_AT", "TIMESTAMP_NTZ(9)", true)
        ]
    );
    assert_eq!(db.columns(Some("PUBLIC"), "V1").await.unwrap().len(), 2);
    assert_eq!(db.columns(Some("S2"), "Mixed Case").await.unwrap()[0].name, "X");
    let err = db.columns(Some("PUBLIC"), "NOPE").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn bind_parameters() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    let db = sf.password_user("BINDS").await;
    // fakesnow hands a REAL bind to DuckDB untyped, so `SELECT ?` would come back as text.
    let sql = "SELECT ? AS I, CAST(? AS FLOAT) AS F, ? AS T, ? AS B, ? AS N";
    let params = vec![
        Param::Int(42),
        Param::Float(2.5),
        Param::Text("it's \"quoted\"".into()),
        Param::Bool(true),
        Param::Null,
    ];
    let out = run(&*db, query_with(sql, params, Duration::from_secs(60))).await.unwrap();
    assert_eq!(out.json(), json!([{"I": 42, "F": 2.5, "T": "it's \"quoted\"", "B": true, "N": null}]));

    output(&*db, "CREATE TABLE NUMS AS SELECT SEQ4() AS N FROM TABLE(GENERATOR(ROWCOUNT => 10))").await;
    let out = run_limited(
        &*db,
        query_with(
            "SELECT N FROM NUMS WHERE N BETWEEN ? AND ? ORDER BY N",
            vec![Param::Int(5), Param::Int(7)],
            Duration::from_secs(60),
        ),
        u64::MAX,
    )
    .await
    .unwrap();
    assert_eq!(out.json(), json!([{"N": 5}, {"N": 6}, {"N": 7}]));
    // An injection attempt is just a value.
    let out = run_limited(
        &*db,
        query_with(
            "SELECT COUNT(*) AS C FROM NUMS WHERE CAST(N AS VARCHAR) = ?",
            vec![Param::Text("1' OR '1'='1".into())],
            Duration::from_secs(60),
        ),
        u64::MAX,
    )
    .await
    .unwrap();
    assert_eq!(out.json(), json!([{"C": 0}]));
}

#[tokio::test]
async fn read_only_refuses_writes_and_row_cap_truncates() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    sf.setup(json!({"users": [{"account": "fake", "user": "READER", "password": "reader-pw"}]})).await;
    let fields =
        json!({"user": "reader", "password": "reader-pw", "database": "DB_READER", "read_only": true});
    let db = sf.engine(fields).await;
    let err = error(&*db, query("CREATE TABLE X (A INT)")).await;
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
    let err = error(&*db, query("SELECT 1; DROP TABLE X")).await;
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");

    // 20k rows are 4 parts; a cap of 10 stops after the first and says so.
    let sql = "SELECT SEQ4() AS N FROM TABLE(GENERATOR(ROWCOUNT => 20000)) ORDER BY N";
    let out = run_limited(&*db, query_with(sql, Vec::new(), Duration::from_secs(60)), 10).await.unwrap();
    assert_eq!((out.rows, out.truncated), (10, true));
    assert_eq!(out.json().as_array().unwrap().len(), 10);
    let statement = statement::check(sql, true).unwrap();
    let query = Query::new(sql, Vec::new(), Duration::from_secs(60));
    assert!(db.exceeds(&statement, &query, 19_999).await.unwrap());
    assert!(!db.exceeds(&statement, &query, 20_000).await.unwrap());
}

#[tokio::test]
async fn expired_session_logs_in_again() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    let db = sf.password_user("EXPIRY").await;
    output(&*db, "SELECT 1 AS A").await;
    let logins =
        |state: &Value| state["logins"].as_array().unwrap().iter().filter(|l| l["user"] == "EXPIRY").count();
    let before = logins(&sf.state().await);
    let expired = control(
        "POST",
        format!("{}/_adapter/expire", sf.url),
        Some(json!({"account": "fake", "user": "EXPIRY"})),
    )
    .await;
    assert_eq!(expired["expired"], 1);
    assert_eq!(output(&*db, "SELECT 2 AS A").await.json(), json!([{"A": 2}]));
    assert_eq!(logins(&sf.state().await), before + 1);
}

/// The query ids of statements the adapter is holding (`/* adapter:sleep=N */`).
async fn wait_for_running(sf: &Adapter, before: &[Value]) -> String {
    for _ in 0..200 {
        let state = sf.state().await;
        if let Some(id) = state["running"].as_array().unwrap().iter().find(|id| !before.contains(id)) {
            return id.as_str().unwrap().to_string();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the slow statement never reached the adapter");
}

async fn wait_for_abort(sf: &Adapter, request_id: &str, case: &str) {
    // Generous: the adapter answers one request at a time while it converts other results.
    for _ in 0..600 {
        let state = sf.state().await;
        if state["aborts"].as_array().unwrap().iter().any(|id| id == request_id) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{case}: no abort request arrived for {request_id}");
}

#[tokio::test]
async fn timeout_and_disconnect_send_snowflakes_abort() {
    let Some(sf) = fakesnow::adapter() else { return };
    let _shared = HEAVY.read().await;
    let db = sf.password_user("ABORTS").await;
    let slow = "SELECT /* adapter:sleep=60 */ 1 AS SLOW";

    // Timeout: the engine aborts the statement on Snowflake and reports Timeout.
    let before = sf.state().await["running"].as_array().unwrap().clone();
    let started = Instant::now();
    let (err, id) = tokio::join!(
        async {
            run_limited(&*db, query_with(slow, Vec::new(), Duration::from_secs(2)), u64::MAX).await.err()
        },
        wait_for_running(sf, &before)
    );
    let err = err.expect("the slow statement should time out");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));
    wait_for_abort(sf, &id, "timeout").await;

    // The client goes away while Snowflake is still running the statement.
    let before = sf.state().await["running"].as_array().unwrap().clone();
    let (sink, rx) = ResultSink::new(SinkOptions::new(Format::Json, u64::MAX));
    let query = Query::new(slow, Vec::new(), Duration::from_secs(60));
    let db2 = Arc::clone(&db);
    let task = tokio::spawn(async move { db2.query(query, sink).await });
    let id = wait_for_running(sf, &before).await;
    drop(rx);
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    wait_for_abort(sf, &id, "client gone").await;

    // The server drops the query future (e.g. its request was cancelled).
    let before = sf.state().await["running"].as_array().unwrap().clone();
    let (sink, _rx) = ResultSink::new(SinkOptions::new(Format::Json, u64::MAX));
    let query = Query::new(slow, Vec::new(), Duration::from_secs(60));
    let db3 = Arc::clone(&db);
    let task = tokio::spawn(async move { db3.query(query, sink).await });
    let id = wait_for_running(sf, &before).await;
    task.abort();
    wait_for_abort(sf, &id, "future dropped").await;

    // The session is still good afterwards.
    assert_eq!(output(&*db, "SELECT 3 AS A").await.json(), json!([{"A": 3}]));
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_result_streams_in_order_with_flat_memory() {
    let Some(sf) = fakesnow::adapter() else { return };
    let db = sf.password_user("BIG").await;
    const ROWS: u64 = 200_000;
    // About 250 bytes of JSON per row: 50 MB in all, far more than the memory the engine may use.
    let sql = format!(
        "SELECT SEQ4() AS N, 'row-' || SEQ4() AS LABEL, REPEAT('x', 200) AS PAD, SEQ4() * 0.5 AS HALF \
         FROM TABLE(GENERATOR(ROWCOUNT => {ROWS})) ORDER BY N"
    );
    // Warm up: the session and the first allocations of every code path.
    run_limited(
        &*db,
        query_with(
            "SELECT SEQ4() AS N FROM TABLE(GENERATOR(ROWCOUNT => 12000))",
            Vec::new(),
            Duration::from_secs(60),
        ),
        u64::MAX,
    )
    .await
    .unwrap();

    let _exclusive = HEAVY.write().await;
    let baseline = rss_bytes();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (Arc::clone(&peak), Arc::clone(&sampling));
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Ndjson, u64::MAX));
    let state_url = format!("{}/_adapter/state", sf.url);
    let expected_sql = sql.clone();
    let reader = tokio::spawn(async move {
        let (mut next, mut bytes, mut pending) = (0u64, 0usize, Vec::<u8>::new());
        let mut served_at_start = None;
        let mut finished = None;
        while let Some(event) = rx.recv().await {
            let data = match event {
                StreamEvent::Started { first, .. } => {
                    // How far the downloads had got when the first bytes went out.
                    let state = control("GET", state_url.clone(), None).await;
                    served_at_start = state["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["sql"] == expected_sql.as_str())
                        .map(|r| (r["served"].as_u64().unwrap(), r["chunks"].as_u64().unwrap()));
                    first.concat().into()
                }
                StreamEvent::Chunk(chunk) => chunk,
                StreamEvent::Finished { rows, truncated } => {
                    finished = Some((rows, truncated));
                    continue;
                }
                StreamEvent::Complete { .. } => panic!("200k rows must stream"),
            };
            bytes += data.len();
            pending.extend_from_slice(&data);
            let complete = pending.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            for line in pending[..complete].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let row: Value = serde_json::from_slice(line).unwrap();
                assert_eq!(row["N"], next, "rows out of order");
                assert_eq!(row["LABEL"], format!("row-{next}"));
                assert_eq!(row["PAD"].as_str().map(str::len), Some(200));
                next += 1;
            }
            pending.drain(..complete);
        }
        (next, bytes, served_at_start, finished)
    });
    let started = Instant::now();
    db.query(Query::new(sql.clone(), Vec::new(), Duration::from_secs(300)), sink).await.unwrap();
    let (rows, bytes, served_at_start, finished) = reader.await.unwrap();
    let elapsed = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let growth = peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(baseline);

    assert_eq!(rows, ROWS);
    assert_eq!(finished, Some((ROWS, false)));
    let (served, chunks) = served_at_start.expect("the adapter split the result into chunks");
    assert_eq!(chunks, ROWS / CHUNK_ROWS as u64 - 1, "one inline part plus chunks");
    // Streaming, not collect-all: output began while most chunks were still on the server.
    assert!(
        served < chunks / 2,
        "{served} of {chunks} chunks were downloaded before the first byte went out"
    );
    eprintln!(
        "{ROWS} rows, {} MB of NDJSON in {elapsed:?}; {served} of {chunks} chunks downloaded when output began; \
         RSS grew {} MB (baseline {} MB)",
        bytes >> 20,
        growth >> 20,
        baseline >> 20
    );
    assert!(bytes > 45 << 20, "{bytes}");
    assert!(growth < 40 << 20, "RSS grew {} MB while streaming {} MB", growth >> 20, bytes >> 20);
}
