"""site calendar: opening hours, closures, holiday openings

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-11-29 16:02:55.899761

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_holiday_openings',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_holiday_openings_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'day', name=op.f('pk_site_holiday_openings'))
    )
    op.create_table('site_opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.CheckConstraint('opens < closes', name=op.f('ck_site_opening_hours_range')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_site_opening_hours_weekday')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_opening_hours_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_opening_hours'))
    )
    with op.batch_alter_table('site_opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_opening_hours_site_id'), ['site_id'], unique=False)

    op.create_table('site_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('elections', 'staff_absence', 'works', 'weather', 'event', 'other')", name=op.f('ck_site_closures_reason')),
    sa.CheckConstraint('first_day <= last_day', name=op.f('ck_site_closures_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_site_closures_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_site_closures_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_closures_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_closures'))
    )
    with op.batch_alter_table('site_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_closures_site_id'), ['site_id'], unique=False)

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_mode', sa.String(length=20), server_default='any_time', nullable=False))
        batch_op.add_column(sa.Column('agents_may_close', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_sites_schedule_mode'),
                                         "schedule_mode IN ('opening_hours', 'any_time')")



def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sites_schedule_mode'), type_='check')
        batch_op.drop_column('agents_may_close')
        batch_op.drop_column('schedule_mode')

    with op.batch_alter_table('site_closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_closures_site_id'))

    op.drop_table('site_closures')
    with op.batch_alter_table('site_opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_opening_hours_site_id'))

    op.drop_table('site_opening_hours')
    op.drop_table('site_holiday_openings')
