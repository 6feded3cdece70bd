"""Uploads are parsed, not just sniffed: images re-encoded under a pixel limit, PDFs without scripts, DOCX and ODT
without macros or zip bombs. Every file here is built in memory with Pillow, pypdf or zipfile."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable

import pytest
from PIL import ExifTags, Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from portal.core import files
from tests.expenses.builders import heic_bytes
from tests.training.coursework.builders import docx_bytes, odt_bytes

SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
EVERYTHING = files.RECEIPT_KINDS | files.DOCUMENT_KINDS


def check(data: bytes, *, allowed=EVERYTHING, max_bytes: int = 10 * 1024 * 1024) -> files.CheckedUpload:
    return files.check_upload(data, filename="upload", allowed=allowed, max_bytes=max_bytes)


def refusal(data: bytes, **options) -> str:
    with pytest.raises(files.UploadRejected) as refused:
        check(data, **options)
    return str(refused.value)


def image_bytes(mode: str = "RGB", size: tuple[int, int] = (40, 20), file_format: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white" if mode != "P" else 1).save(buffer, file_format, **options)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes that claim to be a width × height RGB picture: a decompression bomb's header."""
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
            + png_chunk(b"IEND", b""))


def pdf_made(edit: Callable[[PdfWriter, DictionaryObject], None] | None = None) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    if edit:
        edit(writer, page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def action(kind: str, **entries) -> DictionaryObject:
    made = DictionaryObject({NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)})
    made.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    return made


def annotation(writer: PdfWriter, page: DictionaryObject, **entries) -> None:
    made = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                             NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (0, 0, 50, 50)])})
    made.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(made)])


def zip_of(entries: dict[str, bytes | str], *, mimetype_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            stored = mimetype_first and name == "mimetype"
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


DOCX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                           'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                           'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
    "word/document.xml": '<?xml version="1.0"?><w:document><w:body>Essay</w:body></w:document>',
}
ODT_PARTS = {
    "mimetype": "application/vnd.oasis.opendocument.text",
    "content.xml": '<?xml version="1.0"?><office:document-content>Essay</office:document-content>',
    "META-INF/manifest.xml": '<?xml version="1.0"?><manifest:manifest/>',
}


# ---------------------------------------------------------------------------------------------
# Images


def test_a_jpeg_html_polyglot_is_stored_as_a_clean_reencoded_jpeg():
    polyglot = image_bytes(comment=SCRIPT) + SCRIPT
    assert polyglot.count(b"<script>") == 2
    checked = check(polyglot)
    assert (checked.kind, checked.reencoded) == ("jpeg", True)
    assert b"<script" not in checked.data and b"<html" not in checked.data
    assert opened(checked.data).size == (40, 20)
    assert (checked.size, checked.sha256) == (len(checked.data), hashlib.sha256(checked.data).hexdigest())


def test_a_png_with_a_trailing_script_is_stored_without_it():
    checked = check(image_bytes(file_format="PNG") + b"<script>alert(1)</script>")
    assert (checked.kind, checked.reencoded) == ("png", True)
    assert b"<script" not in checked.data
    assert checked.data.endswith(png_chunk(b"IEND", b""))


def test_reencoding_drops_the_exif_location_and_keeps_the_photo_upright():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # taken with the phone on its side: turn 90° to show
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (51.0, 30.0, 26.0)}
    photo = image_bytes(exif=exif.tobytes())
    assert opened(photo).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    stored = opened(check(photo).data)
    assert stored.size == (20, 40)
    assert dict(stored.getexif()) == {} and "exif" not in stored.info


@pytest.mark.parametrize(("mode", "file_format", "options", "stored_mode"), [
    ("RGB", "JPEG", {}, "RGB"), ("L", "JPEG", {}, "L"), ("CMYK", "JPEG", {}, "RGB"),
    ("RGB", "PNG", {}, "RGB"), ("RGBA", "PNG", {}, "RGBA"), ("P", "PNG", {"transparency": 0}, "RGBA"),
    ("1", "PNG", {}, "L"),
])
def test_ordinary_photos_and_images_are_accepted_and_reencoded_in_their_own_format(mode, file_format, options,
                                                                                     stored_mode):
    checked = check(image_bytes(mode, file_format=file_format, **options))
    stored = opened(checked.data)
    assert (checked.kind, checked.reencoded) == (file_format.lower(), True)
    assert (stored.format, stored.mode, stored.size) == (file_format, stored_mode, (40, 20))


