//! Reading what media really is from its bytes: images through `imagesize` (type and
//! dimensions from the header), MP4/QuickTime through their box structure, fetching
//! only the header bytes and the `moov` box, never the whole (up to 4 GB) file.
//! Media already in memory (what a model just generated) is probed with `probe_bytes`.

use std::io::Cursor;

use crate::aws::storage::Storage;
use crate::domain::asset::MediaType;
use crate::error::AppError;
use mp4::{BoxHeader, MoovBox, ReadBox};

#[derive(Debug, PartialEq, Eq)]
/// What an uploaded file turned out to be, read from its own bytes.
pub struct Probe {
    /// Image or video.
    pub media: MediaType,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Videos only.
    pub duration_ms: Option<u64>,
}

const HEAD_BYTES: u64 = 64 * 1024;
const JPEG_HEAD_BYTES: u64 = 2 * 1024 * 1024;
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

/// `Ok(Err(reason))` when the bytes are not usable media; `Err` when S3 failed.
pub async fn probe(
    storage: &Storage,
    key: &str,
    size: i64,
) -> Result<Result<Probe, String>, AppError> {
    let size = size.max(0) as u64;
    if size == 0 {
        return Ok(Err("the file is empty".into()));
    }
    let head = storage.read_range(key, 0, HEAD_BYTES.min(size)).await?;
    if let Some(media) = image_type(&head) {
        let head = match imagesize::blob_size(&head) {
            Ok(_) => head,
            // Large metadata can push a JPEG's frame header past the first bytes.
            Err(_) if size > HEAD_BYTES => {
                storage
                    .read_range(key, 0, JPEG_HEAD_BYTES.min(size))
                    .await?
            }
            Err(_) => head,
        };
        return Ok(image(media, &head));
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return video(storage, key, size, &head).await;
    }
    Ok(Err(
        "the file is not a JPEG, PNG, WebP, MP4 or QuickTime file".into(),
    ))
}

fn image_type(head: &[u8]) -> Option<MediaType> {
    match imagesize::image_type(head).ok()? {
        imagesize::ImageType::Jpeg => Some(MediaType::Jpeg),
        imagesize::ImageType::Png => Some(MediaType::Png),
        imagesize::ImageType::Webp => Some(MediaType::Webp),
        _ => None,
    }
}

/// An image's dimensions from its header bytes.
pub fn image(media: MediaType, head: &[u8]) -> Result<Probe, String> {
    let size = imagesize::blob_size(head)
        .map_err(|e| format!("the {} header is unreadable: {e}", media.mime()))?;
    Ok(Probe {
        media,
        width: size.width as u32,
        height: size.height as u32,
        duration_ms: None,
    })
}

/// The `ftyp` major brand tells QuickTime from MP4.
fn container(head: &[u8]) -> MediaType {
    if &head[8..12] == b"qt  " {
        MediaType::QuickTime
    } else {
        MediaType::Mp4
    }
}

/// Finds the `moov` box by walking the top-level boxes (it may follow a large `mdat`),
/// fetches it alone, and reads the duration and the video track's dimensions.
async fn video(
    storage: &Storage,
    key: &str,
    size: u64,
    head: &[u8],
) -> Result<Result<Probe, String>, AppError> {
    let media = container(head);
    let mut offset = 0u64;
    while offset + 8 <= size {
        let header = if offset + 16 <= head.len() as u64 {
            head[offset as usize..offset as usize + 16].to_vec()
        } else {
            storage
                .read_range(key, offset, 16.min(size - offset))
                .await?
        };
        let Some((box_type, box_size)) = box_header(&header, size - offset) else {
            return Ok(Err("the video's box structure is corrupt".into()));
        };
        if &box_type == b"moov" {
            if box_size > MAX_MOOV_BYTES {
                return Ok(Err("the video's metadata is implausibly large".into()));
            }
            let moov = storage.read_range(key, offset, box_size).await?;
            return Ok(read_moov(media, &moov));
        }
        offset += box_size;
    }
    Ok(Err(
        "the video has no moov box (is the upload complete?)".into()
    ))
}

/// What media in memory is: its type, dimensions and (video) duration.
pub fn probe_bytes(bytes: &[u8]) -> Result<Probe, String> {
    if let Some(media) = image_type(bytes) {
        return image(media, bytes);
    }
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return Err("not a JPEG, PNG, WebP, MP4 or QuickTime file".into());
    }
    let media = container(bytes);
    let mut offset = 0usize;
    while offset + 8 <= bytes.len() {
        let rest = &bytes[offset..];
        let (box_type, size) =
            box_header(rest, rest.len() as u64).ok_or("the video's box structure is corrupt")?;
        if &box_type == b"moov" {
            return read_moov(media, &rest[..size as usize]);
        }
        offset += size as usize;
    }
    Err("the video has no moov box".into())
}

/// A box's type and total size; a size of 0 means "to the end of the file".
fn box_header(bytes: &[u8], remaining: u64) -> Option<([u8; 4], u64)> {
    if bytes.len() < 8 {
        return None;
    }
    let size32 = u32::from_be_bytes(bytes[0..4].try_into().ok()?) as u64;
    let box_type: [u8; 4] = bytes[4..8].try_into().ok()?;
    let size = match size32 {
        0 => remaining,
        1 => u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?),
        n => n,
    };
    (size >= 8 && size <= remaining).then_some((box_type, size))
}

/// Duration and video-track dimensions from a complete `moov` box.
pub fn read_moov(media: MediaType, moov: &[u8]) -> Result<Probe, String> {
    let corrupt = |e: mp4::Error| format!("the video's metadata is unreadable: {e}");
    let mut cursor = Cursor::new(moov);
    let header = BoxHeader::read(&mut cursor).map_err(corrupt)?;
    let moov = MoovBox::read_box(&mut cursor, header.size).map_err(corrupt)?;
    let track = moov
        .traks
        .iter()
        .find(|t| t.mdia.hdlr.handler_type == "vide".parse().expect("fourcc"))
        .ok_or("the file has no video track")?;
    let (width, height) = (
        u32::from(track.tkhd.width.value()),
        u32::from(track.tkhd.height.value()),
    );
    let duration_ms = (moov.mvhd.timescale > 0)
        .then(|| moov.mvhd.duration * 1000 / u64::from(moov.mvhd.timescale));
    Ok(Probe {
        media,
        width,
        height,
        duration_ms,
    })
}
