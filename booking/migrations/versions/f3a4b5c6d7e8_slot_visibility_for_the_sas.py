"""who may take a slot: everyone, professionals only, or the SAS's regulators until a release time (SNP)

Revision ID: f3a4b5c6d7e8
Revises: e2f3a4b5c6d7
Create Date: 2026-12-05 17:40:00

"""
from alembic import op
import sqlalchemy as sa

from notifications.sqltypes import UtcDateTime

# revision identifiers, used by Alembic.
revision = 'f3a4b5c6d7e8'
down_revision = 'e2f3a4b5c6d7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('availability_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.String(length=6), nullable=False, server_default='public'))
        batch_op.add_column(sa.Column('snp_release_hours', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_availability_rules_visibility'), "visibility IN ('public', 'pro', 'snp')")
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.String(length=6), nullable=False, server_default='public'))
        batch_op.add_column(sa.Column('released_at', UtcDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_slots_visibility'), "visibility IN ('public', 'pro', 'snp')")
        batch_op.create_index('ix_slots_released_at', ['released_at'], unique=False)


def downgrade():
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_released_at')
        batch_op.drop_constraint(op.f('ck_slots_visibility'), type_='check')
        batch_op.drop_column('released_at')
        batch_op.drop_column('visibility')
    with op.batch_alter_table('availability_rules', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_availability_rules_visibility'), type_='check')
        batch_op.drop_column('snp_release_hours')
        batch_op.drop_column('visibility')
