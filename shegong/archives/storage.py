"""Attachment bytes: the type read from the content, stored once per SHA-256 under settings.UPLOAD_ROOT
(never under a public media URL; the archive's download view is the only way out)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings

from shegong.archives.models import attachment_path

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
