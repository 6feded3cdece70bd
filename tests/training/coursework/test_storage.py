"""Coursework's binding of `portal.core.files`: upload checks with real small PDF, DOCX and ODT files (refused
as coursework's UploadRejected, on the file field), and the store bound to the upload folder."""

from __future__ import annotations

import os
import stat

import pytest

from portal.training.coursework.errors import UploadRejected
from portal.training.coursework.storage import FileStore, check_upload
from tests.training.coursework.builders import docx_bytes, odt_bytes, pdf_bytes, plain_zip_bytes


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("essay.pdf", pdf_bytes(), "pdf"),
    ("Essay.DOCX", docx_bytes(), "docx"),
    ("essay.odt", odt_bytes(), "odt"),
])
def test_pdf_docx_and_odt_are_accepted_by_content(name, data, kind):
    checked = check_upload(name, data)
    assert checked.kind == kind
    assert checked.size == len(data)
    assert len(checked.sha256) == 64
    assert checked.display_name == f"{name.rpartition('.')[0]}.{kind}"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("", pdf_bytes(), "Select a file"),
    ("essay.pdf", b"", "The selected file is empty"),
    ("essay.exe", b"MZ\x90\x00", "must be a PDF, DOCX or ODT"),
    ("essay.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "must be a PDF, DOCX or ODT"),
    ("essay", pdf_bytes(), "must be a PDF, DOCX or ODT"),
    ("../../x.pdf", pdf_bytes(), "without folders"),
    ("C:\\Users\\x.pdf", pdf_bytes(), "without folders"),
    ("x\x00.pdf", pdf_bytes(), "without folders"),
    ("essay.pdf", b"MZ\x90\x00 this is a program", "must be a PDF, DOCX or ODT"),
    ("essay.pdf", b"%PDF-1.4 cut off half way", "must be a PDF, DOCX or ODT"),
    ("essay.docx", plain_zip_bytes(), "must be a PDF, DOCX or ODT"),
    ("essay.odt", docx_bytes(), "is a Word document (DOCX) but its name ends in .odt"),
    ("essay.docx", pdf_bytes(), "is a PDF but its name ends in .docx"),
    ("essay.pdf", b"<html><script>alert(1)</script></html>", "must be a PDF, DOCX or ODT"),
])
def test_bad_uploads_are_refused_with_a_clear_message(name, data, message):
    with pytest.raises(UploadRejected) as refused:
        check_upload(name, data)
    assert message in str(refused.value)
    assert refused.value.field == "file"


def test_too_large_a_file_is_refused_with_the_limit():
    with pytest.raises(UploadRejected, match=r"smaller than 1 KB \(it is 2 KB\)"):
        check_upload("essay.pdf", pdf_bytes() + b" " * 2048, max_bytes=1024)


def test_an_odt_whose_mimetype_names_another_format_is_refused():
    data = odt_bytes().replace(b"opendocument.text", b"opendocument.sheet")
    with pytest.raises(UploadRejected, match="must be a PDF, DOCX or ODT"):
        check_upload("sheet.odt", data)


@pytest.mark.parametrize(("raw", "data", "safe"), [
    ("Zoë's essay (final).pdf", pdf_bytes(), "Zoe_s essay _final.pdf"),
    ('a"b;c.docx', docx_bytes(), "a_b_c.docx"),
    ("x" * 300 + ".pdf", pdf_bytes(), "x" * 146 + ".pdf"),
])
def test_accepted_files_get_a_name_with_only_harmless_characters(raw, data, safe):
    assert check_upload(raw, data).display_name == safe


def test_store_keeps_files_under_random_ids_readable_by_the_owner_only(tmp_path):
    store = FileStore(tmp_path)
    first, second = store.save(b"one"), store.save(b"one")
    assert first != second
    assert store.read(first) == b"one"
    assert stat.S_IMODE(os.stat(store.path(first)).st_mode) == 0o600
    store.delete(first)
    assert not store.exists(first)
    with pytest.raises(ValueError):
        store.read("../../etc/passwd")
