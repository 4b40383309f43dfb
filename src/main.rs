//! The Latchkey server binary.
//!
//! `latchkey` serves the web app (with the passkey service mounted unless
//! `LATCHKEY_CONNECT_URL` points at a separate one); `latchkey connect-service` serves the
//! passkey service alone; `latchkey account disable|enable EMAIL` changes an account of the
//! builtin identity provider; `latchkey audit verify` checks the audit log's hash chain (see
//! `latchkey::cli`).

use std::process::ExitCode;

use latchkey::config::Config;
use latchkey::server;

const USAGE: &str = "usage: latchkey [connect-service | account disable EMAIL | account enable EMAIL | audit verify]";

/// What the command line asks for.
enum Command {
    App,
    ConnectService,
    SetAccountDisabled { email: String, disabled: bool },
    AuditVerify,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => Command::App,
        ["connect-service"] => Command::ConnectService,
        ["account", action @ ("disable" | "enable"), email] => Command::SetAccountDisabled {
            email: email.to_string(),
            disabled: *action == "disable",
        },
        ["audit", "verify"] => Command::AuditVerify,
        ["-h" | "--help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };

    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("latchkey: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    // After the configuration: it says the format (and the configuration logs nothing).
    latchkey::operations::logging::init(config.operations.log_format);
    let result = match command {
        Command::App => serve_app(config).await,
        Command::ConnectService => {
            latchkey::connect::service::standalone::serve(config, server::shutdown_signal())
                .await
                .map_err(|err| err.to_string())
        }
        Command::SetAccountDisabled { email, disabled } => {
            match latchkey::cli::set_account_disabled(&config, &email, disabled).await {
                Ok(message) => {
                    println!("{message}");
                    Ok(())
                }
                Err(err) => Err(err.to_string()),
            }
        }
        Command::AuditVerify => match latchkey::cli::verify_audit_log(&config).await {
            Ok(message) => {
                println!("{message}");
                Ok(())
            }
            Err(err) => Err(err.to_string()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("latchkey: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_app(config: Config) -> Result<(), String> {
    // cargo-leptos passes the site layout (output name, site root, reload port) through the
    // environment and at build time.
    let mut leptos_options = leptos::config::get_configuration(None)
        .map_err(|err| format!("Leptos settings: {err}"))?
        .leptos_options;
    server::assets::detect_hashing(&mut leptos_options);
    let state = server::build_state(config, leptos_options)
        .await
        .map_err(|err| err.to_string())?;
    server::serve(state).await.map_err(|err| err.to_string())
}
