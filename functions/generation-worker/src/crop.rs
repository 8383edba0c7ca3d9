//! Fitting generated pictures to an ad format exactly. Gemini offers 1:1, 3:4, 9:16 and
//! 16:9 among others but not 4:5, and its 16:9 is 1344×768 (1.75): the nearest native
//! ratio is requested and the PNG is centre-cropped to the exact ratio.

use std::io::Cursor;

use shared::domain::asset::Format;

/// The aspect ratio to ask the image model for when `format` is wanted.
pub fn native_ratio(format: Format) -> &'static str {
    match format {
        Format::Square => "1:1",
        Format::Portrait => "3:4",
        Format::Landscape => "16:9",
        Format::Vertical => "9:16",
    }
}

/// The largest `w`×`h` inside `width`×`height` with exactly the format's ratio.
pub fn exact_size(width: u32, height: u32, format: Format) -> (u32, u32) {
    let (rw, rh) = match format {
        Format::Square => (1, 1),
        Format::Portrait => (4, 5),
        Format::Landscape => (16, 9),
        Format::Vertical => (9, 16),
    };
    let units = (width / rw).min(height / rh);
    (units * rw, units * rh)
}

/// A PNG centre-cropped to `w`×`h`, re-encoded (8-bit, same colour type).
pub fn crop_png(png_bytes: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut decoder = png::Decoder::new(Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("unreadable PNG: {e}"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("the PNG is too large to decode")?;
    let mut pixels = vec![0; size];
    let frame = reader
        .next_frame(&mut pixels)
        .map_err(|e| format!("unreadable PNG: {e}"))?;
    if w > frame.width || h > frame.height || w == 0 || h == 0 {
        return Err(format!(
            "cannot crop {}x{} to {w}x{h}",
            frame.width, frame.height
        ));
    }
    let bpp = frame.color_type.samples();
    let (left, top) = ((frame.width - w) / 2, (frame.height - h) / 2);
    let mut out = Vec::with_capacity((w * h) as usize * bpp);
    for y in top..top + h {
        let row = y as usize * frame.line_size;
        out.extend_from_slice(&pixels[row + left as usize * bpp..row + (left + w) as usize * bpp]);
    }
    let mut encoded = Vec::new();
    let mut encoder = png::Encoder::new(&mut encoded, w, h);
    encoder.set_color(frame.color_type);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&out).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        let mut writer = e.write_header().unwrap();
        let data: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn exact_sizes_fit_inside_what_the_model_made() {
        assert_eq!(exact_size(896, 1152, Format::Portrait), (896, 1120));
        assert_eq!(exact_size(1344, 768, Format::Landscape), (1344, 756));
        assert_eq!(exact_size(768, 1344, Format::Vertical), (756, 1344));
        assert_eq!(exact_size(1024, 1024, Format::Square), (1024, 1024));
    }

    #[test]
    fn a_three_by_four_picture_becomes_exactly_four_by_five() {
        let cropped = crop_png(&png(96, 128), 96, 120).unwrap();
        let size = imagesize_of(&cropped);
        assert_eq!(size, (96, 120));
    }

    fn imagesize_of(bytes: &[u8]) -> (u32, u32) {
        let p = shared::media::probe_bytes(bytes).unwrap();
        (p.width, p.height)
    }
}
