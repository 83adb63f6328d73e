"""Images that go into a PDF: checked and made print-sized with Pillow before WeasyPrint sees them.

    info = inspect(data)          # the header only: format and size; refuses a decompression bomb
    check(data)                   # and decodes it all: refuses a damaged file
    jpeg = downscale(data)        # a JPEG of at most PHOTO_BOX pixels, upright, without metadata

A 9000 × 9000 scan decodes to 232 MiB of pixels; WeasyPrint would decode it on every render and embed it
whole. The information form prints its photo 30 × 40 mm, for which 600 × 800 pixels are over 500 dpi, so
the PDFs get a small JPEG instead (made once per scan: archives.storage.photo_rendition).

Every refusal is an ImageRefused with a Chinese message that says what is wrong and what to do. The
pixel limit is Pillow's own guard, `PIL.Image.MAX_IMAGE_PIXELS` (about 89.5 million pixels unless a
deployment changes it), read at each call; an image above it is refused from its header, before any
pixel is decoded.

A note on truncated files: WeasyPrint sets `PIL.ImageFile.LOAD_TRUNCATED_IMAGES` for the whole process
when it is imported, after which Pillow pads a cut-off image instead of failing. `check` does not depend
on that switch: a PNG is verified chunk by chunk (CRCs, up to IEND) and a JPEG whose data ran out is
recognised by the end-of-image marker that Pillow had to make up.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from shegong.common.errors import ApplicationError

PHOTO_BOX = (600, 800)       # width, height: a 1-inch (30 × 40 mm) photo at over 500 dpi
JPEG_QUALITY = 85

DAMAGED = "图片文件已损坏或不完整,无法读取。请重新扫描(或重新导出图片)后上传。"
NOT_AN_IMAGE = "文件不是可以读取的 JPEG 或 PNG 图片。请上传 JPEG 或 PNG 格式的扫描件。"


TOO_BIG_SHORT, DAMAGED_SHORT, NOT_AN_IMAGE_SHORT = "图片像素过多", "图片文件已损坏", "不是 JPEG 或 PNG 图片"


class ImageRefused(ApplicationError):
    """An image that is not used: too many pixels, damaged, or not a JPEG/PNG. `message` is a Chinese
    sentence for a form; `reason` says it in a few characters (for the photo box of a printed form)."""

    def __init__(self, message: str, *, reason: str, field: str | None = "file") -> None:
        super().__init__(message, field=field)
        self.reason = reason


def _damaged() -> ImageRefused:
    return ImageRefused(DAMAGED, reason=DAMAGED_SHORT)


@dataclass(frozen=True)
class ImageInfo:
    format: str          # "JPEG" or "PNG"
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def max_pixels() -> int | None:
    """The largest image accepted, in pixels: Pillow's decompression-bomb limit (None: no limit)."""
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS


def _too_big(width: int, height: int, limit: int) -> ImageRefused:
    return ImageRefused(
        f"图片尺寸为 {width}×{height} 像素(约 {width * height / 1e6:.0f} 百万像素),超过 {limit / 1e6:.0f} 百万像素的上限,"
        f"解码会占用过多内存(可能是“解压炸弹”),不予处理。请把图片缩小(例如 2000×3000 像素以内)后重新上传。",
        reason=TOO_BIG_SHORT)


def _open(data: bytes):  # noqa: ANN202 — a PIL image file (lazy: only the header is read)
    """The image's header, by the plugin of its signature. Not through Image.open: that one warns between
    the limit and twice it and raises past it without the size, while here the same limit (and message)
    applies to every size, in `inspect`."""
    from PIL import JpegImagePlugin, PngImagePlugin

    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        plugin: type = PngImagePlugin.PngImageFile
    elif data.startswith(b"\xff\xd8\xff"):
        plugin = JpegImagePlugin.JpegImageFile
    else:
        raise ImageRefused(NOT_AN_IMAGE, reason=NOT_AN_IMAGE_SHORT)
    try:
        return plugin(io.BytesIO(data))
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error) as exc:
        raise _damaged() from exc


def inspect(data: bytes) -> ImageInfo:
    """Format and size from the header; refuses what is not a JPEG/PNG and anything above the pixel limit."""
    image = _open(data)
    width, height = image.size
    limit = max_pixels()
    if limit is not None and width * height > limit:
        raise _too_big(width, height, limit)
    if width < 1 or height < 1:
        raise _damaged()
    return ImageInfo(str(image.format), width, height)


def _decode(data: bytes, *, draft_box: tuple[int, int] | None = None):  # noqa: ANN202 — a loaded PIL image
    """The image decoded (for a JPEG at the smallest scale that still covers `draft_box`), or ImageRefused."""
    info = inspect(data)
    image = _open(data)
    try:
        if info.format == "PNG":
            image.verify()               # every chunk's CRC, up to IEND: a cut-off or altered file fails here
            image = _open(data)
        elif draft_box is not None:
            image.draft("RGB", draft_box)
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise _damaged() from exc
    if getattr(image, "_ended", False):  # a JPEG whose data ran out: Pillow made up the end marker
        raise _damaged()
    return image


def check(data: bytes) -> ImageInfo:
    """`inspect`, then decode every pixel: a damaged image is refused too. For the upload of a scan."""
    info = inspect(data)
    _decode(data)
    return info


ROTATED = (5, 6, 7, 8)        # EXIF orientations that turn the picture by 90°


def _resizable(image):  # noqa: ANN001, ANN202
    """A mode Pillow resizes smoothly (a palette or 1-bit image would be resized pixel by pixel)."""
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I;16"):
        return image.convert("I")
    return image


def _to_rgb(image):  # noqa: ANN001, ANN202
    """RGB for the JPEG: transparency on white, 16/32-bit grey scaled to 8 bits, CMYK converted."""
    from PIL import Image

    if image.mode == "I":
        image = image.point(lambda v: v * (1 / 256)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def downscale(data: bytes, *, box: tuple[int, int] = PHOTO_BOX, quality: int = JPEG_QUALITY) -> bytes:
    """A JPEG of the image that fits `box` (never enlarged), turned upright by its EXIF orientation and
    without any of its metadata (no EXIF, GPS, comments). Raises ImageRefused (bomb, damaged, not an image).

    The full-size pixels exist once (a JPEG decodes at 1/2, 1/4 or 1/8 of its size when that still
    covers the box): the image is made small first, and only then turned and converted."""
    from PIL import Image, ImageOps

    side = max(box)
    image = _decode(data, draft_box=(2 * side, 2 * side))
    try:
        image = _resizable(image)
        upright_box = (box[1], box[0]) if image.getexif().get(0x0112, 1) in ROTATED else box
        image.thumbnail(upright_box, Image.Resampling.LANCZOS, reducing_gap=3.0)
        image = ImageOps.exif_transpose(image) or image
        image = _to_rgb(image)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
    except (OSError, ValueError, SyntaxError) as exc:
        raise _damaged() from exc
    return out.getvalue()
