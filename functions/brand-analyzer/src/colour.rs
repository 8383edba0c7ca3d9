//! Colours as CSS writes them (`#abc`, `#aabbcc`, `rgb()`, `hsl()`, a few names), and the
//! measures the palette needs: CIELAB, CIEDE2000 distance, chroma (greys), WCAG contrast.

use palette::color_difference::Ciede2000;
use palette::{IntoColor, Lab, Lch, Srgb};

/// An opaque sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    pub fn lab(self) -> Lab {
        Srgb::new(self.0, self.1, self.2)
            .into_format::<f32>()
            .into_linear()
            .into_color()
    }

    /// CIEDE2000 distance: below ~3 the eye hardly tells two colours apart.
    pub fn distance(self, other: Rgb) -> f32 {
        self.lab().difference(other.lab())
    }

    /// Chroma in LCh; below `GREY_CHROMA` a colour reads as grey, black or white.
    pub fn chroma(self) -> f32 {
        let lch: Lch = self.lab().into_color();
        lch.chroma
    }

    pub fn hue(self) -> f32 {
        let lch: Lch = self.lab().into_color();
        lch.hue.into_positive_degrees()
    }

    pub fn is_grey(self) -> bool {
        self.chroma() < GREY_CHROMA
    }

    fn luminance(self) -> f64 {
        let ch = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(self.0) + 0.7152 * ch(self.1) + 0.0722 * ch(self.2)
    }

    /// WCAG 2 contrast ratio (1–21).
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    pub fn from_lab(lab: Lab) -> Self {
        let linear: palette::LinSrgb = lab.into_color();
        let rgb: Srgb = Srgb::from_linear(linear);
        let c = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        Rgb(c(rgb.red), c(rgb.green), c(rgb.blue))
    }
}

pub const GREY_CHROMA: f32 = 12.0;

/// A colour written in CSS; None for anything transparent or unknown.
pub fn parse(raw: &str) -> Option<Rgb> {
    let v = raw.trim().to_ascii_lowercase();
    if let Some(hex) = v.strip_prefix('#') {
        return parse_hex(hex);
    }
    if let Some(args) = function_args(&v, &["rgb", "rgba"]) {
        return parse_rgb(&args);
    }
    if let Some(args) = function_args(&v, &["hsl", "hsla"]) {
        return parse_hsl(&args);
    }
    named(&v)
}

/// Every colour written in a declaration value (`1px solid #c00`, gradients, shadows).
pub fn all_in(value: &str) -> Vec<Rgb> {
    let lower = value.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = lower.as_bytes();
    while i < bytes.len() {
        let rest = &lower[i..];
        if let Some(after) = rest.strip_prefix('#') {
            let hex: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
            if let Some(c) = parse_hex(&hex) {
                out.push(c);
            }
            i += 1 + hex.len();
            continue;
        }
        if rest.starts_with("url(") || rest.starts_with("var(") {
            i += rest.find(')').map_or(rest.len(), |e| e + 1);
            continue;
        }
        let at_word_start =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-');
        if at_word_start
            && ["rgb", "hsl"].iter().any(|f| rest.starts_with(f))
            && let Some(end) = rest.find(')')
        {
            if let Some(c) = parse(&rest[..=end]) {
                out.push(c);
            }
            i += end + 1;
            continue;
        }
        if at_word_start && bytes[i].is_ascii_alphabetic() {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if let Some(c) = named(&word) {
                out.push(c);
            }
            i += word.len().max(1);
            continue;
        }
        i += 1;
    }
    out
}

fn function_args(v: &str, names: &[&str]) -> Option<Vec<String>> {
    let open = v.find('(')?;
    if !names.contains(&v[..open].trim()) || !v.ends_with(')') {
        return None;
    }
    let inner = &v[open + 1..v.len() - 1];
    let (main, alpha) = match inner.split_once('/') {
        Some((m, a)) => (m, Some(a)),
        None => (inner, None),
    };
    let mut args: Vec<String> = main
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(a) = alpha {
        args.push(a.trim().to_owned());
    }
    Some(args)
}

fn transparent(alpha: Option<&String>) -> bool {
    alpha.is_some_and(|a| {
        let v = match a.strip_suffix('%') {
            Some(p) => p.parse::<f32>().map(|p| p / 100.0),
            None => a.parse::<f32>(),
        };
        v.is_ok_and(|v| v < 0.5)
    })
}

