//! Logging: JSON lines (what CloudWatch and an operator's search expect), level from
//! `RUST_LOG` (default info). Tests stay quiet unless `TEST_LOG=1`.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once per process (later calls do nothing).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_target(false)
        .try_init();
}

/// For tests: logs only when `TEST_LOG` is set.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init();
    }
}
