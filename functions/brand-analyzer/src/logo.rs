//! The logo: the first candidate that is really an image, in order of trust (JSON-LD
//! `Organization.logo`, a header image or inline SVG that links home or is named logo,
//! `apple-touch-icon`, the largest manifest icon, `rel=icon`, `og:image` last). Its
//! colours count as palette evidence: PNG pixels are decoded within size limits and
//! clustered in Lab (k-means); SVG is read as text for its fills, never rasterised.

use kmeans_colors::{Sort, get_kmeans};
use palette::Lab;
use serde::Serialize;
use url::Url;

use crate::brand_colours::Observation;
use crate::colour::{self, Rgb};
use crate::crawl::Crawler;
use crate::page::LogoSource;

pub const IMAGE_LIMIT: usize = 2 << 20;
const MANIFEST_LIMIT: usize = 256 << 10;
/// Decoded pixels are capped too: a 2 MiB PNG can claim to be 50,000 × 50,000.
const MAX_PIXELS: u64 = 4096 * 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Ico,
    Svg,
}

impl Kind {
    pub fn ext(self) -> &'static str {
        match self {
            Kind::Png => "png",
            Kind::Jpeg => "jpg",
            Kind::Gif => "gif",
            Kind::Webp => "webp",
            Kind::Ico => "ico",
            Kind::Svg => "svg",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Ico => "image/x-icon",
            Kind::Svg => "image/svg+xml",
        }
    }
}

/// A logo found and read.
#[derive(Debug)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub kind: Kind,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub source: &'static str,
    pub from: Option<String>,
}

/// What the bytes are, from their first bytes (never from what the server claims).
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(Kind::Jpeg)
    } else if head.starts_with(b"GIF8") {
        Some(Kind::Gif)
    } else if head.len() > 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if head.starts_with(&[0, 0, 1, 0]) {
        Some(Kind::Ico)
    } else if String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("<svg")
    {
        Some(Kind::Svg)
    } else {
        None
    }
}

fn rank(s: &LogoSource) -> u8 {
    match s {
        LogoSource::JsonLd(_) => 0,
        LogoSource::HeaderImage(_) => 1,
        LogoSource::InlineSvg(_) => 2,
        LogoSource::AppleTouchIcon(_) => 3,
        LogoSource::Manifest(_) => 4,
        LogoSource::Icon(_) => 5,
        LogoSource::OgImage(_) => 6,
    }
}

fn svg_size(svg: &str) -> (Option<u32>, Option<u32>) {
    let attr = |name: &str| {
        let at = svg.find(&format!("{name}=\""))? + name.len() + 2;
        let end = svg[at..].find('"')?;
        svg[at..at + end]
            .trim_end_matches("px")
            .parse::<f32>()
            .ok()
            .map(|v| v as u32)
    };
    (attr("width"), attr("height"))
}

fn read(bytes: Vec<u8>, source: &'static str, from: Option<String>) -> Option<Logo> {
    let kind = sniff(&bytes)?;
    let (width, height) = match kind {
        Kind::Svg => svg_size(&String::from_utf8_lossy(&bytes)),
        _ => imagesize::blob_size(&bytes)
            .map(|s| (Some(s.width as u32), Some(s.height as u32)))
            .unwrap_or((None, None)),
    };
    // Smaller than 24 px on its long edge is a spacer or a tracking pixel, not a logo.
    if width.max(height).is_some_and(|long| long < 24) {
        return None;
    }
    Some(Logo {
        bytes,
        kind,
        width,
        height,
        source,
        from,
    })
}

impl Logo {
    /// `icon` (about square), `wordmark` (over 2:1) or `other`, as brand kits name them.
    pub fn shape(&self) -> &'static str {
        match (self.width, self.height) {
            (Some(w), Some(h)) if h > 0 && (w as f32 / h as f32 - 1.0).abs() <= 0.25 => "icon",
            (Some(w), Some(h)) if h > 0 && w as f32 / h as f32 > 2.0 => "wordmark",
            _ => "other",
        }
    }
}

