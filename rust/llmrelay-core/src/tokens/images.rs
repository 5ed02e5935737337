//! Image tokens: OpenAI's tile formula on the image's own dimensions (PNG, GIF, WebP, JPEG).

use super::*;

pub(super) const IMAGE_BASE_TOKENS: usize = 85;
pub(super) const IMAGE_TILE_TOKENS: usize = 2 * IMAGE_BASE_TOKENS;
/// What every image counts as with `use_default_image_token_count`.
pub(super) const DEFAULT_IMAGE_TOKEN_COUNT: usize = 250;
/// The size LiteLLM assumes for image data it does not recognise.
pub(super) const DEFAULT_IMAGE_SIDE: u64 = 300;
pub(super) const HIGH_RES_MAX_SHORT_SIDE: u64 = 768;
pub(super) const HIGH_RES_MAX_LONG_SIDE: u64 = 2000;
pub(super) const TILE_SIDE: u64 = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImageDetail {
    Low,
    High,
    Auto,
}

impl ImageDetail {
    pub(super) fn from_name(name: &str) -> Option<Self> {
        match name {
            "low" => Some(Self::Low),
            "high" => Some(Self::High),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

pub(super) fn high_detail_image_tokens(data: &str) -> Result<usize, TokenError> {
    let (width, height) = image_dimensions(data)?;
    let (width, height) = resize_high_res(width, height)?;
    let tiles = width.div_ceil(TILE_SIDE) * height.div_ceil(TILE_SIDE);
    let tiles = usize::try_from(tiles)
        .map_err(|_| TokenError::InvalidImage("image is too large".to_owned()))?;
    Ok(IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles)
}

/// LiteLLM's high-detail resize: an image with a side over 768 px gets its short side set to
/// 768 px (larger images shrink, but smaller ones grow), then its long side capped at 2000 px.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "LiteLLM computes the aspect ratio in floating point and truncates"
)]
pub(super) fn resize_high_res(width: u64, height: u64) -> Result<(u64, u64), TokenError> {
    if width <= HIGH_RES_MAX_SHORT_SIDE && height <= HIGH_RES_MAX_SHORT_SIDE {
        return Ok((width, height));
    }
    let shorter = width.min(height);
    if shorter == 0 {
        return Err(TokenError::InvalidImage(format!(
            "image of {width}x{height} has a zero side"
        )));
    }
    let aspect_ratio = width.max(height) as f64 / shorter as f64;
    let short_side = HIGH_RES_MAX_SHORT_SIDE;
    let mut long_side = (short_side as f64 * aspect_ratio) as u64;
    let mut short_side_after = short_side;
    if long_side > HIGH_RES_MAX_LONG_SIDE {
        long_side = HIGH_RES_MAX_LONG_SIDE;
        short_side_after = (HIGH_RES_MAX_LONG_SIDE as f64 / aspect_ratio) as u64;
    }
    Ok(if width <= height {
        (short_side_after, long_side)
    } else {
        (long_side, short_side_after)
    })
}

/// Width and height of the image in `data`, a base64 data URL (everything after the first comma
/// is base64). Unrecognised formats and HEIC count as 300x300, as in LiteLLM.
pub(super) fn image_dimensions(data: &str) -> Result<(u64, u64), TokenError> {
    if data.starts_with("http://") || data.starts_with("https://") {
        return Err(TokenError::ImageFetch {
            url: data.to_owned(),
        });
    }
    let Some((_, encoded)) = data.split_once(',') else {
        return Err(TokenError::InvalidImage(
            "image is neither an http(s) URL nor a base64 data URL".to_owned(),
        ));
    };
    let bytes = python_b64decode(encoded)?;
    let truncated = || TokenError::InvalidImage("image header is truncated".to_owned());
    let bytes = bytes.as_slice();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let width = read_u32_be(bytes, 16).ok_or_else(truncated)?;
        let height = read_u32_be(bytes, 20).ok_or_else(truncated)?;
        return Ok((u64::from(width), u64::from(height)));
    }
    if bytes.starts_with(b"GIF8") && bytes.get(5) == Some(&b'a') {
        let width = read_u16_le(bytes, 6).ok_or_else(truncated)?;
        let height = read_u16_le(bytes, 8).ok_or_else(truncated)?;
        return Ok((u64::from(width), u64::from(height)));
    }
    if bytes.starts_with(b"\xff\xd8\xff") {
        return jpeg_dimensions(bytes);
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        return Ok((DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return webp_dimensions(bytes).ok_or_else(truncated);
    }
    Ok((DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE))
}

/// WebP: the canvas of an extended file, else the frame of a lossy or lossless one.
pub(super) fn webp_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    match bytes.get(12..16)? {
        b"VP8X" => {
            let width = read_u24_le(bytes, 24)? + 1;
            let height = read_u24_le(bytes, 27)? + 1;
            Some((u64::from(width), u64::from(height)))
        }
        b"VP8 " => {
            let width = read_u16_le(bytes, 26)? & 0x3FFF;
            let height = read_u16_le(bytes, 28)? & 0x3FFF;
            Some((u64::from(width), u64::from(height)))
        }
        b"VP8L" => {
            let bits = read_u32_le(bytes, 21)?;
            Some((
                u64::from(bits & 0x3FFF) + 1,
                u64::from((bits >> 14) & 0x3FFF) + 1,
            ))
        }
        _ => Some((DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE)),
    }
}

/// JPEG: walks the segments to the first start-of-frame marker (0xC0..=0xCF except the DHT,
/// JPG and DAC markers 0xC4, 0xC8, 0xCC), seeking the way LiteLLM does: past the end is
/// allowed, before the start clamps to it.
pub(super) fn jpeg_dimensions(bytes: &[u8]) -> Result<(u64, u64), TokenError> {
    let truncated = || TokenError::InvalidImage("JPEG ends before its frame header".to_owned());
    let read_byte = |position: &mut usize| {
        let byte = bytes.get(*position).copied();
        *position += 1;
        byte.ok_or_else(truncated)
    };
    let read_u16 = |position: &mut usize| {
        let value = read_u16_be(bytes, *position);
        *position += 2;
        value.ok_or_else(truncated)
    };
    let mut position: usize = 0;
    let mut skip: i64 = 2;
    let mut marker: u8 = 0;
    // Each well-formed step consumes at least three bytes; a negative segment length could loop.
    let mut steps_left = bytes.len() + 1;
    while !(0xC0..=0xCF).contains(&marker) || matches!(marker, 0xC4 | 0xC8 | 0xCC) {
        steps_left = steps_left
            .checked_sub(1)
            .ok_or_else(|| TokenError::InvalidImage("JPEG segments loop".to_owned()))?;
        position = seek(position, skip);
        let mut byte = read_byte(&mut position)?;
        while byte == 0xFF {
            byte = read_byte(&mut position)?;
        }
        marker = byte;
        skip = i64::from(read_u16(&mut position)?) - 2;
    }
    position += 1;
    let height = read_u16(&mut position)?;
    let width = read_u16(&mut position)?;
    Ok((u64::from(width), u64::from(height)))
}

pub(super) fn seek(position: usize, offset: i64) -> usize {
    let magnitude = usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX);
    if offset >= 0 {
        position.saturating_add(magnitude)
    } else {
        position.saturating_sub(magnitude)
    }
}

