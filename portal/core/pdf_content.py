"""What a PDF can do when opened: active content reachable from its trailer (scripts, launch actions,
embedded files, forms that submit), read with pypdf. `portal.core.files` imports this module only when a
PDF is uploaded, so web workers that never see one do not load pypdf."""

from __future__ import annotations

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

__all__ = ["DictionaryObject", "PdfReader", "active_content", "open_action_problem"]

_PDF_ACTIVE_KEYS = {
    "/JS": "JavaScript", "/JavaScript": "JavaScript", "/AA": "actions that run by themselves",
    "/EmbeddedFiles": "embedded files", "/EmbeddedFile": "embedded files", "/EF": "embedded files",
    "/XFA": "an XFA form", "/RichMedia": "rich media",
}
_PDF_ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript", "/Launch": "an action that starts a program", "/ImportData": "a data import",
    "/SubmitForm": "a form that sends data away", "/GoToE": "embedded files", "/Rendition": "media actions",
    "/RichMediaExecute": "rich media",
}

def active_content(trailer: DictionaryObject, *, max_objects: int) -> str | None:
    """What active content is reachable from the trailer (in words), or None; more than `max_objects`
    dictionaries and arrays is itself a refusal."""
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference in seen:
                continue
            seen.add(reference)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            visited += 1
            for key, value in item.items():
                if key in _PDF_ACTIVE_KEYS:
                    return _PDF_ACTIVE_KEYS[key]
                if key == "/OpenAction" and (found := open_action_problem(value)):
                    return found
                stack.append(value)
            action = item.get("/S")
            if isinstance(action, str) and action in _PDF_ACTIVE_ACTIONS:
                return _PDF_ACTIVE_ACTIONS[action]
            if item.get("/Subtype") == "/FileAttachment":
                return "attached files"
        elif isinstance(item, ArrayObject):
            visited += 1
            stack.extend(item)
        if visited > max_objects:
            return f"more than {max_objects:,} objects"
    return None


def open_action_problem(value: object) -> str | None:
    """What an /OpenAction does (in words) unless it only opens at a page: a destination or a plain GoTo."""
    value = value.get_object() if isinstance(value, IndirectObject) else value
    if isinstance(value, ArrayObject):
        return None
    action = value.get("/S") if isinstance(value, DictionaryObject) else None
    if action == "/GoTo" and "/Next" not in value:
        return None
    if isinstance(action, str) and action in _PDF_ACTIVE_ACTIONS:
        return _PDF_ACTIVE_ACTIONS[action]
    return "an action that runs when it is opened"
