"""reminders for residents without a mobile: calls, caregivers, the desk's call list

Revision ID: e7f8a9b0c1d2
Revises: d6e7f8a9b0c1
Create Date: 2026-11-29 16:21:01.738310

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'd6e7f8a9b0c1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_channel', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('desk_called_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('desk_call_outcome', sa.String(length=12), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.drop_constraint(op.f('ck_notifications_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_channel'), "channel IN ('sms', 'email', 'voice')")

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calls_refused', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('caregiver_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('caregiver_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('caregiver_consent_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('caregiver_consent_at')
        batch_op.drop_column('caregiver_phone')
        batch_op.drop_column('caregiver_name')
        batch_op.drop_column('calls_refused')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_channel'), "channel IN ('sms', 'email')")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('outcome')
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('desk_call_outcome')
        batch_op.drop_column('desk_called_at')
        batch_op.drop_column('reminder_channel')

