//! How the process logs: `tracing` events as text for people, or one JSON object per line
//! for log pipelines (`log-format`). `RUST_LOG` filters either way (default `info`).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the process's subscriber. Called once, after the configuration is read; a
/// second call (tests starting several apps) keeps the first.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = match format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).try_init(),
        // Fields at the top level (`{"timestamp","level","target","message",...}`): what
        // Loki, Elasticsearch and CloudWatch parse without a pipeline of their own.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .try_init(),
    };
    if installed.is_err() {
        tracing::debug!("a log subscriber was already installed");
    }
}
