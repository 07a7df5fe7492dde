"""EPCI administrators and département viewers

Revision ID: c1d2e3f4a5b6
Revises: b0c1d2e3f4a5
Create Date: 2026-11-29 16:50:10.438785

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'c1d2e3f4a5b6'
down_revision = 'b0c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('epci_siren', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('departement_code', sa.String(length=3), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_epci_siren_epcis'), 'epcis', ['epci_siren'], ['siren'])
        batch_op.create_foreign_key(batch_op.f('fk_users_departement_code_departements'), 'departements',
                                    ['departement_code'], ['code'])
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), "role IN ('resident', 'agent', 'practitioner', "
                                         "'commune_admin', 'epci_admin', 'departement_viewer', 'admin')")



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), "role IN ('resident', 'agent', 'practitioner', "
                                         "'commune_admin', 'admin')")
        batch_op.drop_constraint(batch_op.f('fk_users_departement_code_departements'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_users_epci_siren_epcis'), type_='foreignkey')
        batch_op.drop_column('departement_code')
        batch_op.drop_column('epci_siren')

