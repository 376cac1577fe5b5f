#![warn(unreachable_pub)]

use clap::Parser;
use data_connector::cli::{self, Cli, Command};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_env("DATA_CONNECTOR_LOG")
        .unwrap_or_else(|_| EnvFilter::new("data_connector=info,tower_http=warn"));
    // Colour codes only for a person at a terminal, not in log files or the journal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => cli::serve(args).await,
        Command::Query(args) => cli::query(args).await,
        Command::Mcp(args) => cli::mcp(args).await,
        Command::Tls(command) => cli::tls(command),
        Command::Queries(command) => cli::queries(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
