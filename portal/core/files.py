"""Uploaded files kept safely: checked by content, stored outside `static/` under random names. Flask-free.

Contract (shared by expenses receipts and training coursework):

- `check_upload(data, filename=..., allowed=..., max_bytes=...)` decides what the bytes *are* from their
  content alone (JPEG, PNG, PDF, DOCX, ODT; DOCX and ODT are ZIP files recognised by their inner markers),
  refuses empty, oversized and unrecognised files with `UploadRejected` whose message tells the person what
  to do, then opens the file with a maintained parser and refuses what is unsafe or broken:

  - JPEG and PNG are opened with Pillow (that format only), refused above MAX_IMAGE_PIXELS before any pixel
    is decoded (a small file can declare a huge picture: a decompression bomb), fully decoded, turned
    upright by their EXIF orientation and **re-encoded**. The bytes to store are the new image: EXIF (GPS
    position, camera serial), comments, ICC profiles, text chunks and anything after the image's end are
    gone, so a JPEG/HTML or PNG/script polyglot is reduced to its pixels.
  - PDFs must start with `%PDF-`, end with `%%EOF` (whitespace after it only), carry no HTML markup in
    their first KB (what browsers sniff), parse with pypdf into a catalogue with at least one page, not be
    encrypted, and hold no active content anywhere reachable from the trailer: JavaScript (`/JS`,
    `/JavaScript` names), automatic actions (`/AA`, an `/OpenAction` other than going to a page), launch,
    import, submit, rendition and embedded-go-to actions, embedded or attached files, XFA forms, rich
    media. PDFs are stored as uploaded (a rewrite could change what the person signed or submitted).
  - DOCX and ODT are opened with `zipfile`: at most MAX_ARCHIVE_ENTRIES entries, no duplicate names, no
    encrypted entries, at most MAX_INFLATED_BYTES once inflated (every entry is inflated and its CRC
    checked, so sizes cannot lie), no entry over 1 MB that inflates more than MAX_COMPRESSION_RATIO
    times (zip bombs); the required parts present (`[Content_Types].xml`, `_rels/.rels`,
    `word/document.xml`; `mimetype` first, `content.xml`, `META-INF/manifest.xml`); no macros (VBA
    projects, macro-enabled content types or embedded macro-enabled files, ActiveX; ODF `Basic/`,
    `Scripts/`, `Dialogs/` and `vnd.sun.star.script` bindings). Stored as uploaded.
  - HEIC/HEIF photos are recognised but refused with a message saying how to send a JPEG instead: Pillow
    cannot decode them without a plugin this project does not carry, so they could be neither checked nor
    re-encoded. Phones lose nothing: iOS browsers convert HEIC to JPEG when the file input does not ask for
    HEIC, and the camera can be set to "Most Compatible".
  - Not judged: what a document links to (web links, OLE objects and external templates in a DOCX, data
    after a ZIP's directory). That is why documents are always downloaded, never shown by the browser.

  It returns a `CheckedUpload` with the kind, the bytes to store (`data`: re-encoded for images, as uploaded
  otherwise), whether they were `reencoded`, their size and SHA-256 (both describe the stored bytes), and a
  safe display name. The uploaded name is never trusted: a photo called `receipt.HEIC` that is really a
  JPEG is accepted as a JPEG (phones rename files), and the safe name gets the right extension.
  With `strict_name=True` (documents, where a wrong extension means the wrong file was chosen) the name
  must instead be a plain file name (no folders, `..`, leading dot or control characters) ending in an
  allowed extension that matches the content; otherwise the upload is refused saying how to fix it.
- `save(directory, data)` writes the bytes under a new random name (32 hex digits, in a two-character
  sub-folder, mode 0600) in `directory`, which the caller takes from its configuration and which must
  not be under `static/`. It returns the stored name; the uploaded name is never part of a path.
- `read(directory, stored_name)`, `path_of(...)`, `delete(...)` refuse anything that is not a stored
  name (no `..`, no slashes), so a name taken from a URL or a database row cannot reach other files.
- `download_name(name, kind)` builds a name safe for a Content-Disposition header.
- `may_show_inline(kind, reencoded)`: only images this module re-encoded may be shown in the browser;
  every other stored file is served as an attachment (see `portal.web.files`).

Callers store `CheckedUpload.data` (never the uploaded bytes), keep the metadata (stored name, kind, size,
SHA-256, display name, re-encoded) in their own tables and decide who may read a file; this module knows
nothing about people.
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
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps

from portal.core.errors import ValidationFailed


class UploadRejected(ValidationFailed):
    """The upload is empty, too large, not one of the allowed kinds or unsafe; the message says what to do."""


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
    # Recognised so the refusal can say what to do, and so receipts stored before HEIC was refused still
    # download with the right name and type; never accepted any more (see the module docstring).
    "heic": FileKind("heic", "image/heic", "heic", "a HEIC photo"),
    "heif": FileKind("heif", "image/heif", "heif", "a HEIF photo"),
    "pdf": FileKind("pdf", "application/pdf", "pdf", "a PDF"),
    "docx": FileKind(
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
        "a Word document (DOCX)",
    ),
    "odt": FileKind("odt", "application/vnd.oasis.opendocument.text", "odt", "an OpenDocument text file (ODT)"),
}
IMAGE_KINDS = frozenset({"jpeg", "png"})
RECEIPT_KINDS = frozenset({"jpeg", "png", "pdf"})
DOCUMENT_KINDS = frozenset({"pdf", "docx", "odt"})

# A 48-megapixel phone photo fits; decoding one takes about 150 MB of memory, which bounds what one upload
# can cost the server. Pillow's own bomb check (89 MP warning, 179 MP error) is turned into the same refusal.
MAX_IMAGE_PIXELS = 50_000_000
# Word and ODT files of real coursework inflate to a few MB even with photos in them.
MAX_INFLATED_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 1000
# XML compresses about 5 to 20 times; DEFLATE's limit is about 1000. Only entries over 1 MB are judged.
MAX_COMPRESSION_RATIO = 100
_RATIO_JUDGED_FROM = 1024 * 1024
# PDF objects followed from the trailer; a receipt or an essay has hundreds, a book tens of thousands.
MAX_PDF_OBJECTS = 100_000

NAME_MAX = 150
_STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
# Folder separators (either kind) and control characters: never part of a plain file name.
_NOT_PLAIN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_NOT_HEIF_BRANDS = {b"avif", b"avis"}
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Tags that make a browser (or an old one's sniffer) treat bytes as a web page; none belongs near the start
# of a real PDF or office document. (No tag that could be a PDF hex string, like `<a>`.)
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|iframe|frameset|svg|object|embed|style|meta|img|form)"
                     rb"[\s/>]", re.IGNORECASE)
_SNIFFED_BYTES = 1024
_MACRO_FILES = (".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".pptm", ".potm", ".ppsm", ".ppam")
_HEIC_MESSAGE = ("The selected file is an iPhone HEIC photo, which cannot be checked here: upload it as a JPEG "
                 "instead (on an iPhone, choose Settings, Camera, Formats, Most Compatible)")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, with the bytes to store: re-encoded for images, else as uploaded."""

    kind: str
    data: bytes = field(repr=False)
    reencoded: bool
    display_name: str

    @property
    def size(self) -> int:
        """The size of the stored bytes."""
        return len(self.data)

    @property
    def sha256(self) -> str:
        """The SHA-256 of the stored bytes, in hex."""
        return hashlib.sha256(self.data).hexdigest()

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


