"""residents' anonymous feedback after a consultation

Revision ID: a9b0c1d2e3f4
Revises: f8a9b0c1d2e3
Create Date: 2026-11-29 16:43:13.329171

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'a9b0c1d2e3f4'
down_revision = 'f8a9b0c1d2e3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_key', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('profession', sa.String(length=40), nullable=False),
    sa.Column('consulted_on', sa.Date(), nullable=False),
    sa.Column('useful', sa.Integer(), nullable=False),
    sa.Column('alternative', sa.String(length=12), nullable=False),
    sa.Column('created_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("alternative IN ('farther', 'emergency', 'without', 'other')", name=op.f('ck_feedback_answers_alternative')),
    sa.CheckConstraint('useful BETWEEN 1 AND 5', name=op.f('ck_feedback_answers_useful')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_feedback_answers_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answers')),
    sa.UniqueConstraint('appointment_key', name=op.f('uq_feedback_answers_appointment_key'))
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answers_site_id'), ['site_id'], unique=False)



def downgrade():
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_answers_site_id'))

    op.drop_table('feedback_answers')
