"""Uploaded files kept safely: checked by content, stored outside `static/` under random names. Flask-free.

Contract (shared by expenses receipts and, later, training coursework):

- `check_upload(data, filename=..., allowed=..., max_bytes=...)` decides what the bytes *are* from their
  content alone (JPEG, PNG, HEIC/HEIF, PDF, DOCX, ODT; DOCX and ODT are ZIP files recognised by their
  inner markers), refuses empty, oversized and unrecognised files with `UploadRejected` whose message
  tells the person what to do, and returns a `CheckedUpload` with the kind, size, SHA-256 and a safe
  display name. The uploaded name is never trusted: a photo called `receipt.HEIC` that is really a JPEG
  is accepted as a JPEG (phones rename files), and the safe name gets the right extension.
  With `strict_name=True` (documents, where a wrong extension means the wrong file was chosen) the name
  must instead be a plain file name (no folders, `..`, leading dot or control characters) ending in an
  allowed extension that matches the content; otherwise the upload is refused saying how to fix it.
- `save(directory, data)` writes the bytes under a new random name (32 hex digits, in a two-character
  sub-folder, mode 0600) in `directory`, which the caller takes from its configuration and which must
  not be under `static/`. It returns the stored name; the uploaded name is never part of a path.
- `read(directory, stored_name)`, `path_of(...)`, `delete(...)` refuse anything that is not a stored
  name (no `..`, no slashes), so a name taken from a URL or a database row cannot reach other files.
- `download_name(name, kind)` builds a name safe for a Content-Disposition header.

Callers keep the metadata (stored name, kind, size, SHA-256, display name) in their own tables and
decide who may read a file; this module knows nothing about people.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from portal.core.errors import ValidationFailed


class UploadRejected(ValidationFailed):
    """The upload is empty, too large or not one of the allowed kinds; the message says what to do."""


@dataclass(frozen=True)
class FileKind:
    kind: str
    content_type: str
    extension: str
    label: str
    other_extensions: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        """Every extension a name of this kind may end in (lower case, without the dot)."""
        return (self.extension, *self.other_extensions)


KINDS: dict[str, FileKind] = {
    "jpeg": FileKind("jpeg", "image/jpeg", "jpg", "a JPEG photo", ("jpeg",)),
    "png": FileKind("png", "image/png", "png", "a PNG image"),
    "heic": FileKind("heic", "image/heic", "heic", "a HEIC photo"),
    "heif": FileKind("heif", "image/heif", "heif", "a HEIF photo"),
    "pdf": FileKind("pdf", "application/pdf", "pdf", "a PDF"),
    "docx": FileKind(
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
        "a Word document (DOCX)",
    ),
    "odt": FileKind("odt", "application/vnd.oasis.opendocument.text", "odt", "an OpenDocument text file (ODT)"),
}
IMAGE_KINDS = frozenset({"jpeg", "png", "heic", "heif"})
RECEIPT_KINDS = frozenset({"jpeg", "png", "heic", "heif", "pdf"})
DOCUMENT_KINDS = frozenset({"pdf", "docx", "odt"})

NAME_MAX = 150
_STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
# Folder separators (either kind) and control characters: never part of a plain file name.
_NOT_PLAIN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_NOT_HEIF_BRANDS = {b"avif", b"avis"}
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check."""

    kind: str
    size: int
    sha256: str
    display_name: str

    @property
    def content_type(self) -> str:
        return KINDS[self.kind].content_type


def size_label(size: int) -> str:
    """A size in the units people use: '900 bytes', '12 KB', '3.4 MB'."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _iso_brands(data: bytes) -> set[bytes]:
    """The brands of an ISO base media file (HEIC, HEIF, AVIF, MP4): major and compatible, or empty."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    box_size = int.from_bytes(data[0:4], "big")
    if box_size < 16 or box_size > min(len(data), 4096):
        return set()
    brands = {data[8:12]}
    brands.update(data[offset:offset + 4] for offset in range(16, box_size - 3, 4))
    return brands


def _zip_kind(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
        # An ODT's first entry is an uncompressed `mimetype` file naming the format.
        if names and names[0] == "mimetype" and "content.xml" in names:
            info = archive.getinfo("mimetype")
            if info.file_size <= 100 and archive.read("mimetype").strip() == _ODT_MIMETYPE:
                return "odt"
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError):
        return None
    return None


