"""open slots for the ecosystem: when each slot last changed, and the sites allowed to frame a widget

Revision ID: f8a9b0c1d2e3
Revises: e7f8a9b0c1d2
Create Date: 2026-11-29 16:40:00

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'f8a9b0c1d2e3'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embed_origins', sa.JSON(), server_default='[]', nullable=False))
    # Nullable, so that no table copy is needed; every row gets a value here and from the model afterwards.
    op.add_column('slots', sa.Column('updated_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE slots SET updated_at = created_at")
    op.create_index(op.f('ix_slots_updated_at'), 'slots', ['updated_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_slots_updated_at'), table_name='slots')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('embed_origins')
