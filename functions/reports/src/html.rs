//! The report as one self-contained HTML page: styles inline, charts and thumbnails as
//! `data:` images, so the file reads the same offline, attached to an email or opened
//! long after any presigned link expired. Every text is escaped; the page runs no script.

use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::content::{Card, Document, Table};

/// Text safe inside an element or a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn data_uri(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", STANDARD.encode(bytes))
}

const STYLE: &str = "body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#111827;\
max-width:1040px;margin:24px auto;padding:0 16px}h1{margin:0;font-size:26px}h2{margin-top:32px;font-size:19px;\
border-bottom:1px solid #e5e7eb;padding-bottom:6px}.muted{color:#6b7280}.tiles{display:flex;flex-wrap:wrap;gap:12px;\
margin-top:16px}.tile{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:130px}.tile b{display:block;\
font-size:20px}table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e5e7eb;\
padding:6px 8px;text-align:left}td.n,th.n{text-align:right}img.chart{width:100%;height:auto}.cards{display:flex;\
flex-wrap:wrap;gap:12px}.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px;width:300px;display:flex;gap:10px}\
.card img{width:96px;height:auto;object-fit:contain}.card p{margin:2px 0;font-size:13px}";

/// The page.
pub fn render(doc: &Document) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\
         <title>{} – {}</title><style>{STYLE}</style></head><body>",
        escape(&doc.title),
        escape(&doc.business)
    );
    let _ = write!(
        h,
        "<header><p class=\"muted\">{}</p><h1>{}</h1><p class=\"muted\">{}</p></header>",
        escape(&doc.business),
        escape(&doc.title),
        escape(&doc.period)
    );
    h.push_str("<section class=\"tiles\">");
    for (label, value) in &doc.headline {
        let _ = write!(
            h,
            "<div class=\"tile\"><span class=\"muted\">{}</span><b>{}</b></div>",
            escape(label),
            escape(value)
        );
    }
    h.push_str("</section>");
    section(&mut h, "Campaigns", &doc.campaigns);
    h.push_str("<h2>Trend</h2>");
    for chart in &doc.charts {
        let _ = write!(
            h,
            "<figure><img class=\"chart\" src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\"></figure>",
            data_uri("image/png", &chart.png),
            chart.width(),
            chart.height(),
            escape(&chart.description)
        );
    }
    h.push_str("<h2>Creatives</h2>");
    let _ = write!(h, "<p class=\"muted\">{}</p>", escape(&doc.creatives_note));
    cards(&mut h, "Best", &doc.best);
    cards(&mut h, "Worst", &doc.worst);
    for (title, table) in &doc.breakdowns {
        section(&mut h, title, table);
    }
    section(&mut h, "What the optimizer did", &doc.optimizations);
    for note in &doc.notes {
        let _ = write!(h, "<p class=\"muted\">{}</p>", escape(note));
    }
    h.push_str("<footer><p class=\"muted\">Made by Adpilot from Meta's reported figures.</p></footer></body></html>");
    h
}

fn section(h: &mut String, title: &str, t: &Table) {
    let _ = write!(h, "<h2>{}</h2>", escape(title));
    table(h, t);
}

/// A column is numeric when its cells start with a digit, a sign or a currency sign.
fn numeric(t: &Table, col: usize) -> bool {
    !t.rows.is_empty()
        && t.rows.iter().all(|r| {
            r.get(col)
                .and_then(|c| c.chars().next())
                .is_some_and(|c| c.is_ascii_digit() || "₹$€£¥–-".contains(c))
        })
}

fn table(h: &mut String, t: &Table) {
    if t.rows.is_empty() {
        let _ = write!(h, "<p class=\"muted\">{}</p>", escape(&t.empty));
        return;
    }
    let num: Vec<bool> = (0..t.columns.len()).map(|i| numeric(t, i)).collect();
    let class = |i: usize| if num[i] { " class=\"n\"" } else { "" };
    h.push_str("<table><thead><tr>");
    for (i, c) in t.columns.iter().enumerate() {
        let _ = write!(h, "<th{}>{}</th>", class(i), escape(c));
    }
    h.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let _ = write!(h, "<td{}>{}</td>", class(i), escape(c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
}

fn cards(h: &mut String, title: &str, cards: &[Card]) {
    if cards.is_empty() {
        return;
    }
    let _ = write!(h, "<h3>{}</h3><div class=\"cards\">", escape(title));
    for c in cards {
        h.push_str("<div class=\"card\">");
        if let Some(t) = &c.thumb {
            let (w, ht) = t.size();
            let _ = write!(
                h,
                "<img src=\"{}\" width=\"{w}\" height=\"{ht}\" alt=\"{}\">",
                data_uri(t.mime(), t.bytes()),
                escape(&c.title)
            );
        }
        let _ = write!(h, "<div><p><b>{}</b></p>", escape(&c.title));
        for line in &c.lines {
            let _ = write!(h, "<p>{}</p>", escape(line));
        }
        h.push_str("</div></div>");
    }
    h.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_owners_and_providers_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
