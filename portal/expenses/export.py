"""Payment batch files for finance: one row per claim (payee, reference, total, cost code) and one row
per approved line, as CSV and as an XLSX workbook with a Claims sheet and a Lines sheet. Flask-free.

Amounts are written as exact decimal pounds (from integer pence). No participant data: lines carry the
claimant's own description and the activity's label (a case reference, never a party's name).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from openpyxl import Workbook

from portal.expenses.models import LineDecision, PaymentBatch

CLAIM_HEADERS = ["Batch", "Claim reference", "Payee", "Payee email", "Total (£)", "Cost code", "Approved on",
                 "Lines"]
LINE_HEADERS = ["Claim reference", "Payee", "Date", "Category", "Description", "For", "From", "To", "Miles",
                "Vehicle", "Passengers", "Rate (p/mile)", "Miles at lower rate", "Lower rate (p/mile)",
                "Amount (£)", "Receipts"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def pounds(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


def _safe(value):
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "'" + value
    return value


def claim_rows(batch: PaymentBatch) -> list[list]:
    rows = []
    for claim in batch.claims:
        rows.append([
            batch.reference, claim.reference, claim.claimant.name, claim.claimant.email, pounds(claim.approved_pence),
            claim.cost_code or "", claim.decided_at.date() if claim.decided_at else None,
            sum(1 for line in claim.lines if line.decision is LineDecision.APPROVED),
        ])
    return rows


def line_rows(batch: PaymentBatch) -> list[list]:
    rows = []
    for claim in batch.claims:
        for line in claim.lines:
            if line.decision is not LineDecision.APPROVED:
                continue
            rows.append([
                claim.reference, claim.claimant.name, line.spent_on, line.category.label, line.description,
                line.activity_label or "", line.from_place or "", line.to_place or "",
                line.miles if line.miles is not None else None,
                line.vehicle.label if line.vehicle else "", line.passengers if line.is_mileage else None,
                line.pence_per_mile, line.miles_at_rate_after or None, line.pence_per_mile_after,
                pounds(line.amount_pence), len(line.receipts),
            ])
    return rows


def _csv(headers: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else _safe(str(value)) for value in row])
    # A byte-order mark so Excel reads accents as UTF-8.
    return "\ufeff" + buffer.getvalue()


def claims_csv(batch: PaymentBatch) -> str:
    return _csv(CLAIM_HEADERS, claim_rows(batch))


def lines_csv(batch: PaymentBatch) -> str:
    return _csv(LINE_HEADERS, line_rows(batch))


def batch_xlsx(batch: PaymentBatch) -> bytes:
    """The workbook: a Claims sheet (with a total row) and a Lines sheet."""
    workbook = Workbook()
    claims_sheet = workbook.active
    claims_sheet.title = "Claims"
    claims_sheet.append(CLAIM_HEADERS)
    for row in claim_rows(batch):
        claims_sheet.append([_safe(value) for value in row])
    claims_sheet.append(["", "Total", "", "", pounds(batch.total_pence), "", None, None])
    lines_sheet = workbook.create_sheet("Lines")
    lines_sheet.append(LINE_HEADERS)
    for row in line_rows(batch):
        lines_sheet.append([_safe(value) for value in row])
    for sheet, money_column in ((claims_sheet, "E"), (lines_sheet, "O")):
        for cell in sheet[money_column][1:]:
            cell.number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(batch: PaymentBatch, suffix: str) -> str:
    return f"{batch.reference.lower()}-{suffix}"
