//! The report as a PDF (A4 landscape), written with `pdf-writer`: DejaVu Sans embedded as
//! a CID font (Identity-H, with a ToUnicode map so text can be searched and copied,
//! rupee sign included), charts and PNG thumbnails as Flate-compressed RGB images, JPEG
//! thumbnails as they are. A small flowing layout: headings, paragraphs wrapped to the
//! width, tables with columns sized to their text, pages added as the content needs.

use std::collections::BTreeMap;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::charts::Chart;
use crate::content::{Card, Document, Table};
use crate::fonts;
use crate::thumbnail::Thumb;

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 36.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// One embedded face and the glyphs the document used from it.
struct Face {
    face: ttf_parser::Face<'static>,
    bytes: &'static [u8],
    resource: &'static [u8],
    base_name: &'static [u8],
    used: BTreeMap<u16, char>,
}

impl Face {
    fn new(
        bytes: &'static [u8],
        resource: &'static [u8],
        base_name: &'static [u8],
    ) -> Result<Self, String> {
        Ok(Self {
            face: ttf_parser::Face::parse(bytes, 0).map_err(|e| format!("font: {e}"))?,
            bytes,
            resource,
            base_name,
            used: BTreeMap::new(),
        })
    }

    fn glyph(&self, c: char) -> (u16, char) {
        match self.face.glyph_index(c) {
            Some(g) => (g.0, c),
            None => (self.face.glyph_index('?').map(|g| g.0).unwrap_or(0), '?'),
        }
    }

    fn scale(&self) -> f32 {
        1000.0 / f32::from(self.face.units_per_em())
    }

    /// Width of `gid` in thousandths of the font size.
    fn advance(&self, gid: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0),
        ) * self.scale()
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c).0))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// The text as big-endian glyph ids, remembering which glyphs were used.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (gid, shown) = self.glyph(c);
            self.used.entry(gid).or_insert(shown);
            out.extend(gid.to_be_bytes());
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

enum Picture {
    Rgb {
        pixels: Vec<u8>,
        w: u32,
        h: u32,
    },
    Jpeg {
        bytes: Vec<u8>,
        w: u32,
        h: u32,
        components: u8,
    },
}

/// Pages being laid out, top to bottom.
struct Layout {
    faces: [Face; 2],
    pages: Vec<(Content, Vec<usize>)>,
    pictures: Vec<Picture>,
    /// Distance from the top of the current page.
    y: f32,
}

impl Layout {
    fn new() -> Result<Self, String> {
        let mut l = Self {
            faces: [
                Face::new(fonts::REGULAR, b"F1", b"DejaVuSans")?,
                Face::new(fonts::BOLD, b"F2", b"DejaVuSans-Bold")?,
            ],
            pages: Vec::new(),
            pictures: Vec::new(),
            y: 0.0,
        };
        l.new_page();
        Ok(l)
    }

    fn face(&self, w: Weight) -> &Face {
        &self.faces[w as usize]
    }

