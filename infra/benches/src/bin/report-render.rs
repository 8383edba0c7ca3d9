//! Report rendering at its documented size: 10 campaigns × 90 days (with breakdowns,
//! 24 creatives and their thumbnails), rendered to charts, HTML and PDF as the report
//! worker does, beside a baseline measured in the same run: the same figures written as
//! a CSV (the cheapest export an owner could be given). Prints JSON: median and worst
//! times of `runs` renders, output sizes, and the process's peak RSS before and after
//! rendering (the Lambda has 512 MB and 120 s).
//!   report-render [runs]      (REPORT_SAMPLE_DIR=dir also writes the last report there)

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use reports::render;
use reports::thumbnail::{self, Thumb};
use rust_decimal::Decimal;
use serde_json::json;
use shared::repo::report_figures::{
    BreakdownLine, CampaignLine, CreativeLine, DayLine, Figures, Goals, OptimizationLine, Sums,
};
use uuid::Uuid;

const CAMPAIGNS: usize = 10;
const DAYS: i64 = 90;
const CREATIVES: usize = 24;

/// A deterministic day of delivery that drifts with `i` and `d`.
fn sums(i: i64, d: i64) -> Sums {
    let wave = (d * 7 + i * 13) % 29;
    Sums {
        impressions: 8_000 + wave * 300 + i * 50,
        clicks: 120 + wave * 4 + i,
        spend: Decimal::new(250_000 + wave * 5_000 + i * 1_000, 2),
        conversions: 4 + (wave % 6),
        conversion_value: Decimal::new(1_200_000 + wave * 20_000, 2),
    }
}

fn total(days: impl Iterator<Item = Sums>) -> Sums {
    let mut t = Sums::default();
    for s in days {
        t.add(&s);
    }
    t
}

fn figures() -> Figures {
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let campaigns = (0..CAMPAIGNS as i64)
        .map(|i| CampaignLine {
            id: Uuid::from_u128(i as u128 + 1),
            name: format!("Campaign {i}: festive offer"),
            status: "active".into(),
            purpose: "sales".into(),
            currency: "INR".into(),
            goals: Goals {
                target_cpa: Some(Decimal::new(60_000, 2)),
                target_roas: None,
                max_daily_budget: None,
            },
            sums: total((0..DAYS).map(|d| sums(i, d))),
        })
        .collect();
    let days = (0..DAYS)
        .map(|d| DayLine {
            date: start + Duration::days(d),
            sums: total((0..CAMPAIGNS as i64).map(|i| sums(i, d))),
        })
        .collect();
    let creatives = (0..CREATIVES as i64)
        .map(|c| CreativeLine {
            asset_id: Uuid::from_u128(1000 + c as u128),
            campaign_name: format!("Campaign {}", c % CAMPAIGNS as i64),
            asset_type: "image".into(),
            filename: Some(format!("creative-{c}.png")),
            file_url: None,
            content_type: Some("image/png".into()),
            sums: total((0..DAYS).map(|d| sums(c, d))),
        })
        .collect();
    let mut breakdowns = Vec::new();
    for (dimension, values) in [
        (
            "platform",
            &["facebook", "instagram", "audience_network", "messenger"][..],
        ),
        (
            "placement",
            &["feed", "story", "reels", "search", "right_hand_column"][..],
        ),
        (
            "age",
            &["18-24", "25-34", "35-44", "45-54", "55-64", "65+"][..],
        ),
        ("gender", &["female", "male", "unknown"][..]),
    ] {
        for (n, v) in values.iter().enumerate() {
            breakdowns.push(BreakdownLine {
                dimension,
                value: (*v).into(),
                sums: total((0..DAYS).map(|d| sums(n as i64, d))),
            });
        }
    }
    Figures {
        business_name: Some("Café Aroma".into()),
        currency: "INR".into(),
        period: (start, start + Duration::days(DAYS - 1)),
        campaigns,
        days,
        creatives,
        breakdowns,
        optimizations: (0..20)
            .map(|n| OptimizationLine {
                campaign_name: format!("Campaign {}", n % CAMPAIGNS),
                optimization_type: Some("budget_increase".into()),
                trigger_condition: Some("roas_above_4x_3_days".into()),
                success: Some(true),
                impact_description: Some("cost per purchase fell from ₹412 to ₹305".into()),
                optimized_at: chrono::Utc::now(),
            })
            .collect(),
        credits_used: 187,
    }
}

/// Six 1080 × 1080 PNG creatives shrunk to thumbnails, as the worker does.
fn thumbs(f: &Figures) -> HashMap<Uuid, Thumb> {
    let (best, worst, _) = reports::content::rank(&f.creatives);
    best.into_iter()
        .chain(worst)
        .enumerate()
        .filter_map(|(n, c)| {
            let colour = [40 * n as u8, 120, 200 - 20 * n as u8];
            let pixels = colour.repeat(1080 * 1080);
            let png = reports::charts::encode_png(&pixels, 1080, 1080).ok()?;
            Some((c.asset_id, thumbnail::of(&png)?))
        })
        .collect()
}

fn csv(f: &Figures) -> String {
    let mut out = String::from("date,spend,impressions,clicks,conversions\n");
    for d in &f.days {
        let s = &d.sums;
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            d.date, s.spend, s.impressions, s.clicks, s.conversions
        );
    }
    for c in &f.campaigns {
        let s = &c.sums;
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            c.name, s.spend, s.impressions, s.clicks, s.conversions
        );
    }
    out
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn median_and_max(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[ms.len() / 2], *ms.last().unwrap())
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let f = figures();
    let thumbs = thumbs(&f);
    let rss_before = peak_rss_mb();
    let mut baseline = Vec::new();
    let mut csv_bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        csv_bytes = std::hint::black_box(csv(&f)).len();
        baseline.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut times = Vec::new();
    let mut sizes = (0, 0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        let r = render::report(&f, true, &thumbs).expect("render");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        sizes = (
            r.html.len(),
            r.pdf.len(),
            r.charts.iter().map(Vec::len).sum(),
        );
        if let Ok(dir) = std::env::var("REPORT_SAMPLE_DIR") {
            std::fs::write(format!("{dir}/report.html"), &r.html).expect("sample html");
            std::fs::write(format!("{dir}/report.pdf"), &r.pdf).expect("sample pdf");
        }
    }
    let (median, worst) = median_and_max(times);
    let (base_median, _) = median_and_max(baseline);
    println!(
        "{}",
        json!({
            "campaigns": CAMPAIGNS, "days": DAYS, "creatives": CREATIVES, "thumbnails": thumbs.len(),
            "runs": runs,
            "render_ms_median": median, "render_ms_max": worst,
            "csv_ms_median": base_median, "ratio": median / base_median.max(1e-6),
            "html_bytes": sizes.0, "pdf_bytes": sizes.1, "chart_png_bytes": sizes.2, "csv_bytes": csv_bytes,
            "peak_rss_mb_before": rss_before, "peak_rss_mb_after": peak_rss_mb(),
        })
    );
}
