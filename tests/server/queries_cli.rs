//! `data-connector queries list|add|rm|run`, run as a user runs it, against the data folder of a
//! real server: what the CLI saves is what the API and Workspace's widgets.json then show.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_data-connector");

fn queries(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("queries").args(args).arg("--data-dir").arg(data_dir).output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The one `error:` line a failing command prints, after checking it failed.
fn error_line(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "a failure prints nothing on stdout: {:?}", out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"))
        .to_string()
}

#[tokio::test]
async fn queries_are_added_listed_run_and_removed() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("shop", &db, true).await;
    let data = s.app.config.data_dir.clone();

    let out = queries(
        &data,
        &[
            "add",
            "-c",
            "shop",
            "-n",
            "Cheap items",
            "--description",
            "Items under 2",
            "--sql",
            "select id, name from items where price < 2 order by id",
        ],
    );
    let line = stdout(&out);
    assert!(line.starts_with("saved query ") && line.contains("\"Cheap items\""), "{line}");
    let (status, _, saved) = s.get("/api/v1/queries").await;
    assert_eq!(status, 200);
    let saved = saved.as_array().unwrap().iter().find(|q| q["name"] == "Cheap items").cloned().unwrap();
    assert_eq!(saved["description"], "Items under 2");
    let id = saved["id"].as_i64().unwrap();
    // Workspace sees it on its next refresh of widgets.json.
    let (_, _, widgets) = s.get("/widgets.json").await;
    assert_eq!(widgets[format!("dc_saved_query_{id}")]["name"], "Cheap items", "{widgets}");

    let listing = stdout(&queries(&data, &["list"]));
    let mut lines = listing.lines();
    assert_eq!(lines.next(), Some("ID\tCONNECTION\tNAME\tPARAMETERS"));
    assert!(lines.any(|l| l.starts_with(&format!("{id}\tshop\tCheap items\t"))), "{listing}");
    let as_json: Value =
        serde_json::from_str(&stdout(&queries(&data, &["list", "--json", "-c", "shop"]))).unwrap();
    assert_eq!(as_json.as_array().unwrap().len(), 1);
    assert_eq!(as_json[0]["id"], id);
    let none: Value =
        serde_json::from_str(&stdout(&queries(&data, &["list", "--json", "-c", "other"]))).unwrap();
    assert_eq!(none, serde_json::json!([]));

    // By name or id, in each format `query` prints.
    assert_eq!(
        stdout(&queries(&data, &["run", "Cheap items", "-f", "csv"])),
        "id,name\n1,item 1\n2,item 2\n3,item 3\n"
    );
    assert_eq!(
        stdout(&queries(&data, &["run", &id.to_string(), "-f", "ndjson", "--limit", "1"])),
        "{\"id\":1,\"name\":\"item 1\"}\n"
    );
    let out = queries(&data, &["run", &id.to_string(), "--limit", "2"]);
    assert_eq!(stdout(&out), "[{\"id\":1,\"name\":\"item 1\"},{\"id\":2,\"name\":\"item 2\"}]\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut at 2 rows"));

    // SQL from standard input.
    let mut child = Command::new(BIN)
        .args(["queries", "add", "-c", "shop", "-n", "Count", "--sql", "-", "--data-dir"])
        .arg(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"select count(*) as n from items").unwrap();
    stdout(&child.wait_with_output().unwrap());
    assert_eq!(stdout(&queries(&data, &["run", "Count"])), "[{\"n\":5}]\n");

    assert_eq!(
        stdout(&queries(&data, &["rm", "Cheap items"])),
        format!("deleted query {id} \"Cheap items\"\n")
    );
    let (_, _, after) = s.get("/api/v1/queries").await;
    assert!(after.as_array().unwrap().iter().all(|q| q["id"] != id), "{after}");
    let (_, _, widgets) = s.get("/widgets.json").await;
    assert!(widgets.get(format!("dc_saved_query_{id}")).is_none());
}

