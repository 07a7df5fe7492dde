"""assistants on duty, téléconsultation slots awaiting one, equipment a practitioner needs

Revision ID: c5d6e7f8a9b0
Revises: b4c5d6e7f8a9
Create Date: 2026-11-29 16:13:26.558374

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'c5d6e7f8a9b0'
down_revision = 'b4c5d6e7f8a9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assistant_duties',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('assistant', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_assistant_duties_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'day', name=op.f('pk_assistant_duties'))
    )
    with op.batch_alter_table('practitioners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needed_equipment', sa.JSON(), server_default='[]', nullable=False))

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_assistant', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting_assistant', sa.Boolean(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('awaiting_assistant')

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('requires_assistant')

    with op.batch_alter_table('practitioners', schema=None) as batch_op:
        batch_op.drop_column('needed_equipment')

    op.drop_table('assistant_duties')
