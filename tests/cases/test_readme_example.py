"""The README's example script runs as written, with no Flask, against a fresh database."""

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import portal.models  # noqa: F401
from portal.cases.models import Case, CaseStatus
from portal.core.accounts import Role
from portal.core.db import Base
from tests.builders import make_user

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    return re.search(r"<!-- case-example -->\n```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_script_takes_a_case_to_awaiting_allocation_without_flask(tmp_path):
    url = f"sqlite:///{tmp_path / 'example.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        make_user(session, roles=[Role.COORDINATOR], email="coordinator@example.org")
        session.commit()
    script = readme_example() + "\nimport sys\nsys.exit(1 if 'flask' in sys.modules else 0)\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False,
        env={**os.environ, "PORTAL_DATABASE_URL": url},
        cwd=README.parent,
    )
    assert result.returncode == 0, result.stderr or "the script imported Flask"
    assert re.fullmatch(r"RJ-\d{4}-\d{5} awaiting allocation\n", result.stdout)
    with Session(engine) as session:
        assert session.scalar(select(Case.status)) is CaseStatus.AWAITING_ALLOCATION
    engine.dispose()
