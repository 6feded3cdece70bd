"""GOV.UK pagination for any paginated list: reading `?page=` and building govukPagination's parameters."""

from __future__ import annotations

from flask import url_for

from portal.core.paging import PageWindow
from portal.web.input import int_arg


def page_arg(name: str = "page") -> int:
    """The requested page number: 1 when missing, not a number, below 1 or absurdly large (the list
    then clamps it to its last page)."""
    return int_arg(name, 1, minimum=1, maximum=1_000_000)


def pagination(window: PageWindow, endpoint: str, query: dict[str, str], *, label: str, **values) -> dict | None:
    """govukPagination's parameters for `window` (None when there is one page): previous, next, the first
    and last pages and those either side of the current one. Every link is `url_for(endpoint, **values,
    **query, page=n)`, so the filters in `query` survive paging. `label` names the landmark."""
    if window.pages <= 1:
        return None
    query = {key: value for key, value in query.items() if key != "page" and value not in (None, "")}

    def href(number: int) -> str:
        return url_for(endpoint, **values, **query, page=number)

    items: list[dict] = []
    before = 0
    shown = {1, window.page - 1, window.page, window.page + 1, window.pages} & set(range(1, window.pages + 1))
    for number in sorted(shown):
        if number > before + 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == window.page})
        before = number
    links: dict = {"items": items, "landmarkLabel": label}
    if window.has_previous:
        links["previous"] = {"href": href(window.page - 1)}
    if window.has_next:
        links["next"] = {"href": href(window.page + 1)}
    return links
