"""monthly reports to EPCIs too

Revision ID: b0c1d2e3f4a5
Revises: a9b0c1d2e3f4
Create Date: 2026-11-29 16:46:51.008653

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'b0c1d2e3f4a5'
down_revision = 'a9b0c1d2e3f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epci_siren', sa.String(length=9), nullable=True))
        batch_op.alter_column('commune_insee',
               existing_type=sa.VARCHAR(length=5),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_report_deliveries_epci_siren_month'), ['epci_siren', 'month'])
        batch_op.create_foreign_key(batch_op.f('fk_report_deliveries_epci_siren_epcis'), 'epcis', ['epci_siren'], ['siren'])



def downgrade():
    with op.batch_alter_table('report_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_deliveries_epci_siren_epcis'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_report_deliveries_epci_siren_month'), type_='unique')
        batch_op.alter_column('commune_insee',
               existing_type=sa.VARCHAR(length=5),
               nullable=False)
        batch_op.drop_column('epci_siren')

