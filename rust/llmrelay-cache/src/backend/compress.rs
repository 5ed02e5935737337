//! Large answers are kept compressed (LZ4) in Redis: a long chat answer's JSON shrinks to a
//! third or less, so Redis holds three times as many and a hit moves fewer bytes. A
//! compressed value starts with a marker no JSON text starts with, so values stored before
//! (plain JSON) still read.

use std::borrow::Cow;

/// What a compressed value starts with (a NUL byte and a name: JSON starts with `{`).
const MARKER: &[u8] = b"\0lz4";

/// Values shorter than this stay as they are (compressing them saves too little).
const SMALLEST: usize = 512;

/// `json` as stored: compressed when that makes it smaller.
#[must_use]
pub fn pack(json: &[u8]) -> Cow<'_, [u8]> {
    if json.len() < SMALLEST {
        return Cow::Borrowed(json);
    }
    let compressed = lz4_flex::compress_prepend_size(json);
    if compressed.len() + MARKER.len() >= json.len() {
        return Cow::Borrowed(json);
    }
    let mut packed = Vec::with_capacity(MARKER.len() + compressed.len());
    packed.extend_from_slice(MARKER);
    packed.extend_from_slice(&compressed);
    Cow::Owned(packed)
}

/// The JSON of a stored value.
///
/// # Errors
/// A value with the marker that does not decompress.
pub fn unpack(stored: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    match stored.strip_prefix(MARKER) {
        Some(compressed) => lz4_flex::decompress_size_prepended(compressed)
            .map(Cow::Owned)
            .map_err(|e| format!("a compressed answer does not decompress: {e}")),
        None => Ok(Cow::Borrowed(stored)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_values_shrink_and_come_back_small_ones_stay() {
        let large = format!(
            "{{\"content\":\"{}\"}}",
            "the same words again and again ".repeat(100)
        );
        let packed = pack(large.as_bytes());
        assert!(packed.starts_with(MARKER));
        assert!(packed.len() * 3 < large.len(), "{} bytes", packed.len());
        assert_eq!(unpack(&packed).ok().as_deref(), Some(large.as_bytes()));
        let small = br#"{"a":1}"#;
        assert!(matches!(pack(small), Cow::Borrowed(_)));
        assert_eq!(unpack(small).ok().as_deref(), Some(&small[..]));
        assert!(unpack(b"\0lz4garbage").is_err());
    }
}
