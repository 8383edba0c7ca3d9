//! The report's trend charts, drawn server-side into an RGB bitmap with `plotters` (text
//! in the embedded DejaVu Sans, so a Lambda needs no system fonts) and encoded as PNG:
//! spend by day as bars with results as a line on a second axis, and CTR by day.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;
use rust_decimal::prelude::ToPrimitive;
use shared::repo::report_figures::DayLine;

use crate::fonts;
use crate::numbers::Grouping;

pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 380;

/// One drawn chart.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    /// What the chart shows, in words (the HTML's alt text).
    pub description: String,
    /// RGB, 8 bits per channel, `WIDTH` × `HEIGHT`.
    pub rgb: Vec<u8>,
    pub png: Vec<u8>,
}

impl Chart {
    pub fn width(&self) -> u32 {
        WIDTH
    }

    pub fn height(&self) -> u32 {
        HEIGHT
    }
}

const SPEND: RGBColor = RGBColor(79, 70, 229);
const RESULTS: RGBColor = RGBColor(234, 88, 12);
const CTR: RGBColor = RGBColor(13, 148, 136);
const GRID: RGBColor = RGBColor(229, 231, 235);

fn register_fonts() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        for (style, bytes) in [
            (FontStyle::Normal, fonts::REGULAR),
            (FontStyle::Bold, fonts::BOLD),
        ] {
            if plotters::style::register_font("sans-serif", style, bytes).is_err() {
                tracing::error!("the embedded chart font could not be read");
            }
        }
    });
}

type DrawError = String;

fn drawn(e: impl std::fmt::Display) -> DrawError {
    format!("chart: {e}")
}

/// "07 Jan" under every `step`-th bar.
fn day_label(days: &[DayLine], i: f64) -> String {
    let at = i.round();
    if at < 0.0 || (at - i).abs() > 0.01 {
        return String::new();
    }
    days.get(at as usize)
        .map(|d| d.date.format("%d %b").to_string())
        .unwrap_or_default()
}

fn label_count(days: usize) -> usize {
    days.clamp(1, 10)
}

/// Spend (bars, left axis) and results (line, right axis) by day.
pub fn spend_and_results(days: &[DayLine], currency: &str) -> Result<Chart, DrawError> {
    register_fonts();
    let spend: Vec<f64> = days
        .iter()
        .map(|d| d.sums.spend.to_f64().unwrap_or(0.0))
        .collect();
    let results: Vec<f64> = days.iter().map(|d| d.sums.conversions as f64).collect();
    let n = days.len().max(1) as f64;
    let top_spend = spend.iter().cloned().fold(0.0, f64::max).max(1.0) * 1.15;
    let top_results = results.iter().cloned().fold(0.0, f64::max).max(1.0) * 1.15;
    let grouping = Grouping::for_currency(currency);
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawn)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Spend ({currency}) and results by day"),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(78)
            .right_y_label_area_size(56)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..top_spend)
            .map_err(drawn)?
            .set_secondary_coord(-0.5..n - 0.5, 0.0..top_results);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(label_count(days.len()))
            .x_label_formatter(&|x| day_label(days, *x))
            .y_label_formatter(&|y| grouping.count(y.round() as i64))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(drawn)?;
        chart
            .configure_secondary_axes()
            .y_labels(6)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(drawn)?;
        let width = 0.35;
        chart
            .draw_series(spend.iter().enumerate().map(|(i, v)| {
                let x = i as f64;
                Rectangle::new([(x - width, 0.0), (x + width, *v)], SPEND.filled())
            }))
            .map_err(drawn)?
            .label("Spend")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], SPEND.filled()));
        chart
            .draw_secondary_series(LineSeries::new(
                results.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                RESULTS.stroke_width(3),
            ))
            .map_err(drawn)?
            .label("Results")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RESULTS.stroke_width(3)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(drawn)?;
        root.present().map_err(drawn)?;
    }
    let description = format!(
        "Spend per day in {currency} as bars and results per day as a line, {} days",
        days.len()
    );
    finish("Spend and results by day", description, rgb)
}

/// Click-through rate by day, in percent; days without impressions are left out.
pub fn ctr(days: &[DayLine]) -> Result<Chart, DrawError> {
    register_fonts();
    let points: Vec<(f64, f64)> = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.sums.ctr_percent().map(|c| (i as f64, c)))
        .collect();
    let n = days.len().max(1) as f64;
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(0.5) * 1.2;
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawn)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Click-through rate by day", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)
            .map_err(drawn)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(label_count(days.len()))
            .x_label_formatter(&|x| day_label(days, *x))
            .y_label_formatter(&|y| format!("{y:.2}%"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(drawn)?;
        chart
            .draw_series(LineSeries::new(points.iter().cloned(), CTR.stroke_width(3)))
            .map_err(drawn)?;
        if points.len() <= 45 {
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, CTR.filled())))
                .map_err(drawn)?;
        }
        root.present().map_err(drawn)?;
    }
    let description = format!(
        "Click-through rate per day in percent, {} of {} days with impressions",
        points.len(),
        days.len()
    );
    finish("Click-through rate by day", description, rgb)
}

fn finish(title: &str, description: String, rgb: Vec<u8>) -> Result<Chart, DrawError> {
    let png = encode_png(&rgb, WIDTH, HEIGHT)?;
    Ok(Chart {
        title: title.into(),
        description,
        rgb,
        png,
    })
}

/// RGB8 pixels as a PNG.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, DrawError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header().map_err(drawn)?;
    w.write_image_data(rgb).map_err(drawn)?;
    w.finish().map_err(drawn)?;
    Ok(out)
}
