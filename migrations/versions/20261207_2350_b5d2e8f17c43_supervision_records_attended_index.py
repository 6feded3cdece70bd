"""supervision records: each volunteer's attended sessions in order, for the cadence list

The cadence list finds every active volunteer's latest attended session; a partial index on
(user_id, held_on, id) for attended sessions gives them in order, so no sort of every record is needed.

Revision ID: b5d2e8f17c43
Revises: 93c994501af0
Create Date: 2026-12-07 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b5d2e8f17c43'
down_revision = '93c994501af0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_supervision_records_attended', 'supervision_records', ['user_id', 'held_on', 'id'], unique=False,
        sqlite_where=sa.text("attendance = 'attended'"), postgresql_where=sa.text("attendance = 'attended'"),
    )


def downgrade():
    op.drop_index('ix_supervision_records_attended', table_name='supervision_records')
