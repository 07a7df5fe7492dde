"""the SAS systems allowed to call us, by their client certificate's CN and OU

Revision ID: a4b5c6d7e8f9
Revises: f3a4b5c6d7e8
Create Date: 2026-12-05 18:00:00

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes

# revision identifiers, used by Alembic.
revision = 'a4b5c6d7e8f9'
down_revision = 'f3a4b5c6d7e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sas_consumers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('common_name', sa.String(length=200), nullable=False),
        sa.Column('organizational_unit', sa.String(length=200), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sas_consumers')),
        sa.UniqueConstraint('common_name', 'organizational_unit', name=op.f('uq_sas_consumers_common_name_organizational_unit')),
    )


def downgrade():
    op.drop_table('sas_consumers')
