"""a relative's own mobile waits for its holder's OUI before any SMS

Revision ID: b7e1c2d3f4a5
Revises: 43c8c5cef30c
Create Date: 2026-11-29 13:40:00

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'b7e1c2d3f4a5'
down_revision = '43c8c5cef30c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_confirmation_asked_at', notifications.sqltypes.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('sms_confirmation_asked_at')
