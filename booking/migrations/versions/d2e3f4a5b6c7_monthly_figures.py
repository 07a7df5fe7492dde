"""each commune's key figures per month, for comparisons

Revision ID: d2e3f4a5b6c7
Revises: c1d2e3f4a5b6
Create Date: 2026-11-29 16:58:12.139438

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'd2e3f4a5b6c7'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('appointments_booked', sa.Integer(), nullable=False),
    sa.Column('occupancy_rate', sa.Double(), nullable=True),
    sa.Column('no_show_rate', sa.Double(), nullable=True),
    sa.Column('median_lead_days', sa.Double(), nullable=True),
    sa.Column('computed_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commune_insee'], ['communes.insee'], name=op.f('fk_monthly_figures_commune_insee_communes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_figures')),
    sa.UniqueConstraint('commune_insee', 'month', name=op.f('uq_monthly_figures_commune_insee_month'))
    )
    with op.batch_alter_table('monthly_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_figures_commune_insee'), ['commune_insee'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_figures_month'), ['month'], unique=False)



def downgrade():
    with op.batch_alter_table('monthly_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_figures_month'))
        batch_op.drop_index(batch_op.f('ix_monthly_figures_commune_insee'))

    op.drop_table('monthly_figures')