def test_a_900_megapixel_png_is_refused_by_its_pixel_count_before_decoding():
    bomb = png_declaring(30_000, 30_000)
    assert len(bomb) < 1000
    assert "must be at most 50 megapixels" in refusal(bomb)


def test_an_image_between_our_limit_and_pillows_is_refused_too():
    assert "must be at most 50 megapixels" in refusal(png_declaring(8_000, 8_000))  # 64 megapixels


@pytest.mark.parametrize("data", [
    image_bytes()[:200], image_bytes(file_format="PNG")[:60], b"\xff\xd8\xff\xe0" + b"\x00" * 64 + SCRIPT,
    b"\x89PNG\r\n\x1a\n" + SCRIPT,
])
def test_an_image_that_does_not_decode_is_refused_as_damaged(data):
    assert "is not a complete, readable" in refusal(data)


def test_a_heic_photo_is_refused_with_how_to_send_a_jpeg_instead():
    message = refusal(heic_bytes(), allowed=files.RECEIPT_KINDS)
    assert "HEIC" in message and "Most Compatible" in message
    assert "must be a PDF, DOCX or ODT" in refusal(heic_bytes(), allowed=files.DOCUMENT_KINDS)


def test_only_reencoded_images_may_be_shown_in_the_browser():
    assert files.may_show_inline("jpeg", True) and files.may_show_inline("png", True)
    assert not files.may_show_inline("jpeg", False)
    assert not any(files.may_show_inline(kind, True) for kind in ("pdf", "docx", "odt", "heic"))


# ---------------------------------------------------------------------------------------------
# PDFs


def test_an_ordinary_pdf_with_links_and_an_open_at_page_action_is_accepted_as_uploaded():
    def links(writer, page):
        writer.root_object[NameObject("/OpenAction")] = ArrayObject([writer.pages[0].indirect_reference,
                                                                      NameObject("/Fit")])
        annotation(writer, page, Subtype=NameObject("/Link"),
                   A=action("/URI", URI=TextStringObject("https://example.org/receipt")))

    data = pdf_made(links)
    checked = check(data)
    assert (checked.kind, checked.reencoded, checked.data) == ("pdf", False, data)


def test_a_pdf_html_polyglot_is_refused():
    pdf = pdf_made()
    header, _, rest = pdf.partition(b"\n")
    polyglot = header + b"\n%" + SCRIPT + b"\n" + rest
    assert polyglot.startswith(b"%PDF-") and b"%%EOF" in polyglot[-10:]
    assert "has web page markup in it" in refusal(polyglot)


@pytest.mark.parametrize("data", [SCRIPT + b"\n" + pdf_made(), b"<!DOCTYPE html>\n" + pdf_made()])
def test_html_before_the_pdf_header_is_refused(data):
    assert "must be a JPEG, PNG, PDF, DOCX or ODT" in refusal(data)


def test_a_pdf_with_html_after_its_end_is_refused():
    assert "something added after its end" in refusal(pdf_made() + SCRIPT)


def _open_action_javascript(writer, page):
    writer.root_object[NameObject("/OpenAction")] = action("/JavaScript", JS=TextStringObject("app.alert(1)"))


def _document_javascript(writer, page):
    writer.add_open_action(JavaScript("app.alert(1)"))  # the document-level JavaScript name tree


def _page_open_action(writer, page):
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): action("/URI", URI=TextStringObject("https://x"))})


def _launch_link(writer, page):
    annotation(writer, page, Subtype=NameObject("/Link"), A=action("/Launch", F=TextStringObject("calc.exe")))


def _open_action_launch(writer, page):
    writer.root_object[NameObject("/OpenAction")] = action("/Launch", F=TextStringObject("cmd.exe"))


def _open_action_web_page(writer, page):
    writer.root_object[NameObject("/OpenAction")] = action("/URI", URI=TextStringObject("https://tracker.example/"))


def _embedded_file(writer, page):
    writer.add_attachment("invoice.exe", b"MZ\x90\x00")


def _xfa_form(writer, page):
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): TextStringObject("<xdp:xdp/>")})


def _submit_form(writer, page):
    annotation(writer, page, Subtype=NameObject("/Widget"),
               A=action("/SubmitForm", F=TextStringObject("https://attacker.example/")))


@pytest.mark.parametrize(("edit", "found"), [
    (_open_action_javascript, "contains JavaScript"),
    (_document_javascript, "contains JavaScript"),
    (_page_open_action, "actions that run by themselves"),
    (_launch_link, "an action that starts a program"),
    (_open_action_launch, "an action that starts a program"),
    (_open_action_web_page, "an action that runs when it is opened"),
    (_embedded_file, "embedded files"),
    (_xfa_form, "an XFA form"),
    (_submit_form, "a form that sends data away"),
])
def test_a_pdf_with_scripts_actions_or_embedded_files_is_refused_saying_what_it_holds(edit, found):
    message = refusal(pdf_made(edit))
    assert found in message and "print it to a new PDF" in message