/// The largest icon a web app manifest lists.
async fn manifest_icon(c: &mut Crawler<'_>, manifest: &Url) -> Option<Url> {
    let f = c.fetch(manifest, MANIFEST_LIMIT, "manifest").await.ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&f.body).ok()?;
    doc["icons"]
        .as_array()?
        .iter()
        .filter_map(|i| {
            let size = i["sizes"]
                .as_str()
                .and_then(|s| {
                    s.split_whitespace()
                        .filter_map(|s| s.split(['x', 'X']).next()?.parse::<u32>().ok())
                        .max()
                })
                .unwrap_or(0);
            Some((size, f.url.join(i["src"].as_str()?).ok()?))
        })
        .max_by_key(|(size, _)| *size)
        .map(|(_, u)| u)
}

/// The first candidate that is an image.
pub async fn find(c: &mut Crawler<'_>, mut candidates: Vec<LogoSource>) -> Option<Logo> {
    candidates.sort_by_key(rank);
    for candidate in candidates {
        let (url, source) = match candidate {
            LogoSource::InlineSvg(svg) => {
                if let Some(logo) = read(svg.into_bytes(), "inline svg", None) {
                    return Some(logo);
                }
                continue;
            }
            LogoSource::JsonLd(u) => (u, "json-ld organization logo"),
            LogoSource::HeaderImage(u) => (u, "header image"),
            LogoSource::AppleTouchIcon(u) => (u, "apple-touch-icon"),
            LogoSource::Manifest(m) => match manifest_icon(c, &m).await {
                Some(u) => (u, "manifest icon"),
                None => continue,
            },
            LogoSource::Icon(u) => (u, "icon"),
            LogoSource::OgImage(u) => (u, "og:image"),
        };
        if let Ok(f) = c.fetch(&url, IMAGE_LIMIT, "logo").await
            && let Some(logo) = read(f.body, source, Some(url.to_string()))
        {
            return Some(logo);
        }
    }
    None
}

/// The logo's colours as palette evidence, each weighted by its share of the logo.
pub fn colours(logo: &Logo) -> Vec<Observation> {
    let shares: Vec<(Rgb, f32)> = match logo.kind {
        Kind::Png => png_clusters(&logo.bytes).unwrap_or_default(),
        Kind::Svg => svg_fills(&String::from_utf8_lossy(&logo.bytes)),
        _ => Vec::new(),
    };
    shares
        .into_iter()
        .filter(|(_, share)| *share >= 0.05)
        .map(|(c, share)| Observation {
            colour: c,
            weight: 8.0 * share,
            evidence: format!(
                "logo {} {:.0}%",
                if logo.kind == Kind::Svg {
                    "fills"
                } else {
                    "pixels"
                },
                share * 100.0
            ),
            hint: None,
            status: false,
        })
        .collect()
}

/// Opaque pixels (sampled to at most ~20,000) clustered into five colours in Lab.
pub fn png_clusters(bytes: &[u8]) -> Option<Vec<(Rgb, f32)>> {
    let mut decoder =
        png::Decoder::new_with_limits(std::io::Cursor::new(bytes), png::Limits { bytes: 64 << 20 });
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let info = reader.info();
    if u64::from(info.width) * u64::from(info.height) > MAX_PIXELS {
        return None;
    }
    let mut buf = vec![0; reader.output_buffer_size()?];
    let frame = reader.next_frame(&mut buf).ok()?;
    let channels = frame.color_type.samples();
    let data = &buf[..frame.buffer_size()];
    let step = (data.len() / channels / 20_000).max(1);
    let labs: Vec<Lab> = data
        .chunks_exact(channels)
        .step_by(step)
        .filter_map(|px| {
            let (rgb, alpha) = match channels {
                1 => ([px[0]; 3], 255),
                2 => ([px[0]; 3], px[1]),
                3 => ([px[0], px[1], px[2]], 255),
                _ => ([px[0], px[1], px[2]], px[3]),
            };
            (alpha >= 128).then(|| Rgb(rgb[0], rgb[1], rgb[2]).lab())
        })
        .collect();
    if labs.is_empty() {
        return None;
    }
    let k = get_kmeans(5.min(labs.len()), 20, 1.0, false, &labs, 7);
    let sorted = Lab::sort_indexed_colors(&k.centroids, &k.indices);
    Some(
        sorted
            .into_iter()
            .map(|c| (Rgb::from_lab(c.centroid), c.percentage))
            .collect(),
    )
}

