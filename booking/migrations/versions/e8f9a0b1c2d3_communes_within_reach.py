"""communes within reach of a point: an index on their latitude (the search's box); their 2021 population

Revision ID: e8f9a0b1c2d3
Revises: d7e8f9a0b1c2
Create Date: 2026-12-05 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8f9a0b1c2d3'
down_revision = 'd7e8f9a0b1c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communes_latitude'), ['latitude'], unique=False)
        batch_op.add_column(sa.Column('population_2021', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.drop_column('population_2021')
        batch_op.drop_index(batch_op.f('ix_communes_latitude'))
