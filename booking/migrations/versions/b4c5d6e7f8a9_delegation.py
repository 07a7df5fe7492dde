"""a practitioner lets the mairie manage their days at a site

Revision ID: b4c5d6e7f8a9
Revises: a3b4c5d6e7f8
Create Date: 2026-11-29 16:11:04.595617

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'b4c5d6e7f8a9'
down_revision = 'a3b4c5d6e7f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site_practitioners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegated_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('site_practitioners', schema=None) as batch_op:
        batch_op.drop_column('delegated_at')

