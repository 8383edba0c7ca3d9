//! Creative assets: which media types may be uploaded and how large, the ad formats
//! (aspect ratios) Meta placements use, and tag rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;

/// The largest image accepted (30 MiB).
pub const MAX_IMAGE_BYTES: i64 = 30 * 1024 * 1024;
/// The largest video accepted (4 GiB).
pub const MAX_VIDEO_BYTES: i64 = 4 * 1024 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// Image or video.
pub enum AssetType {
    /// A still picture.
    Image,
    /// A video.
    Video,
}

impl AssetType {
    /// The type as stored (`image`, `video`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
        }
    }
}

/// Where an asset is in its life: `processing` until its bytes are checked (an upload)
/// or made (a generation), then `active` or `failed`; `deleted` once the owner deletes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// Its bytes are being checked or made.
    Processing,
    /// Ready to use in campaigns and to download.
    Active,
    /// Its bytes were unusable, or making it failed (`failure_reason` says why).
    Failed,
    /// Deleted by the owner.
    Deleted,
}

impl AssetStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::Active => "active",
            Self::Failed => "failed",
            Self::Deleted => "deleted",
        }
    }

    /// A stored status; an unknown one is none.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Processing, Self::Active, Self::Failed, Self::Deleted]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A media type Adpilot accepts, with the file extensions that go with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/webp`.
    Webp,
    /// `video/mp4`.
    Mp4,
    /// `video/quicktime`.
    QuickTime,
}

impl MediaType {
    /// Every accepted type.
    pub const ALL: [MediaType; 5] = [
        Self::Jpeg,
        Self::Png,
        Self::Webp,
        Self::Mp4,
        Self::QuickTime,
    ];

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::QuickTime => "video/quicktime",
        }
    }

    /// The file extensions that go with it.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg"],
            Self::Png => &["png"],
            Self::Webp => &["webp"],
            Self::Mp4 => &["mp4", "m4v"],
            Self::QuickTime => &["mov"],
        }
    }

    /// Image or video.
    pub fn asset_type(self) -> AssetType {
        match self {
            Self::Jpeg | Self::Png | Self::Webp => AssetType::Image,
            Self::Mp4 | Self::QuickTime => AssetType::Video,
        }
    }

    /// The largest file of this type accepted.
    pub fn max_bytes(self) -> i64 {
        match self.asset_type() {
            AssetType::Image => MAX_IMAGE_BYTES,
            AssetType::Video => MAX_VIDEO_BYTES,
        }
    }

    /// The accepted type a `content-type` names (parameters ignored).
    pub fn from_mime(raw: &str) -> Result<Self, Invalid> {
        let mime = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|m| m.mime() == mime)
            .ok_or_else(|| {
                Invalid::new(
                    "unsupported_type",
                    "must be one of image/jpeg, image/png, image/webp, video/mp4, video/quicktime",
                )
            })
    }
}

/// An upload's filename: a plain name (no path) of at most 200 characters whose
/// extension fits its media type. Characters unsafe in S3 keys become `_`.
pub fn upload_filename(raw: &str, media: MediaType) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > 200
        || name.contains(['/', '\\'])
        || name.starts_with('.')
    {
        return Err(Invalid::new(
            "invalid_filename",
            "must be a file name like summer-sale.jpg, at most 200 characters",
        ));
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !media.extensions().contains(&ext.as_str()) {
        return Err(Invalid::new(
            "extension_mismatch",
            format!(
                "a {} file must end in .{}",
                media.mime(),
                media.extensions().join(" or .")
            ),
        ));
    }
    Ok(name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect())
}

/// The aspect ratios Adpilot produces and places: square, portrait feed, landscape, stories/reels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Format {
    #[serde(rename = "1:1")]
    /// 1:1.
    Square,
    #[serde(rename = "4:5")]
    /// 4:5, the portrait feed.
    Portrait,
    #[serde(rename = "16:9")]
    /// 16:9.
    Landscape,
    #[serde(rename = "9:16")]
    /// 9:16, stories and reels.
    Vertical,
}

