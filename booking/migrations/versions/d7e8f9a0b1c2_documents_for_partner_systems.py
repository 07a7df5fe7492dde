"""documents for partner systems: the outbox's « fhir » channel (the SAS hears of its appointments' changes)

Revision ID: d7e8f9a0b1c2
Revises: c6d7e8f9a0b1
Create Date: 2026-12-05 20:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd7e8f9a0b1c2'
down_revision = 'c6d7e8f9a0b1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_channel'),
                                         "channel IN ('sms', 'email', 'voice', 'fhir')")


def downgrade():
    op.execute("DELETE FROM notifications WHERE channel = 'fhir'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_channel'), "channel IN ('sms', 'email', 'voice')")