fn parse_hex(hex: &str) -> Option<Rgb> {
    let d = |s: &str| u8::from_str_radix(s, 16).ok();
    let dd = |c: char| d(&format!("{c}{c}"));
    let chars: Vec<char> = hex.chars().collect();
    match chars.len() {
        3 | 4 => {
            if chars.len() == 4 && dd(chars[3])? < 128 {
                return None;
            }
            Some(Rgb(dd(chars[0])?, dd(chars[1])?, dd(chars[2])?))
        }
        6 | 8 => {
            if hex.len() == 8 && d(&hex[6..8])? < 128 {
                return None;
            }
            Some(Rgb(d(&hex[0..2])?, d(&hex[2..4])?, d(&hex[4..6])?))
        }
        _ => None,
    }
}

fn channel(s: &str) -> Option<u8> {
    let v = match s.strip_suffix('%') {
        Some(p) => p.parse::<f32>().ok()? * 2.55,
        None => s.parse::<f32>().ok()?,
    };
    Some(v.clamp(0.0, 255.0).round() as u8)
}

fn parse_rgb(args: &[String]) -> Option<Rgb> {
    if args.len() < 3 || transparent(args.get(3)) {
        return None;
    }
    Some(Rgb(
        channel(&args[0])?,
        channel(&args[1])?,
        channel(&args[2])?,
    ))
}

fn parse_hsl(args: &[String]) -> Option<Rgb> {
    if args.len() < 3 || transparent(args.get(3)) {
        return None;
    }
    let h = args[0].trim_end_matches("deg").parse::<f32>().ok()?;
    let pct = |s: &str| {
        s.trim_end_matches('%')
            .parse::<f32>()
            .ok()
            .map(|v| v / 100.0)
    };
    let (s, l) = (pct(&args[1])?, pct(&args[2])?);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h.rem_euclid(360.0) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m).clamp(0.0, 1.0) * 255.0).round() as u8;
    Some(Rgb(to(r), to(g), to(b)))
}

fn named(v: &str) -> Option<Rgb> {
    Some(match v {
        "black" => Rgb(0, 0, 0),
        "white" => Rgb(255, 255, 255),
        "red" => Rgb(255, 0, 0),
        "green" => Rgb(0, 128, 0),
        "blue" => Rgb(0, 0, 255),
        "navy" => Rgb(0, 0, 128),
        "teal" => Rgb(0, 128, 128),
        "orange" => Rgb(255, 165, 0),
        "purple" => Rgb(128, 0, 128),
        "maroon" => Rgb(128, 0, 0),
        "gold" => Rgb(255, 215, 0),
        "crimson" => Rgb(220, 20, 60),
        "tomato" => Rgb(255, 99, 71),
        "coral" => Rgb(255, 127, 80),
        "gray" | "grey" => Rgb(128, 128, 128),
        "silver" => Rgb(192, 192, 192),
        "whitesmoke" => Rgb(245, 245, 245),
        "ivory" => Rgb(255, 255, 240),
        "beige" => Rgb(245, 245, 220),
        "olive" => Rgb(128, 128, 0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_colour_syntaxes_parse_to_the_same_colour() {
        let red = Some(Rgb(255, 0, 0));
        for raw in [
            "#f00",
            "#FF0000",
            "#ff0000ff",
            "rgb(255, 0, 0)",
            "rgb(255 0 0)",
            "rgba(255,0,0,1)",
            "rgb(100% 0% 0% / 90%)",
            "hsl(0, 100%, 50%)",
            "red",
        ] {
            assert_eq!(parse(raw), red, "{raw}");
        }
        for raw in [
            "transparent",
            "rgba(0,0,0,0)",
            "#0000",
            "inherit",
            "var(--x)",
        ] {
            assert_eq!(parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn colours_inside_longer_values_are_found() {
        assert_eq!(
            all_in("linear-gradient(90deg, #2E86AB 0%, rgb(0 0 0 / 100%) 100%)"),
            [Rgb(0x2e, 0x86, 0xab), Rgb(0, 0, 0)]
        );
        assert_eq!(all_in("1px solid white"), [Rgb(255, 255, 255)]);
        assert!(all_in("url(red.png) no-repeat").is_empty());
    }

    #[test]
    fn distance_greys_and_contrast_follow_the_standards() {
        assert!(Rgb(0x2e, 0x86, 0xab).distance(Rgb(0x2f, 0x86, 0xab)) < 1.0);
        assert!(Rgb(255, 0, 0).distance(Rgb(0, 0, 255)) > 50.0);
        assert!(Rgb(0x77, 0x77, 0x77).is_grey());
        assert!(Rgb(250, 250, 250).is_grey());
        assert!(!Rgb(0xc0, 0x39, 0x2b).is_grey());
        assert!((Rgb(0, 0, 0).contrast(Rgb(255, 255, 255)) - 21.0).abs() < 0.01);
        assert_eq!(
            Rgb::from_lab(Rgb(0x2e, 0x86, 0xab).lab()),
            Rgb(0x2e, 0x86, 0xab)
        );
    }
}
