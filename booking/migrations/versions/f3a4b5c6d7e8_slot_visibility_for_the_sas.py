"""who may take a slot: everyone, professionals only, or the SAS's regulators until a release time (SNP)

Revision ID: f3a4b5c6d7e8
Revises: e2f3a4b5c6d7
Create Date: 2026-12-05 17:40:00

On SQLite, no table is rebuilt (a rebuilt ``slots`` would lose the triggers that keep ``slot_changes``): columns
are added and dropped in place, and the CHECK constraints exist on PostgreSQL only (the models keep them there).
"""
from alembic import op
import sqlalchemy as sa

from notifications.sqltypes import UtcDateTime

# revision identifiers, used by Alembic.
revision = 'f3a4b5c6d7e8'
down_revision = 'e2f3a4b5c6d7'
branch_labels = None
depends_on = None

AUDIENCES = "visibility IN ('public', 'pro', 'snp')"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.add_column('availability_rules', sa.Column('visibility', sa.String(length=6), nullable=False,
                                                  server_default='public'))
    op.add_column('availability_rules', sa.Column('snp_release_hours', sa.Integer(), nullable=True))
    op.add_column('slots', sa.Column('visibility', sa.String(length=6), nullable=False, server_default='public'))
    op.add_column('slots', sa.Column('released_at', UtcDateTime(timezone=True), nullable=True))
    op.create_index('ix_slots_released_at', 'slots', ['released_at'], unique=False)
    if _postgresql():
        op.create_check_constraint(op.f('ck_availability_rules_visibility'), 'availability_rules', AUDIENCES)
        op.create_check_constraint(op.f('ck_slots_visibility'), 'slots', AUDIENCES)


def downgrade():
    if _postgresql():
        op.drop_constraint(op.f('ck_slots_visibility'), 'slots', type_='check')
        op.drop_constraint(op.f('ck_availability_rules_visibility'), 'availability_rules', type_='check')
    op.drop_index('ix_slots_released_at', table_name='slots')
    for table, column in (('slots', 'released_at'), ('slots', 'visibility'),
                          ('availability_rules', 'snp_release_hours'), ('availability_rules', 'visibility')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # in place on SQLite too (3.35+)