    fn new_page(&mut self) {
        self.pages.push((Content::new(), Vec::new()));
        self.y = MARGIN;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room_for(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN {
            self.new_page();
        }
    }

    fn content(&mut self) -> &mut Content {
        &mut self.pages.last_mut().expect("a page").0
    }

    fn text_at(&mut self, x: f32, baseline: f32, w: Weight, size: f32, text: &str, grey: bool) {
        let encoded = self.faces[w as usize].encode(text);
        let resource = self.faces[w as usize].resource;
        let c = self.content();
        c.begin_text();
        if grey {
            c.set_fill_rgb(0.42, 0.45, 0.5);
        } else {
            c.set_fill_rgb(0.07, 0.09, 0.15);
        }
        c.set_font(Name(resource), size);
        c.next_line(x, PAGE_H - baseline);
        c.show(Str(&encoded));
        c.end_text();
    }

    fn rule(&mut self, y: f32) {
        let c = self.content();
        c.set_stroke_rgb(0.9, 0.91, 0.92);
        c.set_line_width(0.6);
        c.move_to(MARGIN, PAGE_H - y);
        c.line_to(PAGE_W - MARGIN, PAGE_H - y);
        c.stroke();
    }

    /// Cuts `text` to `max` points wide, ending with an ellipsis when cut.
    fn fit(&self, text: &str, w: Weight, size: f32, max: f32) -> String {
        let face = self.face(w);
        if face.width(text, size) <= max {
            return text.to_owned();
        }
        let mut out = String::new();
        for c in text.chars() {
            if face.width(&format!("{out}{c}…"), size) > max {
                break;
            }
            out.push(c);
        }
        format!("{}…", out.trim_end())
    }

    /// Words of `text` in lines at most `max` points wide.
    fn wrap(&self, text: &str, w: Weight, size: f32, max: f32) -> Vec<String> {
        let face = self.face(w);
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) > max && !line.is_empty() {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
            .into_iter()
            .map(|l| self.fit(&l, w, size, max))
            .collect()
    }

    fn paragraph(&mut self, text: &str, size: f32, w: Weight, grey: bool) {
        for line in self.wrap(text, w, size, CONTENT_W) {
            self.room_for(size * 1.5);
            self.y += size * 1.3;
            self.text_at(MARGIN, self.y, w, size, &line, grey);
        }
        self.y += size * 0.4;
    }

    /// A section title, kept on one page with the first `following` points after it.
    fn heading(&mut self, text: &str, following: f32) {
        self.room_for(44.0 + following);
        self.y += 14.0;
        self.paragraph(text, 14.0, Weight::Bold, false);
        self.rule(self.y);
        self.y += 6.0;
    }

    fn picture(&mut self, p: Picture, at: (f32, f32), size: (f32, f32)) {
        self.pictures.push(p);
        let index = self.pictures.len() - 1;
        let name = format!("Im{index}");
        let page = self.pages.last_mut().expect("a page");
        page.1.push(index);
        let c = &mut page.0;
        c.save_state();
        c.transform([size.0, 0.0, 0.0, size.1, at.0, PAGE_H - at.1 - size.1]);
        c.x_object(Name(name.as_bytes()));
        c.restore_state();
    }

    fn chart_size(chart: &Chart) -> (f32, f32) {
        let w = CONTENT_W * 0.75;
        (w, w * chart.height() as f32 / chart.width() as f32)
    }

    fn chart(&mut self, chart: &Chart) {
        let (w, h) = Self::chart_size(chart);
        self.room_for(h + 8.0);
        let at = (MARGIN, self.y);
        self.picture(
            Picture::Rgb {
                pixels: chart.rgb.clone(),
                w: chart.width(),
                h: chart.height(),
            },
            at,
            (w, h),
        );
        self.y += h + 8.0;
    }

    fn table(&mut self, t: &Table) {
        if t.rows.is_empty() {
            self.paragraph(&t.empty, 9.0, Weight::Regular, true);
            return;
        }
        let size = if t.columns.len() > 7 { 7.5 } else { 8.5 };
        let widths = self.column_widths(t, size);
        let row_h = size * 1.8;
        self.room_for(row_h * 3.0);
        self.row(&t.columns, &widths, size, Weight::Bold);
        for row in &t.rows {
            if self.y + row_h > PAGE_H - MARGIN {
                self.new_page();
                self.row(&t.columns, &widths, size, Weight::Bold);
            }
            self.row(row, &widths, size, Weight::Regular);
        }
        self.y += 6.0;
    }

    /// Each column as wide as its widest cell, shrunk in proportion to fit the page.
    fn column_widths(&self, t: &Table, size: f32) -> Vec<f32> {
        let pad = 8.0;
        let mut widths: Vec<f32> = t
            .columns
            .iter()
            .map(|c| self.face(Weight::Bold).width(c, size) + pad)
            .collect();
        for row in &t.rows {
            for (i, cell) in row.iter().enumerate().take(widths.len()) {
                let w = (self.face(Weight::Regular).width(cell, size) + pad).min(260.0);
                widths[i] = widths[i].max(w);
            }
        }
        let total: f32 = widths.iter().sum();
        if total > CONTENT_W {
            widths.iter_mut().for_each(|w| *w *= CONTENT_W / total);
        }
        widths
    }

    fn row(&mut self, cells: &[String], widths: &[f32], size: f32, w: Weight) {
        let row_h = size * 1.8;
        self.y += row_h;
        let mut x = MARGIN;
        for (cell, width) in cells.iter().zip(widths) {
            let text = self.fit(cell, w, size, width - 6.0);
            self.text_at(x, self.y - size * 0.5, w, size, &text, false);
            x += width;
        }
        self.rule(self.y + 1.5);
    }

    fn cards(&mut self, title: &str, cards: &[Card]) {
        if cards.is_empty() {
            return;
        }
        self.room_for(120.0);
        self.paragraph(title, 11.0, Weight::Bold, false);
        let (card_w, card_h, thumb) = (CONTENT_W / 3.0, 96.0, 80.0);
        for chunk in cards.chunks(3) {
            self.room_for(card_h);
            let top = self.y;
            for (i, card) in chunk.iter().enumerate() {
                let x = MARGIN + i as f32 * card_w;
                let mut text_x = x;
                if let Some(t) = &card.thumb {
                    let (w, h) = t.size();
                    let s = thumb / w.max(h) as f32;
                    self.picture(picture_of(t), (x, top), (w as f32 * s, h as f32 * s));
                    text_x = x + thumb + 8.0;
                }
                let max = card_w - (text_x - x) - 10.0;
                let title = self.fit(&card.title, Weight::Bold, 9.0, max);
                self.text_at(text_x, top + 10.0, Weight::Bold, 9.0, &title, false);
                for (n, line) in card.lines.iter().enumerate() {
                    let line = self.fit(line, Weight::Regular, 8.0, max);
                    self.text_at(
                        text_x,
                        top + 24.0 + n as f32 * 12.0,
                        Weight::Regular,
                        8.0,
                        &line,
                        n == 0,
                    );
                }
            }
            self.y = top + card_h;
        }
    }
}

fn picture_of(t: &Thumb) -> Picture {
    match t {
        Thumb::Png {
            rgb, width, height, ..
        } => Picture::Rgb {
            pixels: rgb.clone(),
            w: *width,
            h: *height,
        },
        Thumb::Jpeg {
            bytes,
            width,
            height,
            components,
        } => Picture::Jpeg {
            bytes: bytes.clone(),
            w: *width,
            h: *height,
            components: *components,
        },
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = ZlibEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// Lays the document out.
fn lay_out(doc: &Document) -> Result<Layout, String> {
    let mut l = Layout::new()?;
    l.paragraph(&doc.business, 10.0, Weight::Regular, true);
    l.paragraph(&doc.title, 22.0, Weight::Bold, false);
    l.paragraph(&doc.period, 10.0, Weight::Regular, true);
    l.y += 6.0;
    let tile_w = CONTENT_W / doc.headline.len().max(1) as f32;
    let top = l.y;
    for (i, (label, value)) in doc.headline.iter().enumerate() {
        let x = MARGIN + i as f32 * tile_w;
        l.text_at(x, top + 10.0, Weight::Regular, 9.0, label, true);
        let value = l.fit(value, Weight::Bold, 15.0, tile_w - 8.0);
        l.text_at(x, top + 30.0, Weight::Bold, 15.0, &value, false);
    }
    l.y = top + 40.0;
    l.heading("Campaigns", 40.0);
    l.table(&doc.campaigns);
    l.heading(
        "Trend",
        doc.charts
            .first()
            .map(|c| Layout::chart_size(c).1)
            .unwrap_or(0.0),
    );
    for chart in &doc.charts {
        l.chart(chart);
    }
    l.heading("Creatives", 120.0);
    l.paragraph(&doc.creatives_note, 9.0, Weight::Regular, true);
    l.cards("Best", &doc.best);
    l.cards("Worst", &doc.worst);
    for (title, table) in &doc.breakdowns {
        l.heading(title, 40.0);
        l.table(table);
    }
    l.heading("What the optimizer did", 40.0);
    l.table(&doc.optimizations);
    for note in &doc.notes {
        l.paragraph(note, 9.0, Weight::Regular, true);
    }
    Ok(l)
}

/// The PDF's bytes.
pub fn render(doc: &Document) -> Result<Vec<u8>, String> {
    let layout = lay_out(doc)?;
    let mut ids = Ids(0);
    let mut pdf = Pdf::new();
    let (catalog, tree) = (ids.next(), ids.next());
    pdf.catalog(catalog).pages(tree);
    let fonts: Vec<Ref> = layout
        .faces
        .iter()
        .map(|f| write_font(&mut pdf, &mut ids, f))
        .collect();
    let pictures: Vec<Ref> = layout
        .pictures
        .iter()
        .map(|p| write_picture(&mut pdf, &mut ids, p))
        .collect();
    let mut kids = Vec::new();
    for (content, used) in layout.pages {
        let (page_id, content_id) = (ids.next(), ids.next());
        kids.push(page_id);
        let data = deflate(&content.finish());
        pdf.stream(content_id, &data).filter(Filter::FlateDecode);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        let mut f = resources.fonts();
        for (face, id) in layout.faces.iter().zip(&fonts) {
            f.pair(Name(face.resource), *id);
        }
        f.finish();
        let mut x = resources.x_objects();
        for index in used {
            x.pair(Name(format!("Im{index}").as_bytes()), pictures[index]);
        }
        x.finish();
        resources.finish();
        page.finish();
    }
    pdf.pages(tree).count(kids.len() as i32).kids(kids);
    Ok(pdf.finish())
}

struct Ids(i32);

impl Ids {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

fn write_font(pdf: &mut Pdf, ids: &mut Ids, f: &Face) -> Ref {
    let (type0, cid, descriptor, file, cmap) =
        (ids.next(), ids.next(), ids.next(), ids.next(), ids.next());
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(f.base_name))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(Name(f.base_name))
        .system_info(info)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = c.widths();
    for gid in f.used.keys() {
        widths.consecutive(*gid, [f.advance(*gid)]);
    }
    widths.finish();
    c.finish();
    let s = f.scale();
    let bbox = f.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(Name(f.base_name))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * s,
            f32::from(bbox.y_min) * s,
            f32::from(bbox.x_max) * s,
            f32::from(bbox.y_max) * s,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(f.face.ascender()) * s)
        .descent(f32::from(f.face.descender()) * s)
        .cap_height(f32::from(f.face.capital_height().unwrap_or(f.face.ascender())) * s)
        .stem_v(80.0)
        .font_file2(file);
    let data = deflate(f.bytes);
    pdf.stream(file, &data)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), f.bytes.len() as i32);
    let mut map = UnicodeCmap::new(Name(b"Adpilot-UTF16"), info);
    for (gid, c) in &f.used {
        map.pair(*gid, *c);
    }
    pdf.cmap(cmap, &map.finish());
    type0
}

fn write_picture(pdf: &mut Pdf, ids: &mut Ids, p: &Picture) -> Ref {
    let id = ids.next();
    match p {
        Picture::Rgb { pixels, w, h } => {
            let data = deflate(pixels);
            let mut img = pdf.image_xobject(id, &data);
            img.filter(Filter::FlateDecode);
            img.width(*w as i32).height(*h as i32);
            img.color_space().device_rgb();
            img.bits_per_component(8);
        }
        Picture::Jpeg {
            bytes,
            w,
            h,
            components,
        } => {
            let mut img = pdf.image_xobject(id, bytes);
            img.filter(Filter::DctDecode);
            img.width(*w as i32).height(*h as i32);
            if *components == 1 {
                img.color_space().device_gray();
            } else {
                img.color_space().device_rgb();
            }
            img.bits_per_component(8);
        }
    }
    id
}
