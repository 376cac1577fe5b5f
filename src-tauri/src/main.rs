//! Data Connector's desktop app: a Tauri 2 window (`ui/`) around the same server the CLI runs,
//! in-process. The window picks the port, starts and stops the server, manages connections
//! and settings, and shows the query log.

// Release builds on Windows get no console window behind the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
#![warn(unreachable_pub)]

mod commands;
mod desktop;
mod error;
mod settings;
mod tray;

use desktop::Desktop;
use std::sync::Arc;
use tauri::{Manager, RunEvent};

fn main() {
    init_tracing();
    let desktop = Arc::new(Desktop::load());
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(desktop.clone())
        .setup(|app| {
            let desktop = app.state::<Arc<Desktop>>().inner().clone();
            let settings = desktop.settings();
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
            commands::pick_private_key,
        ])
        .build(tauri::generate_context!());
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

/// Logs to stderr; `RUST_LOG` overrides the default of warnings plus our own start/stop lines.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,data_connector_app=info"));
    // Colour codes only help a terminal; in a log file they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}
