"""Attachment bytes: the type read from the content, stored once per SHA-256 under settings.UPLOAD_ROOT
(never under a public media URL; the archive's download view is the only way out).

Beside them, under UPLOAD_ROOT/renditions/, the print-size JPEG of an image scan (photo_rendition): made
once per scan from its verified bytes (shegong.common.images.downscale) and reused by every later PDF."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings

from shegong.archives.models import attachment_path
from shegong.common import images

SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]
KNOWN_OTHERS = [
    (b"MZ", "Windows 可执行程序"), (b"\x7fELF", "Linux 可执行程序"), (b"PK\x03\x04", "ZIP 压缩包或 Office 文档"),
    (b"Rar!", "RAR 压缩包"), (b"GIF8", "GIF 图片"), (b"#!", "脚本"), (b"<", "网页或 XML"),
]
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def sniff(data: bytes) -> str | None:
    """The content type by the file's first bytes, or None when it is none of the accepted scans."""
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    return None


def describe(data: bytes) -> str:
    """What an unaccepted file looks like, for the error message."""
    for magic, label in KNOWN_OTHERS:
        if data.startswith(magic):
            return label
    return "无法识别的格式"


def root() -> Path:
    return Path(settings.UPLOAD_ROOT)


def store(data: bytes, digest: str | None = None) -> str:
    """Write the bytes (once: the name is their SHA-256, `digest` when the caller has it) and return it."""
    digest = digest or hashlib.sha256(data).hexdigest()
    target = root() / attachment_path(digest)
    if not target.exists() or not verify(digest):  # absent, or damaged: (re)write it
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    return digest


def open_stored(sha256: str):  # noqa: ANN201 — a binary file object
    path = root() / attachment_path(sha256)
    return path.open("rb")


def verify(sha256: str) -> bool:
    """Whether the stored bytes still have their digest (a damaged file is refused, not served)."""
    path = root() / attachment_path(sha256)
    if not path.exists():
        return False
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest() == sha256


# ---- print renditions -------------------------------------------------------------------------------

IMAGE_TYPES = ("image/jpeg", "image/png")
# The name of the rendition's recipe: a change of size or quality makes new files, never mixes them.
PHOTO_RENDITION = f"photo-{images.PHOTO_BOX[0]}x{images.PHOTO_BOX[1]}-q{images.JPEG_QUALITY}"


class ScanUnavailable(Exception):
    """The stored scan is missing, damaged (SHA-256 differs) or not an image: there is nothing to print."""


def rendition_path(sha256: str, recipe: str = PHOTO_RENDITION) -> Path:
    return root() / "renditions" / recipe / sha256[:2] / f"{sha256}.jpg"


def _sound_jpeg(data: bytes) -> bool:
    """Whether a rendition file is whole: Pillow's JPEGs start with SOI and end with EOI."""
    return data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9")


def photo_rendition(sha256: str, data: bytes | None = None) -> bytes:
    """The print-size JPEG (at most images.PHOTO_BOX, upright, no metadata) of the image scan stored under
    `sha256`, made the first time and then read from UPLOAD_ROOT/renditions/. It is made only from bytes
    whose SHA-256 is checked, so it is always the picture that was uploaded. `data`: the scan's bytes when
    the caller has them (an upload, before they are stored); otherwise they are read from storage.

    Raises ScanUnavailable (missing, damaged or not a JPEG/PNG) or images.ImageRefused (too many pixels,
    an undecodable image), whose message is Chinese."""
    target = rendition_path(sha256)
    try:
        cached = target.read_bytes()
    except OSError:
        cached = b""
    if _sound_jpeg(cached):
        return cached
    if data is None:
        try:
            with open_stored(sha256) as fh:
                data = fh.read()
        except OSError as exc:
            raise ScanUnavailable(f"附件 {sha256[:12]} 的文件缺失") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ScanUnavailable(f"附件 {sha256[:12]} 的文件已损坏(SHA-256 不符)")
    if sniff(data) not in IMAGE_TYPES:
        raise ScanUnavailable(f"附件 {sha256[:12]} 不是 JPEG 或 PNG 图片")
    jpeg = images.downscale(data)
    del data
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".rendition-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(jpeg)
        os.replace(tmp, target)
    except OSError:  # not kept (a read-only or full disk): this render has it, the next one makes it again
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return jpeg
