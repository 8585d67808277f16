//! Logging: `tracing` to stderr, level from `RUST_LOG` (default `info`),
//! as text for a terminal and journald or as one JSON object per line for
//! log shippers (`PEERPORTAL_LOG_FORMAT`).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // The event's fields at the top level (`message`, `error`,
        // `user_id`, ...), beside `timestamp`, `level`, `target` and the
        // request's span (method and path).
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}
