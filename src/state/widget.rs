//! What makes a saved query a dashboard widget: its `{{name}}` parameters, how it is displayed
//! (table, chart view, metric tile), and its refresh interval, row cap and category. Stored
//! beside the query (migration 5) and turned into widgets.json by `custom_backend::saved`.

use crate::error::{Error, Result};
use crate::sql_template::ParameterSpec;
use serde::{Deserialize, Serialize};

/// Chart types of the table widget's AG Grid chart view (`data.table.chartView.chartType`), as
/// the Workspace frontend's `ChartTypeSchema` accepts them (reference/openbb-workspace.md §1.4).
pub const CHART_TYPES: &[&str] = &[
    "column",
    "groupedColumn",
    "stackedColumn",
    "normalizedColumn",
    "bar",
    "groupedBar",
    "stackedBar",
    "normalizedBar",
    "line",
    "scatter",
    "bubble",
    "pie",
    "donut",
    "doughnut",
    "area",
    "stackedArea",
    "normalizedArea",
    "histogram",
    "radarLine",
    "radarArea",
    "nightingale",
    "radialColumn",
    "radialBar",
    "sunburst",
    "rangeBar",
    "rangeArea",
    "boxPlot",
    "treemap",
    "heatmap",
    "waterfall",
];

/// Longest column name or category accepted in a display or setting.
const NAME_MAX: usize = 200;
/// Workspace refetches at most once a second (`refetchInterval` ≥ 1000 ms); a week is plenty.
pub const REFRESH_MAX_SECS: u64 = 7 * 24 * 3600;

/// How a saved query's widget shows its rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Display {
    /// A grid (the default).
    #[default]
    Table,
    /// The grid opened on its chart view: `x` is the category (or time) column, `y` the series.
    Chart { chart_type: String, x: String, y: Vec<String> },
    /// A metric tile from the first row: `value` (and `delta`) name columns; `label` is the
    /// tile's caption (the query's name when absent).
    Metric {
        value: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delta: Option<String>,
    },
}

/// A saved query's widget settings. All optional in requests; `parameters` empty and `display`
/// a table by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WidgetSettings {
    /// The `{{name}}` parameters its SQL uses.
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
    #[serde(default)]
    pub display: Display,
    /// Seconds between Workspace's automatic refreshes; none (the default) refreshes on demand.
    #[serde(default)]
    pub refresh_interval: Option<u64>,
    /// At most this many rows reach the widget (the server's row cap still applies).
    #[serde(default)]
    pub row_limit: Option<u64>,
    /// The widget's category in Workspace's widget library (default "Data Connector").
    #[serde(default)]
    pub category: Option<String>,
}

impl WidgetSettings {
    /// Checks everything but the SQL (`sql_template::validate` checks the parameters against it).
    pub fn check(&self, max_rows: u64) -> Result<()> {
        crate::sql_template::check_specs(&self.parameters)?;
        let name = |what: &str, text: &str| -> Result<()> {
            if text.trim().is_empty() || text.chars().count() > NAME_MAX {
                return Err(Error::BadRequest(format!("display: {what} needs 1-{NAME_MAX} characters")));
            }
            Ok(())
        };
        match &self.display {
            Display::Table => {}
            Display::Chart { chart_type, x, y } => {
                if !CHART_TYPES.contains(&chart_type.as_str()) {
                    return Err(Error::BadRequest(format!(
                        "display: chart_type {chart_type:?} is not one Workspace draws; use one of {}",
                        CHART_TYPES.join(", ")
                    )));
                }
                name("x", x)?;
                if y.is_empty() || y.len() > 20 {
                    return Err(Error::BadRequest("display: y lists 1-20 columns".into()));
                }
                for column in y {
                    name("y", column)?;
                }
            }
            Display::Metric { value, label, delta } => {
                name("value", value)?;
                if let Some(label) = label {
                    name("label", label)?;
                }
                if let Some(delta) = delta {
                    name("delta", delta)?;
                }
            }
        }
        if let Some(secs) = self.refresh_interval {
            if !(1..=REFRESH_MAX_SECS).contains(&secs) {
                return Err(Error::BadRequest(format!("refresh_interval is 1-{REFRESH_MAX_SECS} seconds")));
            }
        }
        if let Some(rows) = self.row_limit {
            if !(1..=max_rows).contains(&rows) {
                return Err(Error::BadRequest(format!("row_limit is 1-{max_rows} rows")));
            }
        }
        if let Some(category) = &self.category {
            if category.trim().is_empty() || category.chars().count() > NAME_MAX {
                return Err(Error::BadRequest(format!("category needs 1-{NAME_MAX} characters")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn displays_read_and_check() {
        let chart: Display =
            serde_json::from_value(json!({"type": "chart", "chart_type": "line", "x": "date", "y": ["close"]})).unwrap();
        assert!(matches!(chart, Display::Chart { .. }));
        assert!(serde_json::from_value::<Display>(json!({"type": "chart", "x": "d", "y": []})).is_err());
        assert!(serde_json::from_value::<Display>(json!({"type": "pie"})).is_err());
        let settings = WidgetSettings {
            display: Display::Chart { chart_type: "sparkle".into(), x: "d".into(), y: vec!["c".into()] },
            ..Default::default()
        };
        assert!(settings.check(1000).unwrap_err().to_string().contains("sparkle"));
        let settings = WidgetSettings { row_limit: Some(0), ..Default::default() };
        assert!(settings.check(1000).is_err());
        assert_eq!(serde_json::to_value(Display::default()).unwrap(), json!({"type": "table"}));
    }
}
