"""sign-in sessions

One row per signed-in browser, keyed by the SHA-256 digest of a random key the session cookie carries.
Signing out ends the row, so a copied cookie stops working; sessions also end a fixed time after
signing in.

Revision ID: a1b2c3d4e5f6
Revises: 558cc5e6f05f
Create Date: 2026-12-07 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.core.db


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = '558cc5e6f05f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_digest', sa.String(length=64), nullable=False),
    sa.Column('started_at', portal.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', portal.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('key_digest', name=op.f('uq_sign_in_sessions_key_digest'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_started_at'))
    op.drop_table('sign_in_sessions')
