"""Builders for expense claim tests: plain functions that flush (never commit), through the services."""

from __future__ import annotations

import datetime as dt
import io
import zlib
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfWriter
from sqlalchemy.orm import Session

from portal.core.accounts import Role, User
from portal.expenses import services
from portal.expenses.models import Claim, ClaimLine
from tests.builders import FIXED_NOW, make_user

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC
TODAY = NOW.date()


def make_volunteer(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.VOLUNTEER,), **overrides)


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def make_admin(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.ADMIN,), **overrides)


def mileage_data(miles: str = "20", *, spent_on: dt.date = TODAY, vehicle: str = "car_van", passengers: int = 0,
                 **overrides: Any) -> dict[str, Any]:
    return {"spent_on": spent_on, "category": "mileage", "description": "Drove to the training venue",
            "from_place": "CM1 1AA", "to_place": "CO1 1AA", "miles": miles, "vehicle": vehicle,
            "passengers": str(passengers), **overrides}


def expense_data(amount: str = "4.50", *, category: str = "parking", spent_on: dt.date = TODAY,
                 **overrides: Any) -> dict[str, Any]:
    return {"spent_on": spent_on, "category": category, "description": "Car park at the venue",
            "amount": amount, **overrides}


def jpeg_bytes(seed: int = 0) -> bytes:
    """A real small JPEG made with Pillow, distinct per seed (its size encodes the seed, and survives
    re-encoding)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8 + seed % 256, 8 + seed // 256 % 256), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def png_bytes(seed: int = 0) -> bytes:
    """A real 1×1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixel = zlib.compress(b"\x00" + bytes([seed % 256, 0, 0]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


def heic_bytes() -> bytes:
    """The start of an iPhone HEIC photo: an ftyp box with brand heic, compatible mif1 and heic."""
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return (len(ftyp) + 4).to_bytes(4, "big") + ftyp + b"\x00" * 200


def pdf_bytes(title: str = "Receipt") -> bytes:
    """A real one-page PDF made with pypdf."""
    writer = PdfWriter()
    writer.add_blank_page(width=298, height=420)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def start_claim(session: Session, volunteer: User, *, now: dt.datetime = NOW) -> Claim:
    return services.start_claim(session, actor=volunteer, now=now)


def add_line(session: Session, claim: Claim, data: dict[str, Any], *, now: dt.datetime = NOW) -> ClaimLine:
    return services.save_line(session, claim.id, data, actor=claim.claimant, now=now)


def make_submitted_claim(session: Session, volunteer: User, receipts_dir: Path, *, now: dt.datetime = NOW,
                         amount: str = "12.00", miles: str | None = "20") -> Claim:
    """A submitted claim with a parking line (with a receipt) and, unless miles is None, a mileage line."""
    claim = start_claim(session, volunteer, now=now)
    if miles:
        add_line(session, claim, mileage_data(miles, spent_on=now.date()), now=now)
    line = add_line(session, claim, expense_data(amount, spent_on=now.date()), now=now)
    services.add_receipt(session, line.id, jpeg_bytes(claim.id), filename="IMG_0001.HEIC", directory=receipts_dir,
                         actor=volunteer, now=now)
    services.submit_claim(session, claim.id, actor=volunteer, now=now)
    return claim


