"""a waiting list shared by neighbouring sites: any site within a drive of the person's commune, mornings only,
not on a given weekday

Revision ID: f9a0b1c2d3e4
Revises: e8f9a0b1c2d3
Create Date: 2026-12-05 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f9a0b1c2d3e4'
down_revision = 'e8f9a0b1c2d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.alter_column('site_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('origin_insee', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('max_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mornings_only', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('avoid_weekday', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_waitlist_entries_origin_insee_communes'), 'communes',
                                    ['origin_insee'], ['insee'])
        batch_op.create_check_constraint(
            batch_op.f('ck_waitlist_entries_where'),
            "site_id IS NOT NULL OR (max_minutes IS NOT NULL AND origin_insee IS NOT NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_waitlist_entries_weekday'),
                                         "avoid_weekday IS NULL OR avoid_weekday BETWEEN 0 AND 6")


def downgrade():
    op.execute("DELETE FROM waitlist_entries WHERE site_id IS NULL")
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_waitlist_entries_weekday'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_waitlist_entries_where'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_waitlist_entries_origin_insee_communes'), type_='foreignkey')
        batch_op.drop_column('avoid_weekday')
        batch_op.drop_column('mornings_only')
        batch_op.drop_column('max_minutes')
        batch_op.drop_column('origin_insee')
        batch_op.alter_column('site_id', existing_type=sa.Integer(), nullable=False)
