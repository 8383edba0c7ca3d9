//! Logging: JSON lines (what CloudWatch and an operator's search expect), level from
//! `RUST_LOG` (default info). Tests stay quiet unless `TEST_LOG=1`.
//!
//! `RUST_LOG` takes levels and `target=level` directives (`info`, `warn,shared=debug`),
//! read by `filter::Targets`: span and field filters would need `EnvFilter`, whose
//! regex engine every function linked (results.md, "Dependency steps", step 3).

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter `RUST_LOG` asks for; unset or not understood, everything at info and above.
pub fn filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .and_then(|s| Targets::from_str(s).ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// Installs the JSON subscriber once per process (later calls do nothing).
pub fn init() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_target(false)
        .finish()
        .with(filter(rust_log.as_deref()))
        .try_init();
}

/// For tests: logs only when `TEST_LOG` is set.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn rust_log_sets_the_default_level_and_per_target_levels_and_nonsense_means_info() {
        let f = filter(Some("warn,shared::db=debug"));
        assert!(f.would_enable("shared::db::pool", &Level::DEBUG));
        assert!(!f.would_enable("campaigns", &Level::INFO));
        assert!(f.would_enable("campaigns", &Level::WARN));
        for unset in [None, Some("not a level=at all=")] {
            let f = filter(unset);
            assert!(f.would_enable("campaigns", &Level::INFO));
            assert!(!f.would_enable("campaigns", &Level::DEBUG));
        }
    }
}
