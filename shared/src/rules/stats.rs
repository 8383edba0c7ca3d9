//! Small-sample statistics the optimizer decides with, so it does not act on noise:
//! the Poisson upper bound behind "pause only when spend > m(k) × target CPA", and the
//! probability that one click rate is below another from their Beta posteriors.

/// P(X ≤ k) for X ~ Poisson(λ).
fn poisson_cdf(k: u64, lambda: f64) -> f64 {
    let mut term = (-lambda).exp();
    let mut sum = term;
    for i in 1..=k {
        term *= lambda / i as f64;
        sum += term;
    }
    sum
}

/// The one-sided upper bound of a Poisson mean after `k` events, at `confidence`:
/// the λ with P(X ≤ k | λ) = 1 − confidence. At 95 % it is 3.00, 4.74, 6.30, 7.75 for
/// k = 0…3: a campaign whose spend bought fewer than that many target-CPAs' worth of
/// conversions is, with 95 % confidence, really above its target.
pub fn poisson_upper(k: u64, confidence: f64) -> f64 {
    let alpha = 1.0 - confidence;
    let (mut lo, mut hi) = (0.0, 10.0 + 4.0 * k as f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if poisson_cdf(k, mid) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Φ, the standard normal CDF (Abramowitz–Stegun 7.1.26 through erf, error < 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Mean and variance of Beta(1 + successes, 1 + failures).
fn beta(successes: u64, trials: u64) -> (f64, f64) {
    let a = 1.0 + successes as f64;
    let b = 1.0 + trials.saturating_sub(successes) as f64;
    let n = a + b;
    (a / n, a * b / (n * n * (n + 1.0)))
}

/// The posterior probability that the recent rate is below the earlier one, each rate
/// Beta(1 + successes, 1 + failures) (normal approximation, fine from a few hundred
/// trials, which the optimizer requires anyway).
pub fn probability_lower(recent: (u64, u64), earlier: (u64, u64)) -> f64 {
    let (m1, v1) = beta(recent.0, recent.1);
    let (m0, v0) = beta(earlier.0, earlier.1);
    let sd = (v0 + v1).sqrt();
    if sd == 0.0 {
        return 0.5;
    }
    normal_cdf((m0 - m1) / sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poisson_bound_matches_the_published_table() {
        for (k, m) in [
            (0, 3.00),
            (1, 4.74),
            (2, 6.30),
            (3, 7.75),
            (5, 10.51),
            (10, 16.96),
        ] {
            assert!(
                (poisson_upper(k, 0.95) - m).abs() < 0.01,
                "k={k}: {}",
                poisson_upper(k, 0.95)
            );
        }
    }

    #[test]
    fn a_real_fall_in_ctr_is_likely_and_noise_is_not() {
        // 2.0 % → 1.2 % over 10,000 impressions each: a real fall.
        assert!(probability_lower((120, 10_000), (200, 10_000)) > 0.99);
        // 2.0 % → 1.7 % over 1,000 each: a 15 % drop that is mostly noise.
        let p = probability_lower((17, 1_000), (20, 1_000));
        assert!(p > 0.5 && p < 0.95, "{p}");
        assert!(probability_lower((200, 10_000), (120, 10_000)) < 0.01);
    }

    #[test]
    fn the_normal_cdf_is_accurate_where_decisions_are_made() {
        assert!((normal_cdf(1.644_853_6) - 0.95).abs() < 1e-6);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-9);
        assert!((normal_cdf(-1.959_964) - 0.025).abs() < 1e-6);
    }
}
