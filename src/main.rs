//! The Latchkey server binary.

use std::process::ExitCode;

use latchkey::config::Config;
use latchkey::server;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("latchkey: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    // cargo-leptos passes the site layout (output name, site root, reload port) through the
    // environment and at build time.
    let leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(err) => {
            eprintln!("latchkey: Leptos settings: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match server::build_state(config, leptos_options).await {
        Ok(state) => server::serve(state).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("latchkey: {err}");
            ExitCode::FAILURE
        }
    }
}
