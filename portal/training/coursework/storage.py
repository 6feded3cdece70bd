"""Coursework files: checking an upload (name, size, type by content) and keeping it outside `static/`
under a random id, never under the name it was uploaded with. Flask-free.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype

from portal.training.coursework.errors import UploadRejected

MAX_FILE_BYTES = 5 * 1024 * 1024
KINDS = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "odt": "application/vnd.oasis.opendocument.text"}
KIND_NAMES = {"pdf": "a PDF", "docx": "a Word document (DOCX)", "odt": "an OpenDocument text file (ODT)"}
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
NAME_MAX = 150
_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|(^|[/\\])\.\.")


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check: a safe display name, its kind (pdf, docx, odt), size, SHA-256."""

    name: str
    kind: str
    size: int
    sha256: str
    data: bytes

    @property
    def content_type(self) -> str:
        return KINDS[self.kind]


def size_label(size: int) -> str:
    """A file size in the units people use ("12 KB", "3.4 MB")."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def safe_name(name: str) -> str:
    """The uploaded name made safe to show and to offer for download: letters, digits, spaces, dots, hyphens
    and underscores only (accents folded), at most NAME_MAX characters, the extension kept."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9 ._-]+", "_", folded).strip(" ._") or "coursework"
    stem, dot, extension = cleaned.rpartition(".")
    if not dot:
        return cleaned[:NAME_MAX]
    return f"{stem[: NAME_MAX - len(extension) - 1]}.{extension}"


def _zip_kind(data: bytes) -> str | None:
    """'docx' or 'odt' when the ZIP container holds that format's markers; None otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
        # An ODT's first entry is an uncompressed `mimetype` file naming the format.
        if names and names[0] == "mimetype" and "content.xml" in names:
            info = archive.getinfo("mimetype")
            if info.file_size <= 100 and archive.read("mimetype").strip() == ODT_MIMETYPE:
                return "odt"
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError):
        return None
    return None


def detect_kind(data: bytes) -> str | None:
    """What the bytes are, judged by their content only: 'pdf', 'docx', 'odt', or None."""
    guessed = filetype.guess(data)
    if guessed is None:
        return None
    if guessed.extension == "pdf":
        # A PDF starts with %PDF- and ends with %%EOF (allowing trailing whitespace or padding).
        return "pdf" if b"%%EOF" in data[-2048:] else None
    if guessed.mime in (KINDS["docx"], KINDS["odt"], "application/zip"):
        return _zip_kind(data)
    return None


def check_upload(name: str | None, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> CheckedFile:
    """Accept a PDF, DOCX or ODT under `max_bytes` whose content matches its name, or raise UploadRejected
    saying what is wrong and what to do."""
    name = (name or "").strip()
    if not name:
        raise UploadRejected("Select a file to upload")
    if _UNSAFE_NAME.search(name) or name.startswith("."):
        raise UploadRejected("The file name must be a plain name, like essay.pdf, without folders or ‘..’: "
                             "rename the file and upload it again")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in KINDS:
        raise UploadRejected("The selected file must be a PDF, DOCX or ODT")
    if not data:
        raise UploadRejected("The selected file is empty")
    if len(data) > max_bytes:
        raise UploadRejected(f"The selected file must be smaller than {size_label(max_bytes)} "
                             f"(it is {size_label(len(data))})")
    kind = detect_kind(data)
    if kind is None:
        raise UploadRejected(f"The selected file is not {KIND_NAMES[extension]}, though its name ends in "
                             f".{extension}: save it again as a PDF, DOCX or ODT and upload that")
    if kind != extension:
        raise UploadRejected(f"The selected file is {KIND_NAMES[kind]} but its name ends in .{extension}: "
                             f"rename it to end in .{kind} and upload it again")
    return CheckedFile(name=safe_name(name), kind=kind, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                       data=data)


class FileStore:
    """Files kept in a private folder (never under `static/`), each under a random 32-hex-digit id."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, file_id: str) -> Path:
        if not _FILE_ID.match(file_id or ""):
            raise ValueError("not a coursework file id")
        return self.root / file_id[:2] / file_id

    def save(self, data: bytes) -> str:
        """Write `data` under a new random id (readable by this process's user only) and return the id."""
        file_id = secrets.token_hex(16)
        path = self._path(file_id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
        return file_id

    def read(self, file_id: str) -> bytes:
        return self._path(file_id).read_bytes()

    def path(self, file_id: str) -> Path:
        return self._path(file_id)

    def exists(self, file_id: str) -> bool:
        return self._path(file_id).is_file()

    def delete(self, file_id: str) -> None:
        self._path(file_id).unlink(missing_ok=True)
