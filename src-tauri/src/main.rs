//! Data Connector's desktop app: a Tauri 2 window (`ui/`) around the same server the CLI runs,
//! in-process. The window picks the port, starts and stops the server, manages connections
//! and settings, and shows the query log.

// Release builds on Windows get no console window behind the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![warn(unreachable_pub)]

mod commands;
mod desktop;
mod error;
mod instance;
mod login;
mod queries;
mod settings;
mod tray;
mod updates;

use desktop::Desktop;
use std::sync::Arc;
use tauri::{Manager, RunEvent};

fn main() {
    let context = tauri::generate_context!();
    if std::env::args().skip(1).any(|arg| arg == "--version" || arg == "-V") {
        print_version(&context.package_info().version.to_string());
        return;
    }
    init_tracing();
    let desktop = Arc::new(Desktop::load());
    let identifier = context.config().identifier.clone();
    let app = tauri::Builder::default()
        // First, so that a second launch exits before it sets anything else up.
        .plugin(instance::plugin(&identifier))
        .plugin(tauri_plugin_dialog::init())
        .plugin(login::plugin())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(desktop.clone())
        .manage(updates::Pending::default())
        .setup(|app| {
            let desktop = app.state::<Arc<Desktop>>().inner().clone();
            let settings = desktop.settings();
            // Launched at login to serve in the background: stay in the tray when there is one.
            if login::launched_at_login() && settings.start_on_open && settings.close_to_tray {
                tray::start_hidden(app.handle());
            }
            if settings.start_on_open {
                tauri::async_runtime::spawn(async move {
                    // A failure shows in the window as the server's status.
                    if let Err(e) = desktop.start(&settings.port.to_string()).await {
                        tracing::warn!("could not start the server on open: {e}");
                    }
                });
            }
            Ok(())
        })
        .on_window_event(tray::on_window_event)
        .invoke_handler(tauri::generate_handler![
            commands::initial_state,
            commands::server_status,
            commands::recommend_port,
            commands::start_server,
            commands::stop_server,
            commands::open_workspace,
            commands::list_connections,
            commands::create_connection,
            commands::update_connection,
            commands::delete_connection,
            commands::test_connection,
            commands::activity,
            commands::get_settings,
            commands::save_settings,
            commands::install_local_ca,
            commands::pick_sqlite_file,
            commands::pick_duckdb_file,
            commands::pick_duckdb_folder,
            commands::pick_private_key,
            commands::start_on_login,
            commands::set_start_on_login,
            commands::check_for_update,
            commands::install_update,
            queries::list_queries,
            queries::save_query,
            queries::delete_query,
            queries::preview_query,
        ])
        .build(context);
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("data-connector-app: cannot open the window: {e}");
            std::process::exit(1);
        }
    };
    app.run(move |_, event| {
        if let RunEvent::Exit = event {
            // Stop accepting requests and let the ones in flight finish before the process goes.
            tauri::async_runtime::block_on(desktop.stop());
        }
    });
}

/// Packaging checks and support requests ask the installed binary which version it is.
#[allow(clippy::print_stdout)]
fn print_version(version: &str) {
    println!("data-connector-app {version}");
}

/// Logs to stderr; `RUST_LOG` overrides the default of warnings plus our own start/stop lines.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,data_connector_app=info"));
    // Colour codes only help a terminal; in a log file they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}
