"""trigram indexes for searching people's names and e-mail addresses and case references

The volunteer list searches users' names and e-mail addresses, the case list searches case and crime
references and the names of the people on cases, all by a few letters anywhere (ILIKE '%term%').
On PostgreSQL these are GIN indexes with pg_trgm's gin_trgm_ops, which serve exactly that; the
extension is created here if the database lacks it. On SQLite they are ordinary indexes, as the models
declare them (portal.core.search.trigram_index).

Revision ID: 3c8e1f0a9b27
Revises: 5f3e9a1c7b2d
Create Date: 2026-12-07 23:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c8e1f0a9b27'
down_revision = '5f3e9a1c7b2d'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_users_name_trgm', 'users', 'name'),
    ('ix_users_email_trgm', 'users', 'email'),
    ('ix_cases_reference_trgm', 'cases', 'reference'),
    ('ix_cases_crime_reference_trgm', 'cases', 'crime_reference'),
    ('ix_parties_name_trgm', 'parties', 'name'),
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False, postgresql_using='gin',
                        postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    # The pg_trgm extension stays: other objects in the database may use it.
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