pub(super) fn read_array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

pub(super) fn read_u16_be(bytes: &[u8], offset: usize) -> Option<u16> {
    read_array(bytes, offset).map(u16::from_be_bytes)
}

pub(super) fn read_u16_le(bytes: &[u8], offset: usize) -> Option<u16> {
    read_array(bytes, offset).map(u16::from_le_bytes)
}

pub(super) fn read_u24_le(bytes: &[u8], offset: usize) -> Option<u32> {
    read_array::<3>(bytes, offset)
        .map(|[low, middle, high]| u32::from_le_bytes([low, middle, high, 0]))
}

pub(super) fn read_u32_be(bytes: &[u8], offset: usize) -> Option<u32> {
    read_array(bytes, offset).map(u32::from_be_bytes)
}

pub(super) fn read_u32_le(bytes: &[u8], offset: usize) -> Option<u32> {
    read_array(bytes, offset).map(u32::from_le_bytes)
}

/// Python's lenient `base64.b64decode`: characters outside the alphabet are skipped, decoding
/// stops at the padding that completes a quantum, and a missing padding is an error.
pub(super) fn python_b64decode(encoded: &str) -> Result<Vec<u8>, TokenError> {
    if !encoded.is_ascii() {
        return Err(TokenError::InvalidImage(
            "base64 data contains non-ASCII characters".to_owned(),
        ));
    }
    let mut decoded = Vec::with_capacity(encoded.len() / 4 * 3);
    let mut quantum_position = 0_u8;
    let mut carried: u8 = 0;
    let mut pads = 0_u8;
    for byte in encoded.bytes() {
        if byte == b'=' {
            if quantum_position >= 2 {
                pads += 1;
                if quantum_position + pads >= 4 {
                    return Ok(decoded);
                }
            }
            continue;
        }
        let Some(sextet) = base64_sextet(byte) else {
            continue;
        };
        pads = 0;
        match quantum_position {
            0 => {
                carried = sextet;
                quantum_position = 1;
            }
            1 => {
                decoded.push((carried << 2) | (sextet >> 4));
                carried = sextet & 0x0F;
                quantum_position = 2;
            }
            2 => {
                decoded.push((carried << 4) | (sextet >> 2));
                carried = sextet & 0x03;
                quantum_position = 3;
            }
            _ => {
                decoded.push((carried << 6) | sextet);
                quantum_position = 0;
            }
        }
    }
    match quantum_position {
        0 => Ok(decoded),
        1 => Err(TokenError::InvalidImage(
            "invalid base64: the number of data characters is 1 more than a multiple of 4"
                .to_owned(),
        )),
        _ => Err(TokenError::InvalidImage(
            "invalid base64: incorrect padding".to_owned(),
        )),
    }
}

pub(super) fn base64_sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

// Python semantics LiteLLM relies on: `str()`, truthiness, `in`, `strip()` and `json.dumps`.
