//! `--demo`: a realistic, deterministic market-data SQLite database (60 companies, five years of
//! daily prices, quarterly financials), created once in the data dir and registered as the
//! read-only connection `demo` with saved queries that make apps.json's "Market data" dashboard
//! (charts, metric tiles and pickers linked by ticker and dates).

use crate::app::App;
use crate::error::{Error, Result};
use crate::state::{NewQuery, WidgetSettings};
use connectors::EngineKind;
use rusqlite::{params, Connection};
use serde_json::json;
use std::path::Path;

pub const CONNECTION: &str = "demo";
const FILE: &str = "demo.db";
const SEED: u64 = 20_240_501;
const FIRST_YEAR: i32 = 2020;
const YEARS: i32 = 5;

/// (ticker, name, sector, industry, exchange, first close, shares outstanding in millions)
type Company = (&'static str, &'static str, &'static str, &'static str, &'static str, f64, f64);

const COMPANIES: &[Company] = &[
    ("AAPL", "Apple Inc.", "Technology", "Consumer Electronics", "NASDAQ", 75.0, 15_500.0),
    ("MSFT", "Microsoft Corporation", "Technology", "Software", "NASDAQ", 160.0, 7_430.0),
    ("NVDA", "NVIDIA Corporation", "Technology", "Semiconductors", "NASDAQ", 6.0, 24_600.0),
    ("GOOGL", "Alphabet Inc.", "Communication Services", "Internet Content", "NASDAQ", 68.0, 12_400.0),
    ("AMZN", "Amazon.com, Inc.", "Consumer Cyclical", "Internet Retail", "NASDAQ", 95.0, 10_400.0),
    ("META", "Meta Platforms, Inc.", "Communication Services", "Internet Content", "NASDAQ", 209.0, 2_540.0),
    ("TSLA", "Tesla, Inc.", "Consumer Cyclical", "Auto Manufacturers", "NASDAQ", 28.0, 3_180.0),
    ("AVGO", "Broadcom Inc.", "Technology", "Semiconductors", "NASDAQ", 32.0, 4_650.0),
    ("ORCL", "Oracle Corporation", "Technology", "Software", "NYSE", 53.0, 2_750.0),
    ("ADBE", "Adobe Inc.", "Technology", "Software", "NASDAQ", 334.0, 450.0),
    ("CRM", "Salesforce, Inc.", "Technology", "Software", "NYSE", 166.0, 970.0),
    ("AMD", "Advanced Micro Devices, Inc.", "Technology", "Semiconductors", "NASDAQ", 49.0, 1_620.0),
    ("INTC", "Intel Corporation", "Technology", "Semiconductors", "NASDAQ", 60.0, 4_270.0),
    ("CSCO", "Cisco Systems, Inc.", "Technology", "Communication Equipment", "NASDAQ", 48.0, 4_050.0),
    ("IBM", "International Business Machines", "Technology", "IT Services", "NYSE", 129.0, 915.0),
    ("QCOM", "QUALCOMM Incorporated", "Technology", "Semiconductors", "NASDAQ", 88.0, 1_115.0),
    ("TXN", "Texas Instruments Incorporated", "Technology", "Semiconductors", "NASDAQ", 129.0, 910.0),
    ("JPM", "JPMorgan Chase & Co.", "Financial Services", "Banks", "NYSE", 141.0, 2_870.0),
    ("BAC", "Bank of America Corporation", "Financial Services", "Banks", "NYSE", 35.0, 7_900.0),
    ("WFC", "Wells Fargo & Company", "Financial Services", "Banks", "NYSE", 54.0, 3_600.0),
    ("GS", "The Goldman Sachs Group, Inc.", "Financial Services", "Capital Markets", "NYSE", 236.0, 330.0),
    ("MS", "Morgan Stanley", "Financial Services", "Capital Markets", "NYSE", 52.0, 1_620.0),
    ("V", "Visa Inc.", "Financial Services", "Credit Services", "NYSE", 191.0, 2_000.0),
    ("MA", "Mastercard Incorporated", "Financial Services", "Credit Services", "NYSE", 303.0, 930.0),
    ("AXP", "American Express Company", "Financial Services", "Credit Services", "NYSE", 125.0, 720.0),
    ("BRK.B", "Berkshire Hathaway Inc.", "Financial Services", "Insurance", "NYSE", 228.0, 2_170.0),
    ("BLK", "BlackRock, Inc.", "Financial Services", "Asset Management", "NYSE", 507.0, 150.0),
    ("JNJ", "Johnson & Johnson", "Healthcare", "Drug Manufacturers", "NYSE", 146.0, 2_400.0),
    ("UNH", "UnitedHealth Group Incorporated", "Healthcare", "Healthcare Plans", "NYSE", 292.0, 920.0),
    ("LLY", "Eli Lilly and Company", "Healthcare", "Drug Manufacturers", "NYSE", 132.0, 950.0),
    ("PFE", "Pfizer Inc.", "Healthcare", "Drug Manufacturers", "NYSE", 37.0, 5_650.0),
    ("MRK", "Merck & Co., Inc.", "Healthcare", "Drug Manufacturers", "NYSE", 91.0, 2_530.0),
    ("ABBV", "AbbVie Inc.", "Healthcare", "Drug Manufacturers", "NYSE", 89.0, 1_770.0),
    ("TMO", "Thermo Fisher Scientific Inc.", "Healthcare", "Diagnostics & Research", "NYSE", 326.0, 390.0),
    ("ABT", "Abbott Laboratories", "Healthcare", "Medical Devices", "NYSE", 87.0, 1_740.0),
    ("XOM", "Exxon Mobil Corporation", "Energy", "Oil & Gas Integrated", "NYSE", 70.0, 4_000.0),
    ("CVX", "Chevron Corporation", "Energy", "Oil & Gas Integrated", "NYSE", 121.0, 1_860.0),
    ("COP", "ConocoPhillips", "Energy", "Oil & Gas E&P", "NYSE", 66.0, 1_180.0),
    ("SLB", "Schlumberger Limited", "Energy", "Oil & Gas Equipment", "NYSE", 41.0, 1_420.0),
    ("WMT", "Walmart Inc.", "Consumer Defensive", "Discount Stores", "NYSE", 39.0, 8_050.0),
    (
        "PG",
        "The Procter & Gamble Company",
        "Consumer Defensive",
        "Household Products",
        "NYSE",
        124.0,
        2_360.0,
    ),
    ("KO", "The Coca-Cola Company", "Consumer Defensive", "Beverages", "NYSE", 55.0, 4_310.0),
    ("PEP", "PepsiCo, Inc.", "Consumer Defensive", "Beverages", "NASDAQ", 137.0, 1_375.0),
    ("COST", "Costco Wholesale Corporation", "Consumer Defensive", "Discount Stores", "NASDAQ", 294.0, 443.0),
    ("MCD", "McDonald's Corporation", "Consumer Cyclical", "Restaurants", "NYSE", 198.0, 720.0),
    ("NKE", "NIKE, Inc.", "Consumer Cyclical", "Footwear & Accessories", "NYSE", 102.0, 1_510.0),
    ("HD", "The Home Depot, Inc.", "Consumer Cyclical", "Home Improvement Retail", "NYSE", 219.0, 990.0),
    ("SBUX", "Starbucks Corporation", "Consumer Cyclical", "Restaurants", "NASDAQ", 88.0, 1_140.0),
    ("DIS", "The Walt Disney Company", "Communication Services", "Entertainment", "NYSE", 145.0, 1_830.0),
    ("NFLX", "Netflix, Inc.", "Communication Services", "Entertainment", "NASDAQ", 330.0, 430.0),
    ("T", "AT&T Inc.", "Communication Services", "Telecom Services", "NYSE", 29.0, 7_150.0),
    (
        "VZ",
        "Verizon Communications Inc.",
        "Communication Services",
        "Telecom Services",
        "NYSE",
        61.0,
        4_200.0,
    ),
    ("BA", "The Boeing Company", "Industrials", "Aerospace & Defense", "NYSE", 331.0, 600.0),
    ("CAT", "Caterpillar Inc.", "Industrials", "Farm & Heavy Machinery", "NYSE", 148.0, 500.0),
    (
        "GE",
        "General Electric Company",
        "Industrials",
        "Specialty Industrial Machinery",
        "NYSE",
        90.0,
        1_090.0,
    ),
    ("HON", "Honeywell International Inc.", "Industrials", "Conglomerates", "NASDAQ", 180.0, 650.0),
    (
        "UPS",
        "United Parcel Service, Inc.",
        "Industrials",
        "Integrated Freight & Logistics",
        "NYSE",
        117.0,
        860.0,
    ),
    ("LIN", "Linde plc", "Basic Materials", "Specialty Chemicals", "NASDAQ", 213.0, 480.0),
    ("NEE", "NextEra Energy, Inc.", "Utilities", "Utilities - Regulated Electric", "NYSE", 61.0, 2_050.0),
    ("AMT", "American Tower Corporation", "Real Estate", "REIT - Specialty", "NYSE", 230.0, 466.0),
];

/// Creates the demo database if it is missing and registers it (and its saved queries) once.
pub async fn ensure(app: &App) -> Result<()> {
    let path = app.config.data_dir.join(FILE);
    if !path.exists() {
        let target = path.clone();
        tokio::task::spawn_blocking(move || generate(&target))
            .await
            .map_err(|e| Error::Internal(format!("demo generator failed: {e}")))??;
        tracing::info!("created the demo database at {}", path.display());
    }
    if app.state.get_connection(CONNECTION)?.is_none() {
        let input =
            json!({ "name": CONNECTION, "kind": EngineKind::Sqlite.name(), "path": path, "read_only": true });
        let serde_json::Value::Object(input) = input else {
            return Err(Error::Internal("demo connection is not an object".into()));
        };
        crate::connections::create(app, input).await?;
        for (name, description, sql, widget) in saved_queries() {
            let widget: WidgetSettings = serde_json::from_value(widget)
                .map_err(|e| Error::Internal(format!("demo query {name}: {e}")))?;
            app.state.insert_query(&NewQuery {
                connection: CONNECTION.into(),
                name: name.into(),
                sql: sql.into(),
                description: description.into(),
                params: Vec::new(),
                widget,
            })?;
        }
    }
    Ok(())
}

/// Names of the saved queries that make up apps.json's "Market data" app.
pub const COMPANIES_METRIC: &str = "Companies";
pub const LAST_DAY_METRIC: &str = "Last trading day";
pub const VOLUME_METRIC: &str = "Total volume";
pub const PRICE_CHART: &str = "Price history";
pub const SECTOR_CHART: &str = "Sector market caps";
pub const FINANCIALS: &str = "Quarterly financials";

/// What the SQL editor of the "Market data" app starts with.
pub const STARTER_SQL: &str = "-- The demo database: companies, prices (daily) and financials (quarterly).\n\
     SELECT c.sector, count(*) AS companies, round(avg(p.close), 2) AS avg_close\n\
     FROM companies c JOIN prices p ON p.ticker = c.ticker\n\
     WHERE p.date = (SELECT max(date) FROM prices)\n\
     GROUP BY c.sector ORDER BY companies DESC";

/// The ticker picker the price chart and the financials share (linked by name in apps.json).
fn ticker_param() -> serde_json::Value {
    json!({"name": "ticker", "type": "text", "label": "Ticker", "default": "AAPL",
           "description": "The company's ticker symbol; pick one of the demo's 60 companies",
           "options_sql": "SELECT ticker, ticker || ' - ' || name AS label FROM companies ORDER BY ticker"})
}

fn date_params() -> [serde_json::Value; 2] {
    [
        json!({"name": "start_date", "type": "date", "label": "From", "default": "2024-01-01",
               "description": "First trading day included"}),
        json!({"name": "end_date", "type": "date", "label": "To", "default": "2024-12-31",
               "description": "Last trading day included"}),
    ]
}

/// (name, description, SQL, widget settings): the demo's saved queries.
fn saved_queries() -> Vec<(&'static str, &'static str, &'static str, serde_json::Value)> {
    let [start, end] = date_params();
    vec![
        (
            PRICE_CHART,
            "Daily close and adjusted close of one company over a date range, as a line chart",
            "SELECT date, close, adj_close FROM prices \
             WHERE ticker = {{ticker}} AND date BETWEEN {{start_date}} AND {{end_date}} ORDER BY date",
            json!({"parameters": [ticker_param(), start, end],
                   "display": {"type": "chart", "chart_type": "line", "x": "date", "y": ["close", "adj_close"]},
                   "row_limit": 5000}),
        ),
        (
            SECTOR_CHART,
            "Total market capitalization of the companies in each sector, as a bar chart",
            "SELECT sector, sum(market_cap) AS market_cap, count(*) AS companies \
             FROM companies GROUP BY sector ORDER BY market_cap DESC",
            json!({"display": {"type": "chart", "chart_type": "bar", "x": "sector", "y": ["market_cap"]}}),
        ),
        (
            COMPANIES_METRIC,
            "How many companies the demo database holds",
            "SELECT count(*) AS companies FROM companies",
            json!({"display": {"type": "metric", "value": "companies", "label": "Companies"}}),
        ),
        (
            LAST_DAY_METRIC,
            "The most recent trading day in the price history",
            "SELECT max(date) AS last_day FROM prices",
            json!({"display": {"type": "metric", "value": "last_day", "label": "Last trading day"}}),
        ),
        (
            VOLUME_METRIC,
            "Shares traded across all companies between the two dates",
            "SELECT sum(volume) AS volume FROM prices WHERE date BETWEEN {{start_date}} AND {{end_date}}",
            json!({"parameters": date_params(),
                   "display": {"type": "metric", "value": "volume", "label": "Total volume"}}),
        ),
        (
            FINANCIALS,
            "Quarterly revenue, gross profit, operating and net income and EPS of one company",
            "SELECT fiscal_year, fiscal_quarter, period_end, revenue, gross_profit, operating_income, \
             net_income, eps FROM financials WHERE ticker = {{ticker}} ORDER BY period_end DESC",
            json!({"parameters": [ticker_param()]}),
        ),
        (
            "Latest close by company",
            "Last trading day's close, volume and market cap for every company",
            "SELECT c.ticker, c.name, c.sector, p.date, p.close, p.volume, c.market_cap \
             FROM companies c JOIN prices p ON p.ticker = c.ticker \
             WHERE p.date = (SELECT max(date) FROM prices) ORDER BY c.market_cap DESC",
            json!({}),
        ),
        (
            "Quarterly revenue and EPS",
            "Revenue, net income and EPS of every company by quarter",
            "SELECT ticker, fiscal_year, fiscal_quarter, period_end, revenue, net_income, eps \
             FROM financials ORDER BY ticker, period_end",
            json!({}),
        ),
    ]
}

/// Writes the database to a temporary file first so a crash never leaves half a demo behind.
fn generate(path: &Path) -> Result<()> {
    let partial = path.with_extension("db.partial");
    let _ = std::fs::remove_file(&partial);
    let mut conn = Connection::open(&partial).map_err(|e| Error::Internal(format!("demo database: {e}")))?;
    fill(&mut conn).map_err(|e| Error::Internal(format!("demo database: {e}")))?;
    drop(conn);
    std::fs::rename(&partial, path).map_err(|e| Error::Internal(format!("demo database: {e}")))
}

fn fill(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = OFF;
         CREATE TABLE companies (
            ticker TEXT PRIMARY KEY, name TEXT NOT NULL, sector TEXT NOT NULL, industry TEXT NOT NULL,
            exchange TEXT NOT NULL, market_cap INTEGER NOT NULL, shares_outstanding INTEGER NOT NULL);
         CREATE TABLE prices (
            ticker TEXT NOT NULL REFERENCES companies (ticker), date DATE NOT NULL,
            open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
            adj_close REAL NOT NULL, volume INTEGER NOT NULL, PRIMARY KEY (ticker, date)) WITHOUT ROWID;
         CREATE TABLE financials (
            ticker TEXT NOT NULL REFERENCES companies (ticker), fiscal_year INTEGER NOT NULL,
            fiscal_quarter INTEGER NOT NULL, period_end DATE NOT NULL, revenue INTEGER NOT NULL,
            gross_profit INTEGER NOT NULL, operating_income INTEGER NOT NULL, net_income INTEGER NOT NULL,
            eps REAL NOT NULL, PRIMARY KEY (ticker, fiscal_year, fiscal_quarter));",
    )?;
    let days = trading_days();
    let mut rng = Rng(SEED);
    let tx = conn.transaction()?;
    {
        let mut company = tx.prepare("INSERT INTO companies VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        let mut market_cap = tx.prepare("UPDATE companies SET market_cap = ?2 WHERE ticker = ?1")?;
        let mut price = tx.prepare("INSERT INTO prices VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        let mut financial =
            tx.prepare("INSERT INTO financials VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
        for &(ticker, name, sector, industry, exchange, first_close, shares_m) in COMPANIES {
            let drift = 0.0004 + rng.normal() * 0.0003;
            let volatility = 0.012 + rng.uniform() * 0.018;
            let dividend_yield: f64 = if sector == "Technology" { 0.004 } else { 0.02 };
            let shares = (shares_m * 1e6) as i64;
            // Market cap is known only after the last close; the row must exist before its prices.
            company.execute(params![ticker, name, sector, industry, exchange, 0, shares])?;
            let mut close = first_close;
            let base_volume = 2.0e9 / first_close.max(5.0) * (0.5 + rng.uniform());
            for (i, day) in days.iter().enumerate() {
                let open = round2(close * (1.0 + rng.normal() * volatility * 0.3));
                close = round2((close * (drift + rng.normal() * volatility).exp()).max(0.5));
                let high = round2(open.max(close) * (1.0 + rng.uniform() * volatility * 0.8));
                let low = round2(open.min(close) * (1.0 - rng.uniform() * volatility * 0.8));
                let years_left = (days.len() - i) as f64 / 252.0;
                let adj_close = round2(close / (1.0 + dividend_yield).powf(years_left));
                let volume = (base_volume * (0.6 + rng.uniform() * 0.8)) as i64;
                price.execute(params![ticker, day, open, high, low, close, adj_close, volume])?;
            }
            market_cap.execute(params![ticker, (close * shares as f64) as i64])?;
            let mut revenue = first_close * shares as f64 * (0.02 + rng.uniform() * 0.05);
            let margin = 0.05 + rng.uniform() * 0.25;
            for year in FIRST_YEAR..FIRST_YEAR + YEARS {
                for quarter in 1..=4 {
                    revenue *= 1.0 + 0.015 + rng.normal() * 0.04;
                    let gross = revenue * (0.35 + margin);
                    let operating = revenue * margin * (1.0 + rng.normal() * 0.1);
                    let net = operating * 0.79;
                    let period_end = quarter_end(year, quarter);
                    financial.execute(params![
                        ticker,
                        year,
                        quarter,
                        period_end,
                        revenue as i64,
                        gross as i64,
                        operating as i64,
                        net as i64,
                        (net / shares as f64 * 100.0).round() / 100.0
                    ])?;
                }
            }
        }
    }
    tx.commit()?;
    conn.execute_batch(
        "CREATE INDEX prices_date ON prices (date);
         CREATE INDEX companies_sector ON companies (sector);
         ANALYZE;",
    )
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn quarter_end(year: i32, quarter: i32) -> String {
    match quarter {
        1 => format!("{year}-03-31"),
        2 => format!("{year}-06-30"),
        3 => format!("{year}-09-30"),
        _ => format!("{year}-12-31"),
    }
}

/// Weekdays of the demo years, without the fixed-date market holidays (New Year, Independence
/// Day, Christmas): close enough to a trading calendar for charts.
fn trading_days() -> Vec<String> {
    let mut days = Vec::new();
    let Ok(mut date) = time::Date::from_calendar_date(FIRST_YEAR, time::Month::January, 1) else {
        return days;
    };
    while date.year() < FIRST_YEAR + YEARS {
        let weekday = date.weekday();
        let holiday = matches!(
            (date.month(), date.day()),
            (time::Month::January, 1) | (time::Month::July, 4) | (time::Month::December, 25)
        );
        if !matches!(weekday, time::Weekday::Saturday | time::Weekday::Sunday) && !holiday {
            days.push(format!("{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day()));
        }
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    days
}

/// splitmix64: small, fast and the same on every platform, so the demo data is too.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(f64::MIN_POSITIVE), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_realistic() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        generate(&a).unwrap();
        generate(&b).unwrap();
        let digest = |p: &Path| {
            let conn = Connection::open(p).unwrap();
            conn.query_row(
                "SELECT count(*), sum(close), (SELECT count(*) FROM companies), (SELECT count(*) FROM financials) FROM prices",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
            )
            .unwrap()
        };
        let (rows, sum, companies, financials) = digest(&a);
        assert_eq!(digest(&b), (rows, sum, companies, financials));
        assert!(companies >= 50, "{companies} companies");
        assert!(rows >= companies * 5 * 250, "{rows} price rows");
        assert_eq!(financials, companies * 20);
    }
}
