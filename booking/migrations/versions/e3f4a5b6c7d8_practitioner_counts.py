"""practitioners per commune and profession, imported from a reference file

Revision ID: e3f4a5b6c7d8
Revises: d2e3f4a5b6c7
Create Date: 2026-11-29 17:02:48.795876

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'e3f4a5b6c7d8'
down_revision = 'd2e3f4a5b6c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('practitioner_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('profession', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['commune_insee'], ['communes.insee'], name=op.f('fk_practitioner_counts_commune_insee_communes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioner_counts')),
    sa.UniqueConstraint('commune_insee', 'profession', 'year', name=op.f('uq_practitioner_counts_commune_insee_profession_year'))
    )
    with op.batch_alter_table('practitioner_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practitioner_counts_commune_insee'), ['commune_insee'], unique=False)



def downgrade():
    with op.batch_alter_table('practitioner_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practitioner_counts_commune_insee'))

    op.drop_table('practitioner_counts')
