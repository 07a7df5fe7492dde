"""where communes are (a point inside each), their area and 2015 population; a site's own position

Revision ID: c6d7e8f9a0b1
Revises: b5c6d7e8f9a0
Create Date: 2026-12-05 18:45:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c6d7e8f9a0b1'
down_revision = 'b5c6d7e8f9a0'
branch_labels = None
depends_on = None


def upgrade():
    for column in (sa.Column('latitude', sa.Double(), nullable=True), sa.Column('longitude', sa.Double(), nullable=True),
                   sa.Column('area_km2', sa.Double(), nullable=True),
                   sa.Column('population_2015', sa.Integer(), nullable=True)):
        op.add_column('communes', column)
    op.add_column('sites', sa.Column('latitude', sa.Double(), nullable=True))
    op.add_column('sites', sa.Column('longitude', sa.Double(), nullable=True))


def downgrade():
    for table, column in (('sites', 'longitude'), ('sites', 'latitude'), ('communes', 'population_2015'),
                          ('communes', 'area_km2'), ('communes', 'longitude'), ('communes', 'latitude')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
