"""e-mail as a reminder channel, and calendar invitations that follow changes

Revision ID: e2f3a4b5c6d7
Revises: d1e2f3a4b5c6
Create Date: 2026-12-05 17:30:00

"""
from alembic import op
import sqlalchemy as sa

from notifications.sqltypes import UtcDateTime

# revision identifiers, used by Alembic.
revision = 'e2f3a4b5c6d7'
down_revision = 'd1e2f3a4b5c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_reminders', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('email_problem', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('email_unsubscribed_at', UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_uid', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('headers')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('calendar_sequence')
        batch_op.drop_column('calendar_uid')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('email_unsubscribed_at')
        batch_op.drop_column('email_problem')
        batch_op.drop_column('email_reminders')
