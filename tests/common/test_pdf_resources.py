"""What a PDF may cost and what it may log (issue 9, points 12 and 13): photos are downscaled with Pillow
before WeasyPrint sees them (once per scan), decompression bombs and damaged scans are refused with a
Chinese message, renders at once are bounded, only one CJK font family is embedded (subset), and the PDF
libraries never log a photo's bytes."""

from __future__ import annotations

import base64
import io
import logging
import re
import struct
import threading
import zlib
from typing import Any

import pytest
from django.test import Client
from PIL import Image
from pypdf import PdfReader

import config.urls
from shegong.access import system_actor
from shegong.archives import documents, services, storage
from shegong.common import images, pdf
from shegong.common.models import AccessLog
from tests import factories

urlpatterns = config.urls.urlpatterns  # the documents are in archives/urls.py now
handler403, handler404 = config.urls.handler403, config.urls.handler404
pytestmark = pytest.mark.urls(__name__)

WAIT = 30  # seconds: only a bound on a broken test, never a measurement


@pytest.fixture(autouse=True)
def own_upload_root(settings: Any, tmp_path: Any) -> None:
    settings.UPLOAD_ROOT = str(tmp_path / "uploads")


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A 1-bit PNG of width × height white pixels: a few kB on disk, `width × height` pixels decoded."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def big_png(side: int = 9000) -> bytes:
    """A side × side RGB photo-like PNG (gradients: small on disk, side² × 3 bytes decoded)."""
    channels = (Image.linear_gradient("L").resize((side, side)), Image.radial_gradient("L").resize((side, side)),
                Image.linear_gradient("L").rotate(90).resize((side, side)))
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def photo_of(worker: Any, data: bytes, name: str = "photo.png") -> Any:
    record = services.record_create(actor=system_actor("command"), worker=worker, archive_class=10, title="近期免冠照片",
                                    date="2024-05-01", required_item="photo")
    return services.attachment_add(actor=system_actor("command"), record=record, name=name, data=data)


def stored_photo_of(worker: Any, data: bytes) -> Any:
    """A photo stored before uploads were checked for bombs: put in storage directly, as old data is."""
    import hashlib

    from shegong.archives.models import Attachment

    record = services.record_create(actor=system_actor("command"), worker=worker, archive_class=10, title="近期免冠照片",
                                    date="2024-05-01", required_item="photo")
    digest = hashlib.sha256(data).hexdigest()
    storage.store(data, digest)
    return Attachment.objects.create(record=record, original_name="old.png", content_type="image/png",
                                     size=len(data), sha256=digest)


def pdf_images(data: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(data)).pages[0].images)


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in reader.pages))


# ---- photos: downscaled once, bombs and damaged scans refused -----------------------------------------


def test_a_9000_pixel_photo_prints_downscaled_and_its_rendition_is_made_once(world, monkeypatch):
    attachment = photo_of(world.w1, big_png(9000))
    data = documents.info_form_pdf(worker=world.w1)
    found = pdf_images(data)
    assert len(found) == 1
    width, height = found[0].image.size
    assert (width, height) == (600, 600)                 # within 600 × 800, the square kept square
    assert len(data) < 400_000
    rendition = storage.rendition_path(attachment.sha256)
    assert rendition.is_file() and rendition.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(rendition) as im:
        assert im.format == "JPEG" and im.size == (600, 600) and not im.getexif()

    def no_decoding(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the scan was decoded again")

    monkeypatch.setattr(images, "downscale", no_decoding)
    assert pdf_images(documents.info_form_pdf(worker=world.w1))[0].image.size == (600, 600)


def test_downscale_turns_the_photo_upright_and_drops_its_metadata():
    portrait = Image.new("RGB", (1600, 1200), (200, 30, 30))       # stored sideways, EXIF says "rotate 90"
    exif = Image.Exif()
    exif[0x0112] = 6                                             # Orientation
    exif[0x010F] = "某品牌手机"                                     # Make: metadata that must not travel
    out = io.BytesIO()
    portrait.save(out, format="JPEG", exif=exif, quality=90)
    jpeg = images.downscale(out.getvalue())
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.size == (600, 800) and not im.getexif()


@pytest.mark.parametrize("side", [10_000, 20_000])     # above the limit, and above twice it (Pillow's error)
def test_a_decompression_bomb_is_refused_with_a_chinese_message(side):
    bomb = bomb_png(side, side)
    assert len(bomb) < 200_000
    for call in (images.inspect, images.check, images.downscale):
        with pytest.raises(images.ImageRefused) as caught:
            call(bomb)
        message = caught.value.message
        assert f"{side}×{side} 像素" in message and "上限" in message and "重新上传" in message
        assert caught.value.reason == "图片像素过多"


def test_the_pixel_limit_is_pillows(monkeypatch):
    small = bomb_png(100, 100)
    assert images.inspect(small).pixels == 10_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5_000)
    with pytest.raises(images.ImageRefused, match="上限"):
        images.inspect(small)