def may_show_inline(kind: str | None, reencoded: bool) -> bool:
    """Whether a stored file may be shown in the browser rather than downloaded: only images we re-encoded."""
    return bool(reencoded) and kind in IMAGE_KINDS


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
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError, NotImplementedError):
        return None
    return None


def detect_kind(data: bytes) -> str | None:
    """What the bytes claim to be, judged by content only: a key of KINDS, or None when not one of them.

    A first look only: `check_upload` then parses the file to see whether it really is one.
    """
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


def _damaged(kind: str) -> UploadRejected:
    label = KINDS[kind].label
    return UploadRejected(f"The selected file is not a complete, readable {label.partition(' ')[2]}: it may be "
                          f"damaged. Save or export it again and upload the new copy")


# ---------------------------------------------------------------------------------------------
# Images: decode with Pillow under a pixel limit, re-encode


class _TooManyPixels(Exception):
    """The image's header declares more than MAX_IMAGE_PIXELS."""


def _reencoded_image(data: bytes, kind: str) -> bytes:
    """The image decoded and saved again in the same format, upright, with nothing but its pixels."""
    file_format = "JPEG" if kind == "jpeg" else "PNG"
    try:
        with Image.open(io.BytesIO(data), formats=[file_format]) as image:
            # The header alone gives the size: refuse before decoding a single pixel.
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _TooManyPixels
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            clean = image.convert(_clean_mode(image, kind))
            # Clearing `info` drops EXIF, comments, ICC profiles and text chunks, which the encoders would
            # otherwise copy across.
            clean.info.clear()
            output = io.BytesIO()
            if kind == "jpeg":
                clean.save(output, "JPEG", quality=90, exif=b"")
            else:
                clean.save(output, "PNG")
            return output.getvalue()
    # Pillow's own bomb check runs inside Image.open (a warning from 89 MP, which the warning filters may turn
    # into an exception, and an error from 179 MP): the same refusal as ours.
    except (_TooManyPixels, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(f"The selected image is too large: it must be at most "
                             f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels. Take a smaller photo or resize it and "
                             "upload it again") from None
    # Pillow raises many kinds of error on broken input (OSError, SyntaxError, ValueError, struct.error…);
    # whichever it is, the file is not an image we can use.
    except Exception:
        raise _damaged(kind) from None


def _clean_mode(image: Image.Image, kind: str) -> str:
    if kind == "jpeg":
        return "L" if image.mode == "L" else "RGB"
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return "RGBA"
    return "L" if image.mode in ("1", "L") else "RGB"


# ---------------------------------------------------------------------------------------------
# PDFs: parse with pypdf, refuse encryption and active content


def _check_pdf(data: bytes) -> None:
    if data[data.rfind(b"%%EOF") + 5:].strip(b" \t\r\n\x00"):
        raise UploadRejected("The selected PDF has something added after its end: save or print it as a new PDF "
                             "and upload that")
    if _MARKUP.search(data[:_SNIFFED_BYTES]):
        raise UploadRejected("The selected file is not a plain PDF (it has web page markup in it): save or print "
                             "it as a new PDF and upload that")
    # Imported here, not at the top: pypdf adds about 17 MB to every web worker, and most never see a PDF.
    from portal.core.pdf_content import DictionaryObject, PdfReader, active_content

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted:
            root = reader.trailer["/Root"].get_object()
            if not isinstance(root, DictionaryObject) or root.get("/Type") != "/Catalog" or len(reader.pages) < 1:
                raise _damaged("pdf")
            found = active_content(reader.trailer, max_objects=MAX_PDF_OBJECTS)
    except UploadRejected:
        raise
    # pypdf raises many kinds of error on broken input (PdfReadError, KeyError, ValueError, RecursionError…);
    # whichever it is, the file is not a PDF we can accept.
    except Exception:
        raise _damaged("pdf") from None
    if encrypted:
        raise UploadRejected("The selected PDF is password-protected or locked: save or print it as a new PDF "
                             "without a password and upload that")
    if found:
        raise UploadRejected(f"The selected PDF contains {found}, which is not allowed: print it to a new PDF "
                             "(Print, then Save as PDF) and upload that")


# ---------------------------------------------------------------------------------------------
# DOCX and ODT: zip structure, inflated size, macros


def _check_document_archive(data: bytes, kind: str) -> None:
    if _MARKUP.search(data[:_SNIFFED_BYTES]):
        raise UploadRejected(f"The selected file is not a plain {KINDS[kind].label.partition(' ')[2]} (it has web "
                             "page markup in it): save it again and upload the new copy")
    try:
        problem = _document_archive_problem(data, kind)
    # zipfile and zlib raise many kinds of error on broken input (BadZipFile, zlib.error, EOFError…).
    except Exception:
        raise _damaged(kind) from None
    if problem:
        raise UploadRejected(problem)


def _document_archive_problem(data: bytes, kind: str) -> str | None:
    """Why the DOCX or ODT in `data` is refused (a message for the person), or None; exceptions if broken."""
    what = "Word document" if kind == "docx" else "document"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(infos) > MAX_ARCHIVE_ENTRIES:
            return (f"The selected {what} has more than {MAX_ARCHIVE_ENTRIES:,} parts inside it: save it again "
                    "as a new file and upload that")
        if len(set(names)) != len(names):
            raise zipfile.BadZipFile("duplicate entries")
        too_big = (f"The selected {what} would be larger than {size_label(MAX_INFLATED_BYTES)} once opened: "
                   "remove large pictures or embedded files, save it again and upload that")
        if sum(info.file_size for info in infos) > MAX_INFLATED_BYTES:
            return too_big
        for info in infos:
            if info.flag_bits & 0x1:
                return (f"The selected {what} is password-protected: save a copy without a password and upload "
                        "that")
            if info.file_size > _RATIO_JUDGED_FROM and info.file_size > MAX_COMPRESSION_RATIO * info.compress_size:
                return too_big
        required = (("[Content_Types].xml", "_rels/.rels", "word/document.xml") if kind == "docx"
                    else ("mimetype", "content.xml", "META-INF/manifest.xml"))
        if any(name not in names for name in required):
            raise zipfile.BadZipFile("a required part is missing")
        if any(_is_macro_part(name, kind) for name in names):
            return _macros(what, kind)
        # Inflating every entry checks its CRC and that it holds no more than its header says.
        for info in infos:
            marker = _macro_marker(info.filename, kind)
            tail = b""
            with archive.open(info) as entry:
                while chunk := entry.read(64 * 1024):
                    if marker and marker in (tail + chunk).lower():
                        return _macros(what, kind)
                    tail = chunk[-64:]
    return None


def _is_macro_part(name: str, kind: str) -> bool:
    lowered = name.lower()
    if kind == "docx":
        return (lowered.endswith(("vbaproject.bin", "vbadata.xml", *_MACRO_FILES))
                or "/activex/" in f"/{lowered}")
    return lowered.startswith(("basic/", "scripts/", "dialogs/")) or lowered.endswith(_MACRO_FILES)


def _macro_marker(name: str, kind: str) -> bytes | None:
    """The text (lower case) whose presence in this entry means macros: a macro-enabled content type in a
    DOCX's `[Content_Types].xml`, a script binding in an ODT's XML."""
    if kind == "docx":
        return b"macroenabled" if name == "[Content_Types].xml" else None
    return b"vnd.sun.star.script" if name.lower().endswith(".xml") else None


def _macros(what: str, kind: str) -> str:
    plain = "a Word document (.docx)" if kind == "docx" else "an ODT document (.odt)"
    return f"The selected {what} contains macros, which are not allowed: save it as {plain} without macros and " \
           "upload that"


# ---------------------------------------------------------------------------------------------
# The check


def check_upload(
    data: bytes, *, filename: str | None, allowed: Collection[str], max_bytes: int, strict_name: bool = False,
) -> CheckedUpload:
    """Accept `data` if it is non-empty, at most `max_bytes`, by content one of `allowed` kinds, and passes
    that kind's checks (see the module docstring); return the bytes to store.

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
    if kind in ("heic", "heif"):
        raise UploadRejected(_HEIC_MESSAGE if "jpeg" in allowed else
                             f"The selected file must be a {_kinds_in_words(allowed)}")
    if kind is None or kind not in allowed:
        raise UploadRejected(f"The selected file must be a {_kinds_in_words(allowed)}")
    if extension is not None and extension not in KINDS[kind].extensions:
        raise UploadRejected(f"The selected file is {KINDS[kind].label} but its name ends in .{extension}: "
                             f"rename it to end in .{KINDS[kind].extension} and upload it again")
    stored, reencoded = data, False
    if kind in IMAGE_KINDS:
        stored, reencoded = _reencoded_image(data, kind), True
    elif kind == "pdf":
        _check_pdf(data)
    else:
        _check_document_archive(data, kind)
    return CheckedUpload(kind=kind, data=stored, reencoded=reencoded, display_name=safe_display_name(filename, kind))


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
