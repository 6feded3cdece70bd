"""Uploaded files: recognised by content, refused with clear messages, stored under random names."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest

from portal.core import files
from tests.expenses.builders import heic_bytes, jpeg_bytes, pdf_bytes, png_bytes


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def avif_bytes() -> bytes:
    ftyp = b"ftypavif" + b"\x00\x00\x00\x00" + b"mif1avif"
    return (len(ftyp) + 4).to_bytes(4, "big") + ftyp + b"\x00" * 64


@pytest.mark.parametrize(("data", "kind"), [
    (jpeg_bytes(), "jpeg"), (png_bytes(), "png"), (heic_bytes(), "heic"), (pdf_bytes(), "pdf"),
    (docx_bytes(), "docx"), (odt_bytes(), "odt"),
])
def test_kinds_are_recognised_by_content(data, kind):
    assert files.detect_kind(data) == kind


@pytest.mark.parametrize("data", [
    b"GIF89a" + b"\x00" * 20, b"<html><script>alert(1)</script>", b"%PDF-1.4 truncated", plain_zip(), avif_bytes(),
    b"MZ\x90\x00",
])
def test_other_content_is_not_recognised(data):
    assert files.detect_kind(data) is None


def test_a_checked_upload_has_its_kind_size_hash_and_a_name_with_the_true_extension():
    checked = files.check_upload(jpeg_bytes(), filename="../../Reçu parking.HEIC", allowed=files.RECEIPT_KINDS,
                                 max_bytes=10_000)
    # A photo is stored re-encoded: the size and hash describe the bytes kept, not the bytes sent.
    assert (checked.kind, checked.size, checked.content_type) == ("jpeg", len(checked.data), "image/jpeg")
    assert checked.sha256 == hashlib.sha256(checked.data).hexdigest()
    assert checked.display_name == "Recu parking.jpg"
    pdf = pdf_bytes()
    document = files.check_upload(pdf, filename="r.pdf", allowed=files.RECEIPT_KINDS, max_bytes=10_000)
    assert (document.data, document.size, document.sha256) == (pdf, len(pdf), hashlib.sha256(pdf).hexdigest())


def test_empty_oversized_and_wrong_kinds_are_refused_with_clear_messages():
    with pytest.raises(files.UploadRejected, match="Select a file"):
        files.check_upload(b"", filename="", allowed=files.RECEIPT_KINDS, max_bytes=100)
    with pytest.raises(files.UploadRejected, match="The selected file is empty"):
        files.check_upload(b"", filename="photo.jpg", allowed=files.RECEIPT_KINDS, max_bytes=100)
    with pytest.raises(files.UploadRejected, match=r"must be smaller than 100 bytes \(it is 1 KB\)"):
        files.check_upload(b"\xff\xd8\xff" + b"0" * 1021, filename="a.jpg", allowed=files.RECEIPT_KINDS,
                           max_bytes=100)
    with pytest.raises(files.UploadRejected, match="must be a JPEG, PNG or PDF"):
        files.check_upload(b"<svg onload=alert(1)>", filename="receipt.jpg", allowed=files.RECEIPT_KINDS,
                           max_bytes=1000)
    with pytest.raises(files.UploadRejected, match="must be a PDF, DOCX or ODT"):
        files.check_upload(jpeg_bytes(), filename="essay.pdf", allowed=files.DOCUMENT_KINDS, max_bytes=1000)


def test_an_odt_whose_mimetype_names_another_format_is_not_recognised():
    assert files.detect_kind(odt_bytes().replace(b"opendocument.text", b"opendocument.sheet")) is None


@pytest.mark.parametrize(("raw", "kind", "safe"), [
    ("Zoë's essay (final).pdf", "pdf", "Zoe_s essay _final.pdf"),
    ('a"b;c\r\n.docx', "docx", "a_b_c.docx"),
    ("x" * 300 + ".pdf", "pdf", "x" * 146 + ".pdf"),
    ("Essay.DOCX", "docx", "Essay.docx"),
])
def test_display_names_keep_only_harmless_characters(raw, kind, safe):
    assert files.safe_display_name(raw, kind) == safe


@pytest.mark.parametrize(("filename", "data", "kind", "display_name"), [
    ("Essay.DOCX", docx_bytes(), "docx", "Essay.docx"),
    (" essay.odt ", odt_bytes(), "odt", "essay.odt"),
    ("photo.jpeg", jpeg_bytes(), "jpeg", "photo.jpg"),
])
def test_a_strict_name_is_accepted_when_its_extension_matches_the_content(filename, data, kind, display_name):
    checked = files.check_upload(data, filename=filename, allowed=files.DOCUMENT_KINDS | files.IMAGE_KINDS,
                                 max_bytes=10_000, strict_name=True)
    assert (checked.kind, checked.display_name) == (kind, display_name)


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("", pdf_bytes(), "Select a file"),
    (None, pdf_bytes(), "Select a file"),
    ("../../x.pdf", pdf_bytes(), "without folders"),
    ("..\\x.pdf", pdf_bytes(), "without folders"),
    ("folder/x.pdf", pdf_bytes(), "without folders"),
    ("C:\\Users\\x.pdf", pdf_bytes(), "without folders"),
    ("x\x00.pdf", pdf_bytes(), "without folders"),
    ("line\r\nbreak.pdf", pdf_bytes(), "without folders"),
    (".hidden.pdf", pdf_bytes(), "without folders"),
    ("essay", pdf_bytes(), "must be a PDF, DOCX or ODT"),
    ("essay.exe", pdf_bytes(), "must be a PDF, DOCX or ODT"),
    ("essay.pdf", b"", "The selected file is empty"),
    ("essay.pdf", b"MZ\x90\x00", "must be a PDF, DOCX or ODT"),
    ("essay.odt", docx_bytes(), "is a Word document (DOCX) but its name ends in .odt: rename it to end in .docx"),
    ("essay.docx", pdf_bytes(), "is a PDF but its name ends in .docx: rename it to end in .pdf"),
])
def test_a_strict_name_must_be_plain_and_match_the_content(filename, data, message):
    with pytest.raises(files.UploadRejected, match=re.escape(message)):
        files.check_upload(data, filename=filename, allowed=files.DOCUMENT_KINDS, max_bytes=10_000, strict_name=True)


def test_without_a_strict_name_the_uploaded_name_is_only_for_display():
    checked = files.check_upload(pdf_bytes(), filename="C:\\Users\\essay.docx", allowed=files.DOCUMENT_KINDS,
                                 max_bytes=10_000)
    assert (checked.kind, checked.display_name) == ("pdf", "essay.pdf")


def test_files_are_saved_under_random_names_readable_only_by_the_owner(tmp_path):
    first = files.save(tmp_path, b"one")
    second = files.save(tmp_path, b"one")
    assert first != second and len(first) == 32
    assert files.read(tmp_path, first) == b"one"
    assert oct(files.path_of(tmp_path, first).stat().st_mode & 0o777) == "0o600"
    files.delete(tmp_path, first)
    assert not files.exists(tmp_path, first)
    files.delete(tmp_path, first)  # already gone: nothing happens


@pytest.mark.parametrize("name", ["../etc/passwd", "a" * 32 + "/x", "ABCDEF" * 6, "", "0" * 31])
def test_names_that_are_not_stored_names_never_reach_the_disk(tmp_path, name):
    with pytest.raises(ValueError):
        files.read(tmp_path, name)
    assert not files.exists(tmp_path, name)


def test_download_names_are_safe_for_a_header():
    assert files.download_name('evil"; name=\r\nx.pdf', "pdf") == "evil_ name_x.pdf"
    assert files.download_name(None, "png") == "file.png"
    assert files.download_name("a" * 300 + ".png", "png").endswith(".png")
    assert len(files.download_name("a" * 300 + ".png", "png")) == files.NAME_MAX