def detect_kind(data: bytes) -> str | None:
    """What the bytes are, judged by content only: a key of KINDS, or None when not one of them."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"%PDF-"):
        # A complete PDF ends with %%EOF (perhaps followed by whitespace or padding).
        return "pdf" if b"%%EOF" in data[-2048:] else None
    brands = _iso_brands(data)
    if brands & _HEIC_BRANDS:
        return "heic"
    if brands & _HEIF_BRANDS and not brands & _NOT_HEIF_BRANDS:
        return "heif"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def _kinds_in_words(allowed: Collection[str]) -> str:
    names = []
    for kind in KINDS:
        if kind in allowed:
            name = "HEIC" if kind in ("heic", "heif") else kind.upper()
            if name not in names:
                names.append(name)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def safe_display_name(filename: str | None, kind: str) -> str:
    """The uploaded name made safe to show and to download: ASCII letters, digits, spaces, dots, hyphens and
    underscores (accents folded), at most NAME_MAX characters, ending in the extension of what it really is."""
    base = os.path.basename((filename or "").replace("\\", "/"))
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9 ._-]+", "_", folded).strip(" ._")
    stem = cleaned.rpartition(".")[0] if "." in cleaned else cleaned
    stem = stem.strip(" ._") or "file"
    extension = KINDS[kind].extension
    return f"{stem[: NAME_MAX - len(extension) - 1]}.{extension}"


def download_name(filename: str | None, kind: str) -> str:
    """A name safe for `Content-Disposition: attachment; filename="..."` (no quotes, slashes or controls)."""
    return safe_display_name(filename, kind)


def _check_name(filename: str, allowed: Collection[str]) -> str:
    """The extension of a plain file name ending in one of the `allowed` kinds' extensions; UploadRejected if
    there is no name, it has folders or `..` or control characters in it, or it ends otherwise."""
    if not filename:
        raise UploadRejected("Select a file")
    if _NOT_PLAIN_NAME.search(filename) or filename.startswith("."):
        raise UploadRejected("The file name must be a plain name without folders or ‘..’: rename the file and "
                             "upload it again")
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if not any(extension in KINDS[kind].extensions for kind in allowed):
        raise UploadRejected(f"The selected file must be a {_kinds_in_words(allowed)}")
    return extension


def check_upload(
    data: bytes, *, filename: str | None, allowed: Collection[str], max_bytes: int, strict_name: bool = False,
) -> CheckedUpload:
    """Accept `data` if it is non-empty, at most `max_bytes`, and by content one of `allowed` kinds.

    With `strict_name`, `filename` must also be a plain name (no folders, `..`, leading dot or control
    characters) whose extension matches what the content is. Raises UploadRejected with a message for the
    person who chose the file.
    """
    extension = _check_name((filename or "").strip(), allowed) if strict_name else None
    if data is None or (not data and not (filename or "").strip()):
        raise UploadRejected("Select a file")
    if not data:
        raise UploadRejected("The selected file is empty")
    if len(data) > max_bytes:
        raise UploadRejected(
            f"The selected file must be smaller than {size_label(max_bytes)} (it is {size_label(len(data))})"
        )
    kind = detect_kind(data)
    if kind is None or kind not in allowed:
        raise UploadRejected(f"The selected file must be a {_kinds_in_words(allowed)}")
    if extension is not None and extension not in KINDS[kind].extensions:
        raise UploadRejected(f"The selected file is {KINDS[kind].label} but its name ends in .{extension}: "
                             f"rename it to end in .{KINDS[kind].extension} and upload it again")
    return CheckedUpload(
        kind=kind, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        display_name=safe_display_name(filename, kind),
    )


def path_of(directory: str | os.PathLike[str], stored_name: str) -> Path:
    """Where a stored file lives; ValueError for anything that is not a stored name."""
    if not isinstance(stored_name, str) or not _STORED_NAME.match(stored_name):
        raise ValueError("not a stored file name")
    return Path(directory) / stored_name[:2] / stored_name


def save(directory: str | os.PathLike[str], data: bytes) -> str:
    """Write `data` under a new random name in `directory` (created if missing) and return the name.

    The file is written beside its final place and renamed, so a reader never sees half a file.
    """
    stored_name = secrets.token_hex(16)
    path = path_of(directory, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)
    return stored_name


def read(directory: str | os.PathLike[str], stored_name: str) -> bytes:
    """The bytes of a stored file; FileNotFoundError if it is gone, ValueError for a bad name."""
    return path_of(directory, stored_name).read_bytes()


def exists(directory: str | os.PathLike[str], stored_name: str) -> bool:
    try:
        return path_of(directory, stored_name).is_file()
    except ValueError:
        return False


def delete(directory: str | os.PathLike[str], stored_name: str) -> None:
    """Remove a stored file (nothing happens if it is already gone)."""
    path_of(directory, stored_name).unlink(missing_ok=True)