def test_an_upload_of_a_decompression_bomb_is_refused_before_it_is_stored(world):
    from shegong.common.errors import ApplicationError

    with pytest.raises(ApplicationError, match="解压炸弹"):
        photo_of(world.w1, bomb_png(10_000, 10_000))
    assert not world.w1.archive_records.filter(attachments__isnull=False).exists()


def test_an_info_form_whose_photo_is_a_bomb_still_prints_and_says_why(world):
    stored_photo_of(world.w1, bomb_png(10_000, 10_000))
    data = documents.info_form_pdf(worker=world.w1)
    assert not pdf_images(data)
    assert "照片无法打印(图片像素过多),请重新上传" in text_of(data)


def test_the_newest_usable_photo_prints_when_a_newer_one_is_refused(world):
    photo_of(world.w1, big_png(900))
    stored_photo_of(world.w1, bomb_png(10_000, 10_000))   # newer, refused: the older one prints
    found = pdf_images(documents.info_form_pdf(worker=world.w1))
    assert len(found) == 1 and found[0].image.size == (600, 600)


def test_an_upload_can_make_the_rendition_before_the_scan_is_stored():
    import hashlib

    good, bomb = big_png(1200), bomb_png(10_000, 10_000)
    jpeg = storage.photo_rendition(hashlib.sha256(good).hexdigest(), data=good)
    assert jpeg == storage.rendition_path(hashlib.sha256(good).hexdigest()).read_bytes()
    with pytest.raises(images.ImageRefused, match="上限"):
        storage.photo_rendition(hashlib.sha256(bomb).hexdigest(), data=bomb)
    assert not storage.rendition_path(hashlib.sha256(bomb).hexdigest()).exists()
    with pytest.raises(storage.ScanUnavailable):           # bytes that are not the digest's: never used
        storage.photo_rendition(hashlib.sha256(b"x").hexdigest(), data=good)


