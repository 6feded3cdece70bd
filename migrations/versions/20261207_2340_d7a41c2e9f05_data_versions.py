"""data versions: a token per kind of data, changed with the data, for in-memory caches

portal.core.versions keeps expensive aggregates (the vetting dashboard's counts) in memory until the
token of their data changes.

Revision ID: d7a41c2e9f05
Revises: e4b7c1d92a60
Create Date: 2026-12-07 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a41c2e9f05'
down_revision = 'e4b7c1d92a60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_versions',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions')),
    )


def downgrade():
    op.drop_table('data_versions')
