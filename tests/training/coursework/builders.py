"""Builders for coursework tests: small real PDF, DOCX and ODT files, assignments and work at each stage.

Every builder flushes and never commits. The stage builders go through the services, so the work they make
is exactly what the services would make.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from pypdf import PdfWriter
from pypdf.actions import JavaScript
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.training.coursework import services
from portal.training.coursework.models import Assignment, Attempt, Outcome
from portal.training.coursework.storage import FileStore
from portal.training.models import Cohort, Enrolment
from tests.training.builders import NOW, enrol, make_cohort, make_coordinator, make_trainer

RUBRIC = "Reflection: Not yet | Meets | Exceeds\nUse of theory: Not yet | Meets | Exceeds"
DUE = NOW + dt.timedelta(days=21)
LATER = NOW + dt.timedelta(days=22)


def pdf_bytes(body: str = "Reflective essay") -> bytes:
    """A real one-page PDF made with pypdf, distinct per body (its title)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": body})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes(body: str = "Reflective essay") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                                'package/2006/content-types"/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("word/document.xml", f'<?xml version="1.0"?><w:document><w:body>{body}</w:body></w:document>')
    return buffer.getvalue()


def odt_bytes(body: str = "Reflective essay") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", f'<?xml version="1.0"?><office:document-content>{body}'
                                        "</office:document-content>", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


def macro_docx_bytes() -> bytes:
    """A Word document with a VBA project in it (what Word saves as .docm), named as a .docx would be."""
    plain = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in plain.namelist():
            archive.writestr(name, plain.read(name))
        archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Sub AutoOpen()")
    return buffer.getvalue()


def scripted_pdf_bytes() -> bytes:
    """A one-page PDF that runs JavaScript when it is opened."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_open_action(JavaScript("app.launchURL('https://attacker.example/')"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a document")
    return buffer.getvalue()


class Setting:
    """A cohort with two trainers and a coordinator, an assignment with a rubric, and enrolled volunteers."""

    def __init__(self, session: Session, *, volunteers: int = 2, moderate_one_in: int = 5):
        self.session = session
        self.coordinator = make_coordinator(session)
        self.trainer = make_trainer(session, name="Tara Trainer")
        self.second = make_trainer(session, name="Sam Second")
        self.cohort: Cohort = make_cohort(session, trainers=[self.trainer, self.second])
        self.enrolments: list[Enrolment] = [enrol(session, self.cohort) for _ in range(volunteers)]
        self.assignment: Assignment = services.create_assignment(
            session, self.cohort.id,
            services.AssignmentDetails(title="Reflective essay", instructions="Reflect on a role play.", due_at=DUE,
                                       rubric=RUBRIC, moderate_one_in=moderate_one_in),
            actor=self.coordinator, now=NOW,
        )

    @property
    def volunteer(self) -> User:
        return self.enrolments[0].user

    def submit(self, store: FileStore, index: int = 0, *, now: dt.datetime = NOW, **kwargs) -> Attempt:
        kwargs.setdefault("text", "My reflections on the role play.")
        kwargs.setdefault("anonymised", True)
        return services.submit_work(self.session, self.assignment.id, store=store,
                                    actor=self.enrolments[index].user, now=now, **kwargs)

    def mark(self, store: FileStore, index: int = 0, *, outcome: Outcome = Outcome.PASS, marker: User | None = None,
             now: dt.datetime = NOW) -> Attempt:
        marker = marker or self.trainer
        attempt = self.submit(store, index, now=now)
        services.start_marking(self.session, attempt.id, actor=marker, now=now)
        return services.save_marking(
            self.session, attempt.id, levels={"Reflection": "Meets", "Use of theory": "Meets"}, outcome=outcome,
            feedback="Thoughtful work.", resubmit_due_at=now + dt.timedelta(days=14) if outcome is Outcome.REFER
            else None, actor=marker, now=now,
        )
