"""Coursework files: what coursework accepts and where a submission's file is kept. Flask-free.

Checking (type by content, structure, no scripts or macros, size, safe names) and storing (random names, mode
0600, outside `static/`) are `portal.core.files`; this module only binds them to coursework: PDF, DOCX or ODT
up to MAX_FILE_BYTES whose name must match what the file is, refusals raised as coursework's `UploadRejected`
(which names the form's file field), and a `FileStore` bound to the coursework upload folder that the
services are handed. Store `CheckedUpload.data`, the bytes the checks passed.
"""

from __future__ import annotations

import os
from pathlib import Path

from portal.core import files
from portal.training.coursework.errors import UploadRejected

MAX_FILE_BYTES = 5 * 1024 * 1024
ALLOWED_KINDS = files.DOCUMENT_KINDS


def check_upload(name: str | None, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> files.CheckedUpload:
    """Accept a PDF, DOCX or ODT under `max_bytes` whose content matches its plain name, or raise UploadRejected
    saying what is wrong and what to do."""
    try:
        return files.check_upload(data, filename=name, allowed=ALLOWED_KINDS, max_bytes=max_bytes, strict_name=True)
    except files.UploadRejected as problem:
        raise UploadRejected(str(problem)) from problem


class FileStore:
    """The coursework upload folder (never under `static/`): `portal.core.files` storage bound to `root`."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def save(self, data: bytes) -> str:
        """Write `data` under a new random id (readable by this process's user only) and return the id."""
        return files.save(self.root, data)

    def read(self, file_id: str) -> bytes:
        return files.read(self.root, file_id)

    def path(self, file_id: str) -> Path:
        return files.path_of(self.root, file_id)

    def exists(self, file_id: str) -> bool:
        return files.exists(self.root, file_id)

    def delete(self, file_id: str) -> None:
        files.delete(self.root, file_id)