def test_an_encrypted_pdf_is_refused():
    assert "password-protected or locked" in refusal(pdf_made(lambda writer, page: writer.encrypt("secret")))


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    b"%PDF-1.4\n" + b"\x00garbage\xff" * 50 + b"\n%%EOF",
    pdf_made().replace(b"/Type /Catalog", b"/Type /Kitchen"),
])
def test_a_pdf_that_does_not_parse_into_pages_is_refused_as_damaged(data):
    assert "not a complete, readable PDF" in refusal(data)


def test_a_pdf_without_pages_is_refused():
    writer = PdfWriter()
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "not a complete, readable PDF" in refusal(buffer.getvalue())


# ---------------------------------------------------------------------------------------------
# DOCX and ODT


@pytest.mark.parametrize(("data", "kind"), [
    (zip_of(DOCX_PARTS), "docx"), (zip_of(ODT_PARTS, mimetype_first=True), "odt"), (docx_bytes(), "docx"),
    (odt_bytes(), "odt"),
])
def test_plain_docx_and_odt_are_accepted_as_uploaded(data, kind):
    checked = check(data)
    assert (checked.kind, checked.reencoded, checked.data) == (kind, False, data)


def _zip_bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """A DOCX holding `size` bytes of zeros, compressed about a thousand times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in DOCX_PARTS.items():
            archive.writestr(name, content)
        with archive.open("word/media/image1.png", "w") as entry:
            megabyte = bytes(1024 * 1024)
            for _ in range(size // len(megabyte)):
                entry.write(megabyte)
    return buffer.getvalue()


def test_a_docx_zip_bomb_is_refused_without_inflating_it():
    bomb = _zip_bomb()
    assert len(bomb) < 300 * 1024
    assert "would be larger than 50.0 MB once opened" in refusal(bomb)


def test_an_entry_that_inflates_absurdly_is_refused_even_under_the_total_limit():
    assert "would be larger than" in refusal(_zip_bomb(5 * 1024 * 1024))


def test_a_docx_with_too_many_parts_is_refused():
    parts = {**DOCX_PARTS, **{f"word/media/{n}.txt": "x" for n in range(files.MAX_ARCHIVE_ENTRIES)}}
    assert "parts inside it" in refusal(zip_of(parts))


@pytest.mark.parametrize("extra", [
    {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro project"},
    {"[Content_Types].xml": DOCX_PARTS["[Content_Types].xml"].replace(
        "wordprocessingml.document.main+xml", "ms-word.document.macroEnabled.main+xml")},
    {"word/activeX/activeX1.xml": "<ax:ocx/>"},
    {"word/embeddings/Workbook1.xlsm": b"PK\x03\x04"},
])
def test_a_docm_or_a_docx_with_macros_is_refused(extra):
    assert "contains macros" in refusal(zip_of({**DOCX_PARTS, **extra}))


@pytest.mark.parametrize("extra", [
    {"Basic/Standard/Module1.xml": "<script:module>Shell(\"calc\")</script:module>"},
    {"Scripts/python/evil.py": "import os"},
    {"content.xml": '<office:document-content><office:event-listeners><script:event-listener '
                    'xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic"/>'
                    "</office:event-listeners></office:document-content>"},
])
def test_an_odt_with_macros_or_script_bindings_is_refused(extra):
    assert "contains macros" in refusal(zip_of({**ODT_PARTS, **extra}, mimetype_first=True))


@pytest.mark.parametrize("data", [
    zip_of({name: part for name, part in DOCX_PARTS.items() if name != "_rels/.rels"}),
    zip_of({name: part for name, part in ODT_PARTS.items() if name != "META-INF/manifest.xml"}, mimetype_first=True),
    zip_of(DOCX_PARTS)[:-30],
])
def test_a_document_missing_its_required_parts_or_cut_short_is_refused(data):
    message = refusal(data)
    assert "not a complete, readable" in message or "must be a" in message


def test_a_docx_whose_first_part_is_a_web_page_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/page.html", SCRIPT, compress_type=zipfile.ZIP_STORED)
        for name, content in DOCX_PARTS.items():
            archive.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    assert SCRIPT in data[:200]
    assert "has web page markup in it" in refusal(data)
