//! A creative's `performance_score` (0.00–5.00): how its click-through rate (and, once
//! the campaign converts, its conversion rate) compares with its campaign's, each rate
//! shrunk toward the campaign's by a Beta prior worth `PRIOR_IMPRESSIONS` impressions
//! (`PRIOR_CLICKS` clicks), so a few lucky clicks on a small sample cannot crown or bury
//! a creative. The lift `l` (1 = as good as the campaign) maps to `5·l / (1 + l)`: 2.50
//! is average, 3.33 twice as good, 1.67 half. Below `MIN_IMPRESSIONS` there is no score.

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

/// Impressions a creative needs before it is scored at all.
pub const MIN_IMPRESSIONS: i64 = 500;
/// The prior's weight on CTR, in impressions (Beta(p·n, (1−p)·n) around the campaign's p).
pub const PRIOR_IMPRESSIONS: f64 = 1000.0;
/// The prior's weight on conversion rate, in clicks.
pub const PRIOR_CLICKS: f64 = 50.0;

/// Counts of one creative or of its whole campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Impressions.
    pub impressions: i64,
    /// Clicks.
    pub clicks: i64,
    /// Conversions.
    pub conversions: i64,
}

/// The posterior mean of a rate with `hits` of `trials` under a Beta prior centred on
/// `prior_rate` worth `weight` trials.
fn shrunk(hits: i64, trials: i64, prior_rate: f64, weight: f64) -> f64 {
    (hits as f64 + prior_rate * weight) / (trials as f64 + weight)
}

/// The creative's score against its campaign, or None while the sample is too small or
/// the campaign has no clicks to compare with.
pub fn performance_score(creative: Counts, campaign: Counts) -> Option<Decimal> {
    if creative.impressions < MIN_IMPRESSIONS || campaign.impressions <= 0 || campaign.clicks <= 0 {
        return None;
    }
    let ctr = campaign.clicks as f64 / campaign.impressions as f64;
    let mut lift = shrunk(
        creative.clicks,
        creative.impressions,
        ctr,
        PRIOR_IMPRESSIONS,
    ) / ctr;
    if campaign.conversions > 0 {
        let cvr = campaign.conversions as f64 / campaign.clicks as f64;
        lift *= shrunk(creative.conversions, creative.clicks, cvr, PRIOR_CLICKS) / cvr;
    }
    let score = (5.0 * lift / (1.0 + lift)).clamp(0.0, 5.0);
    Decimal::from_f64(score).map(|d| d.round_dp(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(impressions: i64, clicks: i64, conversions: i64) -> Counts {
        Counts {
            impressions,
            clicks,
            conversions,
        }
    }

    fn score(creative: Counts, campaign: Counts) -> f64 {
        performance_score(creative, campaign)
            .unwrap()
            .to_string()
            .parse()
            .unwrap()
    }

    #[test]
    fn a_creative_as_good_as_its_campaign_scores_two_and_a_half() {
        assert_eq!(score(c(10_000, 100, 5), c(20_000, 200, 10)), 2.5);
    }

    #[test]
    fn too_few_impressions_get_no_score_at_all() {
        assert_eq!(performance_score(c(499, 50, 0), c(10_000, 100, 0)), None);
        assert_eq!(performance_score(c(5_000, 0, 0), c(5_000, 0, 0)), None);
    }

    #[test]
    fn a_lucky_small_sample_is_pulled_toward_the_campaign() {
        // 30 clicks on 600 impressions is 5 % against the campaign's 1 %: promising, not proven.
        let small = score(c(600, 30, 0), c(50_000, 500, 0));
        let large = score(c(30_000, 1_500, 0), c(50_000, 500, 0));
        assert!(small > 2.5 && small < large, "{small} vs {large}");
        assert!(large > 4.0, "{large}");
    }

    #[test]
    fn conversions_count_once_the_campaign_converts() {
        let campaign = c(40_000, 400, 20);
        let converts = score(c(20_000, 200, 18), campaign);
        let only_clicks = score(c(20_000, 200, 2), campaign);
        assert!(
            converts > 2.5 && only_clicks < 2.5,
            "{converts} {only_clicks}"
        );
        for s in [converts, only_clicks] {
            assert!((0.0..=5.0).contains(&s));
        }
    }
}
