"""receipts remember whether the stored file was re-encoded

Receipt photos are now stored re-encoded by portal.core.files (no EXIF, nothing after the image), and only
those may be shown in the browser. Receipts stored before are marked False, so they are always downloaded.

Revision ID: 5f3e9a1c7b2d
Revises: a1b2c3d4e5f6
Create Date: 2026-12-07 19:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.core.db


# revision identifiers, used by Alembic.
revision = '5f3e9a1c7b2d'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expense_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_reencoded', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('expense_receipts', schema=None) as batch_op:
        batch_op.drop_column('is_reencoded')
