"""appointments made by the SAS's regulators: the channel, our identifier sent to the SAS, the regulator's

Revision ID: b5c6d7e8f9a0
Revises: a4b5c6d7e8f9
Create Date: 2026-12-05 18:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b5c6d7e8f9a0'
down_revision = 'a4b5c6d7e8f9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sas_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('sas_operator', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(op.f('uq_appointments_sas_id'), ['sas_id'])
        batch_op.drop_constraint(op.f('ck_appointments_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_appointments_channel'),
                                         "channel IN ('online', 'reception', 'phone', 'sas')")


def downgrade():
    op.execute("DELETE FROM appointments WHERE channel = 'sas'")
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_appointments_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_appointments_channel'),
                                         "channel IN ('online', 'reception', 'phone')")
        batch_op.drop_constraint(op.f('uq_appointments_sas_id'), type_='unique')
        batch_op.drop_column('sas_operator')
        batch_op.drop_column('sas_id')
