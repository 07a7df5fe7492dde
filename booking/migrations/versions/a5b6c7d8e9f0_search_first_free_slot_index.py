"""an index for the search's first free slot of each practitioner at each site

Revision ID: a5b6c7d8e9f0
Revises: f4a5b6c7d8e9
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5b6c7d8e9f0'
down_revision = 'f4a5b6c7d8e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_slots_open_site_practitioner_start', 'slots', ['site_id', 'practitioner_id', 'starts_at'],
                    unique=False, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade():
    op.drop_index('ix_slots_open_site_practitioner_start', table_name='slots',
                  sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
