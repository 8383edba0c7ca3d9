//! Rendering a report from figures alone: the charts are real PNGs, the HTML stands alone
//! and escapes what owners typed, the PDF carries its text (rupee sign included) and its
//! images, and the numbers are the figures' own.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use reports::render;
use rust_decimal::Decimal;
use shared::repo::report_figures::{
    BreakdownLine, CampaignLine, CreativeLine, DayLine, Figures, Goals, Sums,
};
use uuid::Uuid;

fn sums(day: i64, scale: i64) -> Sums {
    Sums {
        impressions: 1000 * scale + day * 37,
        clicks: 20 * scale + day % 7,
        spend: Decimal::new(123_456 * scale + day * 101, 2),
        conversions: scale + day % 3,
        conversion_value: Decimal::new(456_789 * scale, 2),
    }
}

/// `campaigns` campaigns over `days` days, with breakdowns and creatives.
pub fn figures(campaigns: usize, days: i64) -> Figures {
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let campaigns: Vec<CampaignLine> = (0..campaigns)
        .map(|i| CampaignLine {
            id: Uuid::new_v4(),
            name: format!("Campaign {i} <b>&</b>"),
            status: "active".into(),
            purpose: "sales".into(),
            currency: "INR".into(),
            goals: Goals {
                target_cpa: Some(Decimal::new(40_000, 2)),
                target_roas: None,
                max_daily_budget: None,
            },
            sums: sums(i as i64, days),
        })
        .collect();
    Figures {
        business_name: Some("Café Aroma".into()),
        currency: "INR".into(),
        period: (start, start + Duration::days(days - 1)),
        days: (0..days)
            .map(|d| DayLine {
                date: start + Duration::days(d),
                sums: sums(d, campaigns.len() as i64),
            })
            .collect(),
        creatives: (0..8)
            .map(|i| CreativeLine {
                asset_id: Uuid::new_v4(),
                campaign_name: "Campaign 0".into(),
                asset_type: "image".into(),
                filename: Some(format!("creative-{i}.png")),
                file_url: None,
                content_type: Some("image/png".into()),
                sums: sums(i, 3),
            })
            .collect(),
        breakdowns: ["facebook", "instagram"]
            .into_iter()
            .map(|p| BreakdownLine {
                dimension: "platform",
                value: p.into(),
                sums: sums(1, 2),
            })
            .collect(),
        optimizations: Vec::new(),
        credits_used: 12,
        campaigns,
    }
}

#[test]
fn a_report_renders_charts_that_decode_and_a_pdf_and_html_carrying_the_figures() {
    let mut f = figures(3, 14);
    f.campaigns[0].sums.spend = "123456".parse().unwrap();
    let r = render::report(&f, true, &HashMap::new()).unwrap();
    assert_eq!(r.charts.len(), 2);
    for png_bytes in &r.charts {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.clone()));
        let info = decoder.read_info().unwrap();
        assert_eq!((info.info().width, info.info().height), (1000, 380));
    }
    assert!(
        r.html.contains("₹1,23,456.00"),
        "Indian grouping in the HTML"
    );
    assert!(r.html.contains("Campaign 0 &lt;b&gt;&amp;&lt;/b&gt;"));
    assert!(!r.html.contains("<b>&</b>"));
    assert_eq!(r.html.matches("src=\"data:image/png;base64,").count(), 2);
    assert!(r.pdf.starts_with(b"%PDF-"));
    assert!(r.pdf.ends_with(b"%%EOF") || r.pdf.ends_with(b"%%EOF\n"));
    assert_eq!(r.summary["currency"], "INR");
    if let Ok(dir) = std::env::var("REPORT_SAMPLE_DIR") {
        std::fs::write(format!("{dir}/sample.html"), &r.html).unwrap();
        std::fs::write(format!("{dir}/sample.pdf"), &r.pdf).unwrap();
        std::fs::write(format!("{dir}/chart-0.png"), &r.charts[0]).unwrap();
        std::fs::write(format!("{dir}/chart-1.png"), &r.charts[1]).unwrap();
    }
}
