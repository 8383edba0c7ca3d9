//! Creative thumbnails for the report: a PNG is decoded (bounded) and shrunk to at most
//! `SIDE` pixels a side, transparency laid on white; a JPEG small enough is kept as it is
//! (browsers and PDF readers draw JPEG themselves). Videos and anything else get none.

use crate::charts::encode_png;

/// Longest side of a thumbnail, in pixels.
pub const SIDE: u32 = 160;
/// Largest picture decoded, in pixels.
const MAX_PIXELS: u64 = 40_000_000;
/// Largest JPEG embedded as it is.
pub const MAX_JPEG_BYTES: usize = 600 * 1024;

#[derive(Clone, Debug)]
pub enum Thumb {
    /// Shrunk: RGB8 pixels and the same as PNG.
    Png {
        rgb: Vec<u8>,
        png: Vec<u8>,
        width: u32,
        height: u32,
    },
    /// Kept as it is, with its colour components (1 grey, 3 colour).
    Jpeg {
        bytes: Vec<u8>,
        width: u32,
        height: u32,
        components: u8,
    },
}

impl Thumb {
    pub fn mime(&self) -> &'static str {
        match self {
            Thumb::Png { .. } => "image/png",
            Thumb::Jpeg { .. } => "image/jpeg",
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Thumb::Png { png, .. } => png,
            Thumb::Jpeg { bytes, .. } => bytes,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        match self {
            Thumb::Png { width, height, .. } | Thumb::Jpeg { width, height, .. } => {
                (*width, *height)
            }
        }
    }
}

/// A thumbnail of the picture in `bytes`, judged by its bytes, not its name.
pub fn of(bytes: &[u8]) -> Option<Thumb> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        shrink_png(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        keep_jpeg(bytes)
    } else {
        None
    }
}

fn keep_jpeg(bytes: &[u8]) -> Option<Thumb> {
    if bytes.len() > MAX_JPEG_BYTES {
        return None;
    }
    let size = imagesize::blob_size(bytes).ok()?;
    Some(Thumb::Jpeg {
        bytes: bytes.to_vec(),
        width: u32::try_from(size.width).ok()?,
        height: u32::try_from(size.height).ok()?,
        components: jpeg_components(bytes)?,
    })
}

/// The component count in a JPEG's start-of-frame segment (1 grey, 3 YCbCr; 4 CMYK is
/// refused: it would need its own decode array in a PDF).
fn jpeg_components(bytes: &[u8]) -> Option<u8> {
    let mut i = 2;
    while i + 9 < bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            return match bytes[i + 9] {
                c @ (1 | 3) => Some(c),
                _ => None,
            };
        }
        i += 2 + len;
    }
    None
}

fn shrink_png(bytes: &[u8]) -> Option<Thumb> {
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits { bytes: 160 << 20 },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let (w, h) = (reader.info().width, reader.info().height);
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w == 0 || h == 0 {
        return None;
    }
    let mut buf = vec![0; reader.output_buffer_size()?];
    let frame = reader.next_frame(&mut buf).ok()?;
    let channels = frame.color_type.samples();
    let data = &buf[..frame.buffer_size()];
    let scale = (f64::from(SIDE) / f64::from(w.max(h))).min(1.0);
    let (tw, th) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    let mut rgb = Vec::with_capacity((tw * th * 3) as usize);
    for ty in 0..th {
        for tx in 0..tw {
            rgb.extend(average(
                data,
                (w, h),
                channels,
                area((tx, ty), (tw, th), (w, h)),
            ));
        }
    }
    let png = encode_png(&rgb, tw, th).ok()?;
    Some(Thumb::Png {
        rgb,
        png,
        width: tw,
        height: th,
    })
}

/// The source rectangle (x0, y0, x1, y1) one thumbnail pixel covers.
fn area((tx, ty): (u32, u32), (tw, th): (u32, u32), (w, h): (u32, u32)) -> [u32; 4] {
    let x0 = tx * w / tw;
    let y0 = ty * h / th;
    let x1 = ((tx + 1) * w / tw).max(x0 + 1).min(w);
    let y1 = ((ty + 1) * h / th).max(y0 + 1).min(h);
    [x0, y0, x1, y1]
}

/// The mean colour of a source rectangle (sampled at most 8 × 8), alpha laid on white.
fn average(
    data: &[u8],
    (w, _): (u32, u32),
    channels: usize,
    [x0, y0, x1, y1]: [u32; 4],
) -> [u8; 3] {
    let step_x = ((x1 - x0) / 8).max(1);
    let step_y = ((y1 - y0) / 8).max(1);
    let (mut sum, mut n) = ([0f64; 3], 0f64);
    for y in (y0..y1).step_by(step_y as usize) {
        for x in (x0..x1).step_by(step_x as usize) {
            let at = (y as usize * w as usize + x as usize) * channels;
            let px = &data[at..at + channels];
            let (rgb, alpha) = match channels {
                1 => ([px[0]; 3], 255),
                2 => ([px[0]; 3], px[1]),
                3 => ([px[0], px[1], px[2]], 255),
                _ => ([px[0], px[1], px[2]], px[3]),
            };
            let a = f64::from(alpha) / 255.0;
            for c in 0..3 {
                sum[c] += f64::from(rgb[c]) * a + 255.0 * (1.0 - a);
            }
            n += 1.0;
        }
    }
    sum.map(|s| (s / n.max(1.0)).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32, rgba: [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        writer
            .write_image_data(&rgba.repeat((w * h) as usize))
            .unwrap();
        drop(writer);
        out
    }

    #[test]
    fn a_large_png_shrinks_to_the_thumbnail_side_keeping_its_shape_and_colour() {
        let Some(Thumb::Png {
            width,
            height,
            rgb,
            png,
        }) = of(&png_of(1080, 1350, [200, 30, 60, 255]))
        else {
            panic!("no thumbnail")
        };
        assert_eq!((width, height), (128, 160));
        assert_eq!(&rgb[..3], &[200, 30, 60]);
        let decoded = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        assert_eq!((decoded.info().width, decoded.info().height), (128, 160));
    }

    #[test]
    fn transparency_is_laid_on_white() {
        let Some(Thumb::Png { rgb, .. }) = of(&png_of(10, 10, [0, 0, 0, 0])) else {
            panic!("no thumbnail")
        };
        assert_eq!(&rgb[..3], &[255, 255, 255]);
    }

    #[test]
    fn what_is_not_a_picture_has_no_thumbnail() {
        assert!(of(b"GIF89a....").is_none());
        assert!(of(b"\x89PNG\r\n\x1a\nbroken").is_none());
        assert!(of(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2]).is_none());
    }
}
