"""expense claims are listed by submission time: index submitted_at

The coordinators' claim lists order by submission time and filter by the month submitted; with 100,000
claims that needs an index rather than a sort of every claim in the status.

Revision ID: e4b7c1d92a60
Revises: 3c8e1f0a9b27
Create Date: 2026-12-07 23:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e4b7c1d92a60'
down_revision = '3c8e1f0a9b27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expense_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expense_claims_submitted_at'), ['submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('expense_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expense_claims_submitted_at'))
