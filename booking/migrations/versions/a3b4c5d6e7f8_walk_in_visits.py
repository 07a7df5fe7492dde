"""walk-in visits

Revision ID: a3b4c5d6e7f8
Revises: f2a3b4c5d6e7
Create Date: 2026-11-29 16:09:37.063787

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'a3b4c5d6e7f8'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('walk_in_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('profession', sa.String(length=40), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commune_insee'], ['communes.insee'], name=op.f('fk_walk_in_visits_commune_insee_communes')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_walk_in_visits_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_walk_in_visits_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_in_visits'))
    )
    with op.batch_alter_table('walk_in_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_in_visits_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_in_visits_visited_at'), ['visited_at'], unique=False)



def downgrade():
    with op.batch_alter_table('walk_in_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_in_visits_visited_at'))
        batch_op.drop_index(batch_op.f('ix_walk_in_visits_site_id'))

    op.drop_table('walk_in_visits')
