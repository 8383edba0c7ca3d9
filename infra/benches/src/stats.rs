//! Latency percentiles and throughput from timed samples.

use std::time::Duration;

use serde_json::{Value, json};

/// p50/p99/mean in milliseconds and requests per second over `elapsed`.
pub fn summary(mut samples: Vec<Duration>, elapsed: Duration) -> Value {
    samples.sort_unstable();
    let n = samples.len().max(1);
    let at = |q: f64| {
        samples
            .get(((n as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    json!({
        "requests": samples.len(),
        "rps": (samples.len() as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "p50_ms": ms(at(0.50)),
        "p99_ms": ms(at(0.99)),
        "mean_ms": ms(samples.iter().sum::<Duration>() / n as u32),
        "latencies_ms": samples.iter().step_by((samples.len() / 2000).max(1)).map(|d| ms(*d)).collect::<Vec<_>>(),
    })
}
