//! From figures to files: charts, the document, its HTML and its PDF. Pure and
//! synchronous, so the worker runs it off the async threads and the benchmark runs it
//! alone.

use std::collections::HashMap;

use serde_json::Value;
use shared::repo::report_figures::Figures;
use uuid::Uuid;

use crate::thumbnail::Thumb;
use crate::{charts, content, html, pdf};

/// A report's files and headline figures.
pub struct Rendered {
    pub html: String,
    pub pdf: Vec<u8>,
    /// The charts as PNG, in the order the report shows them.
    pub charts: Vec<Vec<u8>>,
    pub summary: Value,
}

pub fn report(
    figures: &Figures,
    weekly: bool,
    thumbs: &HashMap<Uuid, Thumb>,
) -> Result<Rendered, String> {
    let drawn = vec![
        charts::spend_and_results(&figures.days, &figures.currency)?,
        charts::ctr(&figures.days)?,
    ];
    let pngs = drawn.iter().map(|c| c.png.clone()).collect();
    let doc = content::document(figures, weekly, drawn, thumbs);
    Ok(Rendered {
        html: html::render(&doc),
        pdf: pdf::render(&doc)?,
        charts: pngs,
        summary: content::summary(figures),
    })
}
