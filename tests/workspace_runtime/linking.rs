//! Linking as the frontend resolves it: an endpoint param's `groupById` is the last path segment
//! of its `optionsEndpoint` (`handleEndpointParam`), made `<paramName>-<segment>` when two
//! endpoint params of one widget share it (`populateGroupByIdCounts`); widgets link through
//! equal `groupById`s. A Tables cell click (`renderFn: "cellOnClick"`, `actionType: "groupBy"`)
//! sets the table group; apps.json's `groups` pre-link the widgets.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `createParamDefs` with a backend URL: the `groupById` of every endpoint param, by widget.
fn group_ids(widgets: &Value) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for (id, widget) in widgets.as_object().unwrap() {
        let params: Vec<&Value> = widget["params"].as_array().map(|p| p.iter().collect()).unwrap_or_default();
        let segment =
            |p: &Value| p["optionsEndpoint"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        let mut counts: HashMap<String, usize> = HashMap::new();
        for p in params.iter().filter(|p| p["type"] == "endpoint") {
            *counts.entry(segment(p)).or_default() += 1;
        }
        let mut resolved = BTreeMap::new();
        for p in params.iter().filter(|p| p["type"] == "endpoint") {
            let name = p["paramName"].as_str().unwrap().to_string();
            let mut group = segment(p);
            if counts[&group] > 1 {
                group = format!("{name}-{group}");
            }
            resolved.insert(name, group);
        }
        if !resolved.is_empty() {
            all.insert(id.clone(), resolved);
        }
    }
    all
}

#[tokio::test]
async fn one_group_id_per_picker_kind_in_every_widget() {
    let s = start().await;
    let (_, _, widgets) = s.get("/widgets.json").await;
    let resolved = group_ids(&widgets);
    let mut by_param: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for params in resolved.values() {
        for (param, group) in params {
            by_param.entry(param.clone()).or_default().insert(group.clone());
        }
    }
    assert_eq!(by_param["connection"], BTreeSet::from(["connection".to_string()]), "{resolved:?}");
    assert_eq!(by_param["table"], BTreeSet::from(["table".to_string()]), "{resolved:?}");
    let linked: Vec<&String> =
        resolved.iter().filter(|(_, p)| p.contains_key("connection")).map(|(id, _)| id).collect();
    assert_eq!(linked.len(), 6, "{linked:?}");
    // The options endpoints answer where they say.
    let db = items_db(s.dir.path(), 2);
    s.add_sqlite("shop", &db, true).await;
    for endpoint in [&widgets["dc_schema_columns"]["params"][0], &widgets["dc_schema_columns"]["params"][1]] {
        let path = format!("/{}?connection=shop", endpoint["optionsEndpoint"].as_str().unwrap());
        let (status, _, options) = s.get(&path).await;
        assert_eq!(status, 200, "{path}: {options}");
        assert!(!options.as_array().unwrap().is_empty(), "{path}: {options}");
    }
}

/// A click on a table in the Tables widget sets the `table` param, whose values are the table
/// pickers' (`schema.name`), in the widgets of the table group.
#[tokio::test]
async fn a_click_in_tables_sets_the_table_of_columns_and_browser() {
    let s = start().await;
    let db = items_db(s.dir.path(), 2);
    s.add_sqlite("shop", &db, true).await;
    let (_, _, widgets) = s.get("/widgets.json").await;
    let columns = widgets["dc_schema_tables"]["data"]["table"]["columnsDefs"].as_array().unwrap();
    let clickable: Vec<&Value> = columns.iter().filter(|c| c["renderFn"] == "cellOnClick").collect();
    assert_eq!(clickable.len(), 1);
    assert_eq!(
        clickable[0]["renderFnParams"],
        json!({"actionType": "groupBy", "groupBy": {"paramName": "table"}})
    );
    let field = clickable[0]["field"].as_str().unwrap();
    // The cell values are exactly the picker's option values.
    let (_, _, rows) = s.get("/widgets/schema/tables?connection=shop").await;
    let (_, _, options) = s.get("/widgets/options/table?connection=shop").await;
    let cells: BTreeSet<&str> = rows.as_array().unwrap().iter().map(|r| r[field].as_str().unwrap()).collect();
    let values: BTreeSet<&str> =
        options.as_array().unwrap().iter().map(|o| o["value"].as_str().unwrap()).collect();
    assert_eq!(cells, values);
    assert!(cells.contains("main.items"));
    // apps.json links them, and starts the connection group on a connection that exists.
    let (_, _, apps) = s.get("/apps.json").await;
    let groups = apps[0]["groups"].as_array().unwrap();
    let group = |param: &str| groups.iter().find(|g| g["paramName"] == param).unwrap().clone();
    assert_eq!(
        group("table")["widgetIds"],
        json!(["dc_schema_tables", "dc_schema_columns", "dc_table_browser"])
    );
    assert_eq!(group("connection")["widgetIds"].as_array().unwrap().len(), 6);
    assert_eq!(group("connection")["defaultValue"], "shop");
    let browse = &apps[0]["tabs"]["browse"]["layout"];
    for item in browse.as_array().unwrap() {
        let names: Vec<&str> =
            item["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        assert_eq!(
            names,
            vec![group("connection")["name"].as_str().unwrap(), group("table")["name"].as_str().unwrap()]
        );
    }
}
