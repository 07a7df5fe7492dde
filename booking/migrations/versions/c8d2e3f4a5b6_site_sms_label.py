"""a short label per site for SMS (one segment each)

Revision ID: c8d2e3f4a5b6
Revises: b7e1c2d3f4a5
Create Date: 2026-11-29 14:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8d2e3f4a5b6'
down_revision = 'b7e1c2d3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_label', sa.String(length=30), nullable=True))
    # Existing sites start from their name, cut to 30 characters; their referents can shorten it.
    op.execute("UPDATE sites SET sms_label = TRIM(SUBSTR(name, 1, 30))" if op.get_bind().dialect.name == "sqlite"
               else "UPDATE sites SET sms_label = TRIM(SUBSTRING(name FROM 1 FOR 30))")
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.alter_column('sms_label', existing_type=sa.String(length=30), nullable=False)


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('sms_label')