/// Colours an SVG fills and strokes with, by how often each is used.
pub fn svg_fills(svg: &str) -> Vec<(Rgb, f32)> {
    let mut counts: Vec<(Rgb, f32)> = Vec::new();
    let lower = svg.to_ascii_lowercase();
    for key in [
        "fill=\"",
        "stroke=\"",
        "fill:",
        "stroke:",
        "stop-color=\"",
        "stop-color:",
    ] {
        for (i, _) in lower.match_indices(key) {
            let rest = &lower[i + key.len()..];
            let end = rest.find(['"', ';', '}']).unwrap_or(rest.len());
            if let Some(c) = colour::parse(&rest[..end]) {
                match counts.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, n)) => *n += 1.0,
                    None => counts.push((c, 1.0)),
                }
            }
        }
    }
    let total: f32 = counts.iter().map(|(_, n)| n).sum();
    counts
        .iter()
        .map(|(c, n)| (*c, n / total.max(1.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        let pixel = &pixel;
        let data: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| pixel(x, y)))
            .collect();
        writer.write_image_data(&data).unwrap();
        drop(writer);
        out
    }

    #[test]
    fn a_logos_pixels_cluster_into_its_colours_and_transparency_is_ignored() {
        // Left 3/4 brand red, right 1/4 navy, top rows transparent.
        let bytes = png_of(64, 64, |x, y| match (x, y) {
            (_, 0..16) => [0, 0, 0, 0],
            (0..48, _) => [0xc0, 0x39, 0x2b, 255],
            _ => [0x1b, 0x26, 0x4f, 255],
        });
        let logo = read(bytes, "header image", None).unwrap();
        assert_eq!(
            (logo.kind, logo.width, logo.height),
            (Kind::Png, Some(64), Some(64))
        );
        let obs = colours(&logo);
        let red = obs
            .iter()
            .find(|o| o.colour.distance(Rgb(0xc0, 0x39, 0x2b)) < 2.0)
            .unwrap();
        assert!((red.weight - 6.0).abs() < 0.5, "{red:?}");
        assert!(
            obs.iter()
                .any(|o| o.colour.distance(Rgb(0x1b, 0x26, 0x4f)) < 2.0)
        );
    }

    #[test]
    fn a_tiny_image_is_not_a_logo_and_shapes_are_named() {
        let pixel = png_of(16, 16, |_, _| [0xc0, 0x39, 0x2b, 255]);
        assert!(
            read(pixel, "icon", None).is_none(),
            "16 px is a favicon at best"
        );
        let wide = read(png_of(240, 60, |_, _| [0, 0, 0, 255]), "header image", None).unwrap();
        assert_eq!(wide.shape(), "wordmark");
        let square = read(
            png_of(180, 180, |_, _| [0, 0, 0, 255]),
            "apple-touch-icon",
            None,
        )
        .unwrap();
        assert_eq!(square.shape(), "icon");
    }

    #[test]
    fn svg_logos_are_read_for_their_fills_and_never_rasterised() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect fill="#0A7E8C"/><path style="fill:#0a7e8c"/><text fill="#F4D35E">Smile</text></svg>"##;
        let logo = read(svg.as_bytes().to_vec(), "inline svg", None).unwrap();
        assert_eq!(
            (logo.kind, logo.width, logo.height),
            (Kind::Svg, Some(120), Some(40))
        );
        let fills = svg_fills(svg);
        assert_eq!(fills[0].0, Rgb(0x0a, 0x7e, 0x8c));
        assert!((fills[0].1 - 2.0 / 3.0).abs() < 0.01);
        assert_eq!(sniff(b"<html>"), None);
    }
}
