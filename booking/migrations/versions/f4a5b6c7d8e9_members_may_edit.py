"""an EPCI may let its member communes edit the sites it runs

Revision ID: f4a5b6c7d8e9
Revises: e3f4a5b6c7d8
Create Date: 2026-11-29 17:07:49.261126

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'f4a5b6c7d8e9'
down_revision = 'e3f4a5b6c7d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('members_may_edit', sa.Boolean(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('members_may_edit')

