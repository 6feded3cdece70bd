"""The volunteers blueprint object, and the panels other volunteer pages add to an application's pages.

A panel is a template plus a function that gives its context: the interview, references, offer and
notes pages each register one, so the coordinator's application page and the applicant's progress
page show them without those two routes knowing about every stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint

bp = Blueprint("volunteers", __name__, url_prefix="/volunteering")


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[Any], Mapping[str, Any]]


@dataclass(frozen=True)
class RenderedPanel:
    template: str
    context: Mapping[str, Any]


COORDINATOR_PANELS: list[Panel] = []
APPLICANT_PANELS: list[Panel] = []


def coordinator_panel(order: int, template: str):
    """Register `function(application) -> context` to render `template` on the coordinator's
    application page, in `order` (lower first). A context of None hides the panel."""
    def register(function: Callable[[Any], Mapping[str, Any]]):
        COORDINATOR_PANELS.append(Panel(order, template, function))
        COORDINATOR_PANELS.sort(key=lambda panel: panel.order)
        return function
    return register


def applicant_panel(order: int, template: str):
    """As coordinator_panel, for the applicant's progress page."""
    def register(function: Callable[[Any], Mapping[str, Any]]):
        APPLICANT_PANELS.append(Panel(order, template, function))
        APPLICANT_PANELS.sort(key=lambda panel: panel.order)
        return function
    return register


def render_panels(panels: list[Panel], application: Any) -> list[RenderedPanel]:
    """The panels to show for `application`; templates include each with `panel.context` as `ctx`."""
    rendered = []
    for panel in panels:
        context = panel.context(application)
        if context is not None:
            rendered.append(RenderedPanel(panel.template, context))
    return rendered