/// How far (as |ln(actual/target)|) a picture may be from its nearest format and still
/// count as that format; beyond it the ratio is unusable for placements (about 22 %).
const RATIO_TOLERANCE: f64 = 0.2;

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [
        Self::Square,
        Self::Portrait,
        Self::Landscape,
        Self::Vertical,
    ];

    /// The format as stored and shown (`1:1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Square => "1:1",
            Self::Portrait => "4:5",
            Self::Landscape => "16:9",
            Self::Vertical => "9:16",
        }
    }

    /// The format written `raw`, or the list of valid ones.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw)
            .ok_or_else(|| Invalid::new("invalid_format", "must be one of 1:1, 4:5, 16:9, 9:16"))
    }

    /// Width over height.
    pub fn ratio(self) -> f64 {
        match self {
            Self::Square => 1.0,
            Self::Portrait => 4.0 / 5.0,
            Self::Landscape => 16.0 / 9.0,
            Self::Vertical => 9.0 / 16.0,
        }
    }

    /// The nearest format to `width`×`height`, or why none fits.
    pub fn nearest(width: u32, height: u32) -> Result<Self, String> {
        if width == 0 || height == 0 {
            return Err("the media has no width or height".into());
        }
        let actual = f64::from(width) / f64::from(height);
        let distance = |f: Format| (actual / f.ratio()).ln().abs();
        let best = Self::ALL
            .into_iter()
            .min_by(|a, b| distance(*a).total_cmp(&distance(*b)))
            .expect("four formats");
        if distance(best) <= RATIO_TOLERANCE {
            Ok(best)
        } else {
            Err(format!(
                "aspect ratio {width}x{height} ({actual:.2}) is too far from 1:1, 4:5, 16:9 and 9:16; crop it to one of them"
            ))
        }
    }
}

/// Tags: trimmed, lower-case, 1–50 characters, at most 20, duplicates dropped.
pub fn tags(raw: &[String]) -> Result<Vec<String>, Invalid> {
    if raw.len() > 20 {
        return Err(Invalid::new("too_many", "at most 20 tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for t in raw {
        let tag = t.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 50 || tag.chars().any(char::is_control) {
            return Err(Invalid::new(
                "invalid_tag",
                "each tag must be 1–50 printable characters",
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_status_is_stored_and_shown_as_its_json_name_and_reads_back() {
        for s in [
            AssetStatus::Processing,
            AssetStatus::Active,
            AssetStatus::Failed,
            AssetStatus::Deleted,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(AssetStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(AssetStatus::parse("ACTIVE"), None);
    }

    #[test]
    fn exact_ratios_map_to_their_format() {
        assert_eq!(Format::nearest(1080, 1080), Ok(Format::Square));
        assert_eq!(Format::nearest(1080, 1350), Ok(Format::Portrait));
        assert_eq!(Format::nearest(1920, 1080), Ok(Format::Landscape));
        assert_eq!(Format::nearest(1080, 1920), Ok(Format::Vertical));
    }

    #[test]
    fn near_ratios_take_the_nearest_format_and_far_ones_are_refused() {
        assert_eq!(Format::nearest(1200, 800), Ok(Format::Landscape)); // 3:2
        assert_eq!(Format::nearest(1000, 1100), Ok(Format::Square));
        assert!(Format::nearest(3000, 1000).is_err()); // 3:1 panorama
        assert!(Format::nearest(0, 10).is_err());
    }

    #[test]
    fn only_supported_media_types_and_matching_names_are_accepted() {
        assert_eq!(MediaType::from_mime("image/PNG").unwrap(), MediaType::Png);
        assert!(MediaType::from_mime("image/gif").is_err());
        assert_eq!(
            upload_filename("Summer Sale.JPG", MediaType::Jpeg).unwrap(),
            "Summer Sale.JPG"
        );
        assert_eq!(
            upload_filename("sale(1).png", MediaType::Png).unwrap(),
            "sale_1_.png"
        );
        assert!(upload_filename("clip.mp4", MediaType::Png).is_err());
        assert!(upload_filename("../etc/passwd.png", MediaType::Png).is_err());
    }

    #[test]
    fn tags_are_normalised_and_bounded() {
        assert_eq!(
            tags(&[" Diwali ".into(), "diwali".into(), "sale".into()]).unwrap(),
            ["diwali", "sale"]
        );
        assert!(tags(&["".into()]).is_err());
        assert!(tags(&vec!["x".to_owned(); 21]).is_err());
    }
}