#[tokio::test]
async fn queries_cli_errors_are_one_clear_line_and_change_nothing() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let data = s.app.config.data_dir.clone();
    let before = crate::common::file_digest(&db);

    let add = |args: &[&str]| {
        let mut all = vec!["add", "-c", "shop", "-n", "q"];
        all.extend_from_slice(args);
        queries(&data, &all)
    };
    // Two statements never save (a write saves, and is refused when run on a read-only connection).
    let line = error_line(&add(&["--sql", "select 1; drop table items"]));
    assert!(!line.contains("saved"), "{line}");
    assert!(error_line(&add(&["--sql", "select 1", "--param", "ticker:money"])).contains("name:type"));
    assert!(error_line(&add(&["--sql", "select 1", "--param", "ticker"])).contains("name:type"));
    assert!(
        error_line(&add(&["--sql", "select 1", "--display", "{not json"])).contains("--display is not JSON")
    );
    assert!(error_line(&add(&["--sql", "select 1", "--display", "[1]"])).contains("JSON object"));
    let line = error_line(&queries(&data, &["add", "-c", "ghost", "-n", "q", "--sql", "select 1"]));
    assert!(line.contains("ghost"), "{line}");
    let line = error_line(&queries(&data, &["add", "-c", "shop", "-n", " ", "--sql", "select 1"]));
    assert!(line.contains("name"), "{line}");
    // Nothing above was saved.
    let (_, _, saved) = s.get("/api/v1/queries").await;
    assert_eq!(saved, serde_json::json!([]));

    assert!(error_line(&queries(&data, &["rm", "nothing"]))
        .contains("no saved query with id or name \"nothing\""));
    assert!(error_line(&queries(&data, &["run", "999"])).contains("no saved query"));
    stdout(&add(&["--sql", "select 1 as one"]));
    stdout(&add(&["--sql", "select 2 as two"]));
    let line = error_line(&queries(&data, &["run", "q"]));
    assert!(line.contains("2 saved queries are named \"q\"") && line.contains("by its id"), "{line}");
    let (_, _, saved) = s.get("/api/v1/queries").await;
    let first = saved[0]["id"].to_string();
    assert!(error_line(&queries(&data, &["run", &first, "--param", "novalue"])).contains("name=value"));
    assert!(error_line(&queries(&data, &["run", &first, "--limit", "0"])).contains("limit must be between"));
    assert_eq!(crate::common::file_digest(&db), before, "the database file changed");
    // The server is still fine.
    assert_eq!(s.get("/health").await.0, 200);
}

#[tokio::test]
async fn queries_with_parameters_and_a_display_are_widgets_with_inputs() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("shop", &db, true).await;
    let data = s.app.config.data_dir.clone();
    let before = crate::common::file_digest(&db);

    let out = queries(
        &data,
        &[
            "add",
            "-c",
            "shop",
            "-n",
            "Items by name and size",
            "--sql",
            "select id, name from items where name = {{item}} or qty >= {{min_qty}} order by id",
            "--param",
            "item:text=item 2",
            "--param",
            "min_qty:number=99",
            "--display",
            r#"{"type": "chart", "chart_type": "bar", "x": "name", "y": ["id"]}"#,
            "--refresh-interval",
            "60",
            "--row-limit",
            "10",
            "--category",
            "Shop",
        ],
    );
    stdout(&out);
    let (_, _, saved) = s.get("/api/v1/queries").await;
    let saved = &saved[0];
    assert_eq!(
        saved["parameters"][0],
        serde_json::json!({"name": "item", "type": "text", "default": "item 2"})
    );
    assert_eq!(saved["parameters"][1]["type"], "number");
    assert_eq!(
        saved["display"],
        serde_json::json!({"type": "chart", "chart_type": "bar", "x": "name", "y": ["id"]})
    );
    assert_eq!((saved["refresh_interval"].as_u64(), saved["row_limit"].as_u64()), (Some(60), Some(10)));
    assert_eq!(saved["category"], "Shop");
    let id = saved["id"].as_i64().unwrap();
    let (_, _, widgets) = s.get("/widgets.json").await;
    let widget = &widgets[format!("dc_saved_query_{id}")];
    assert_eq!(widget["category"], "Shop", "{widget}");
    let names: Vec<&str> =
        widget["params"].as_array().unwrap().iter().filter_map(|p| p["paramName"].as_str()).collect();
    assert_eq!(names, ["item", "min_qty"], "{widget}");

    let listing = stdout(&queries(&data, &["list"]));
    assert!(listing.contains("\tItems by name and size\titem:text,min_qty:number\n"), "{listing}");

    // Defaults, then values given on the command line, bound and never spliced.
    let run = |args: &[&str]| {
        let mut all = vec!["run", "Items by name and size", "-f", "csv"];
        all.extend_from_slice(args);
        queries(&data, &all)
    };
    assert_eq!(stdout(&run(&[])), "id,name\n2,item 2\n");
    assert_eq!(stdout(&run(&["--param", "item=item 3"])), "id,name\n3,item 3\n");
    assert_eq!(stdout(&run(&["--param", "item=none", "--param", "min_qty=5"])), "id,name\n5,item 5\n");
    assert_eq!(stdout(&run(&["--param", "item=x' or '1'='1"])), "id,name\n");
    assert_eq!(stdout(&run(&["--param", "item=x\" or 1=1 --"])), "id,name\n");
    let line = error_line(&run(&["--param", "min_qty=lots"]));
    assert!(line.contains("min_qty"), "{line}");

    // Declarations the SQL does not match, named in the error; nothing saved.
    let add = |sql: &str, param: &str| {
        queries(&data, &["add", "-c", "shop", "-n", "bad", "--sql", sql, "--param", param])
    };
    let line = error_line(&add("select id from items where name = {{other}}", "item:text"));
    assert!(line.contains("other"), "{line}");
    let line = error_line(&add("select id from items where qty = {{n}}", "n:number=abc"));
    assert!(line.contains('n') && line.contains("number"), "{line}");
    let line = error_line(&queries(
        &data,
        &["add", "-c", "shop", "-n", "bad", "--sql", "select 1 as one", "--display", r#"{"type": "pie"}"#],
    ));
    assert!(line.contains("display") || line.contains("pie"), "{line}");
    let (_, _, all) = s.get("/api/v1/queries").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(crate::common::file_digest(&db), before, "the database file changed");
}
