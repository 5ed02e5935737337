"""``token_counter`` (``litellm.litellm_core_utils.token_counter``): LiteLLM's counting rules,
computed in the engine; and ``get_image_dimensions``, the size of an image a message carries."""

from __future__ import annotations

import base64
import struct
from typing import Optional

from ..utils import token_counter

__all__ = ["get_image_dimensions", "token_counter"]


def _image_bytes(data: str) -> bytes:
    if data.startswith("data:"):
        _, _, payload = data.partition(",")
        return base64.b64decode(payload)
    if data.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(data, timeout=10.0, follow_redirects=True)
        response.raise_for_status()
        return response.content
    return base64.b64decode(data)


def _jpeg_size(blob: bytes) -> Optional[tuple[int, int]]:
    index = 2
    while index + 9 < len(blob):
        if blob[index] != 0xFF:
            index += 1
            continue
        marker = blob[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = struct.unpack(">H", blob[index + 2:index + 4])[0]
        # Start-of-frame markers (baseline, progressive, …) carry height then width.
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", blob[index + 5:index + 9])
            return width, height
        index += 2 + length
    return None


def get_image_dimensions(data: str) -> tuple[Optional[int], Optional[int]]:
    """``(width, height)`` of a PNG, GIF, JPEG or WebP given as a data URL, base64 text or an
    http(s) URL (fetched); ``(None, None)`` when the format is not recognised."""
    blob = _image_bytes(data)
    if blob[:8] == b"\x89PNG\r\n\x1a\n" and len(blob) >= 24:
        width, height = struct.unpack(">II", blob[16:24])
        return width, height
    if blob[:6] in (b"GIF87a", b"GIF89a") and len(blob) >= 10:
        width, height = struct.unpack("<HH", blob[6:10])
        return width, height
    if blob[:2] == b"\xff\xd8":
        size = _jpeg_size(blob)
        if size is not None:
            return size
    if blob[:4] == b"RIFF" and blob[8:12] == b"WEBP" and len(blob) >= 30:
        chunk = blob[12:16]
        if chunk == b"VP8X":
            width = int.from_bytes(blob[24:27], "little") + 1
            height = int.from_bytes(blob[27:30], "little") + 1
            return width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", blob[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(blob[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None, None
