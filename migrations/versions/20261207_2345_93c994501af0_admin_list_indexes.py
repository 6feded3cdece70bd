"""admin lists: audit log indexes ending in (at, id) for each filter; the people list's order

The audit log pages newest first by (at, id) instead of OFFSET, so each filter (none, action, actor,
object) gets an index whose trailing columns are that order. They replace the single-column indexes on
at, action, actor_id and subject_type, which each new index starts with (subject_id's stays).
The admin's people list finds a page's ids by an index-only scan in (is_deactivated, name, id) order.

Revision ID: 93c994501af0
Revises: d7a41c2e9f05
Create Date: 2026-12-07 23:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '93c994501af0'
down_revision = 'd7a41c2e9f05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_at_id', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_action_at_id', ['action', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_actor_id_at_id', ['actor_id', 'at', 'id'], unique=False)
        batch_op.create_index(
            'ix_audit_entries_subject_at_id', ['subject_type', 'subject_id', 'at', 'id'], unique=False
        )
        batch_op.drop_index('ix_audit_entries_at')
        batch_op.drop_index('ix_audit_entries_action')
        batch_op.drop_index('ix_audit_entries_actor_id')
        batch_op.drop_index('ix_audit_entries_subject_type')
    op.create_index('ix_users_listing', 'users', ['is_deactivated', 'name', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_users_listing', table_name='users')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_subject_type', ['subject_type'], unique=False)
        batch_op.create_index('ix_audit_entries_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
        batch_op.drop_index('ix_audit_entries_subject_at_id')
        batch_op.drop_index('ix_audit_entries_actor_id_at_id')
        batch_op.drop_index('ix_audit_entries_action_at_id')
        batch_op.drop_index('ix_audit_entries_at_id')