@pytest.mark.parametrize("damage", ["truncated-png", "bad-crc-png", "truncated-jpeg", "garbage-png"])
def test_a_damaged_image_is_refused(damage):
    whole = big_png(300)
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 120, 200)).save(jpeg, format="JPEG")
    data = {
        "truncated-png": whole[: len(whole) // 2],
        "bad-crc-png": whole[:40] + bytes([whole[40] ^ 0xFF]) + whole[41:],
        "truncated-jpeg": jpeg.getvalue()[: len(jpeg.getvalue()) // 2],
        "garbage-png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    }[damage]
    with pytest.raises(images.ImageRefused) as caught:
        images.downscale(data)
    assert "损坏" in caught.value.message
    with pytest.raises(images.ImageRefused):
        images.check(data)


# ---- logs: no photo in them ----------------------------------------------------------------------------


def assert_clean(records: list[logging.LogRecord], secret: bytes) -> None:
    encoded = base64.b64encode(secret[:300]).decode()[:60]
    for record in records:
        for text in (record.getMessage(), record.exc_text or "", record.stack_info or ""):
            assert len(text) <= 2000, (record.name, len(text))
            assert "data:" not in text and encoded not in text, record.name
        assert len(record.getMessage()) <= 500, (record.name, len(record.getMessage()))


def test_a_damaged_photo_writes_no_image_data_into_the_log(world, caplog):
    caplog.set_level(logging.DEBUG)
    damaged = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 12_000          # 3 MB that sniff as PNG
    photo_of(world.w1, damaged)
    data = documents.info_form_pdf(worker=world.w1)
    assert data.startswith(b"%PDF") and not pdf_images(data)
    assert "照片无法打印(图片文件已损坏),请重新上传" in text_of(data)
    assert caplog.records
    assert_clean(caplog.records, damaged)


def test_weasyprints_own_log_of_a_failed_data_url_is_cut_and_scrubbed(caplog):
    caplog.set_level(logging.DEBUG)
    broken = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8_000      # 2 MB: 2.7 million characters of base64
    url = "data:image/png;base64," + base64.b64encode(broken).decode()
    data = pdf.html_to_pdf(f'<p>照片</p><img src="{url}">')
    assert data.startswith(b"%PDF")
    failed = [r for r in caplog.records if r.name.startswith("weasyprint") and "Failed to load image" in r.getMessage()]
    assert failed, [r.getMessage()[:80] for r in caplog.records]
    assert "已略去" in failed[0].getMessage()
    assert_clean(caplog.records, broken)


def test_scrub_removes_data_urls_and_base64_and_cuts():
    blob = base64.b64encode(bytes(range(256)) * 10).decode()
    text = pdf.scrub(f"at 'data:image/jpeg;base64,{blob}' and {blob}", 300)
    assert "data:" not in text and blob[:40] not in text and "已略去" in text
    long = pdf.scrub("照片" * 1000, 300)
    assert len(long) < 330 and long.endswith("已截断]")


# ---- how many at once ----------------------------------------------------------------------------------


def test_no_more_renders_run_at_once_than_the_bound(settings, monkeypatch):
    settings.PDF_MAX_CONCURRENT_RENDERS = 2
    settings.PDF_RENDER_WAIT_SECONDS = WAIT
    lock = threading.Lock()
    release = threading.Event()
    now = {"active": 0, "max": 0}

    def hook() -> None:                       # runs once a render holds its slot
        with lock:
            now["active"] += 1
            now["max"] = max(now["max"], now["active"])
        release.wait(WAIT)
        with lock:
            now["active"] -= 1

    monkeypatch.setattr(pdf, "render_hook", hook)
    results: list[bytes] = []

    def render(i: int) -> None:
        results.append(pdf.html_to_pdf(f"<p>第 {i} 份</p>"))

    threads = [threading.Thread(target=render, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    # Wait (bounded) until two hold a slot and four queue for one: the state the bound is about.
    deadline = threading.Event()
    for _ in range(WAIT * 100):
        if pdf.SLOTS.active == 2 and pdf.SLOTS.waiting == 4:
            break
        deadline.wait(0.01)
    assert (pdf.SLOTS.active, pdf.SLOTS.waiting) == (2, 4)
    assert now["max"] == 2
    release.set()
    for t in threads:
        t.join(WAIT)
    assert len(results) == 6 and all(r.startswith(b"%PDF") for r in results)
    assert now["max"] == 2 and pdf.SLOTS.active == 0 and pdf.SLOTS.waiting == 0
    assert len(pdf._font_pool) <= 2                     # at most one font configuration per slot


def test_renders_in_sequence_reuse_one_font_configuration(settings, monkeypatch):
    """A new WeasyPrint FontConfiguration per render stayed in memory (a reference cycle) until the
    garbage collector ran: 20 renders grew the process by ~350 MB. Each slot now keeps one."""
    settings.PDF_MAX_CONCURRENT_RENDERS = 2
    monkeypatch.setattr(pdf, "_font_pool", [])
    used: list[Any] = []
    real = pdf.font_config

    def spy() -> Any:
        used.append(real())
        return used[-1]

    monkeypatch.setattr(pdf, "font_config", spy)
    for i in range(3):
        pdf.html_to_pdf(f"<p>第 {i} 份</p><p><b>加粗</b></p>")
    assert len(used) == 3 and used[0] is used[1] is used[2]
    assert pdf._font_pool == [used[0]]


@pytest.fixture
def slots_taken(settings):
    """Every render slot held by another thread until the test ends; a short wait for the rest."""
    settings.PDF_MAX_CONCURRENT_RENDERS = 1
    settings.PDF_RENDER_WAIT_SECONDS = 0.05
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with pdf.render_slot():
            held.set()
            done.wait(WAIT)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(WAIT)
    yield
    done.set()
    thread.join(WAIT)


def test_a_render_that_finds_no_slot_is_refused_as_busy(slots_taken):
    with pytest.raises(pdf.PdfBusy) as caught:
        pdf.html_to_pdf("<p>忙</p>")
    assert isinstance(caught.value, pdf.PdfUnavailable) and "系统繁忙" in caught.value.message


def test_busy_answers_503_in_chinese_and_logs_no_print(world, slots_taken):
    client = Client()
    client.force_login(world.users["community"])
    response = client.get(f"/archives/{world.w1.pk}/info-form.pdf")
    assert response.status_code == 503 and "系统繁忙" in response.content.decode()
    assert response["Retry-After"] and response["Content-Type"].startswith("text/plain")
    assert not AccessLog.objects.filter(action="archive_print").exists()


def test_the_info_form_takes_one_slot_for_its_photo_and_its_rendering(world, settings):
    settings.PDF_MAX_CONCURRENT_RENDERS = 1       # re-entrant: the inner render does not wait for itself
    settings.PDF_RENDER_WAIT_SECONDS = 0.05
    photo_of(world.w1, big_png(900))
    assert len(pdf_images(documents.info_form_pdf(worker=world.w1))) == 1


# ---- fonts ---------------------------------------------------------------------------------------------


def test_only_noto_sans_cjk_sc_is_embedded_and_subset(world):
    worker = factories.WorkerFactory(name="陈晓梅", community=world.c1)
    services.record_create(actor=system_actor("command"), worker=worker, archive_class=2, title="自传材料", date="2022-01-10")
    for render in (documents.catalogue_pdf, documents.info_form_pdf):
        reader = PdfReader(io.BytesIO(render(worker=worker)))
        fonts = {}
        for page in reader.pages:
            for font in page["/Resources"]["/Font"].get_object().values():
                font = font.get_object()
                descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
                fonts[str(font["/BaseFont"])] = descendant["/FontDescriptor"].get_object()
        assert fonts and all(re.fullmatch(r"/?[A-Z]{6}\+Noto-?Sans-?CJK-?SC(-Bold)?", name) for name in fonts), fonts
        for descriptor in fonts.values():
            program = next(descriptor[k] for k in ("/FontFile3", "/FontFile2", "/FontFile") if k in descriptor)
            assert len(program.get_object().get_data()) < 1_000_000      # a subset, not the 20 MB collection
