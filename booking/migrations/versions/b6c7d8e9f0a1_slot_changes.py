"""when each slot last changed, in its own table kept by triggers: a seat taken changes no indexed column of slots

Revision ID: b6c7d8e9f0a1
Revises: a5b6c7d8e9f0
Create Date: 2026-11-30 10:45:00

"""
from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'b6c7d8e9f0a1'
down_revision = 'a5b6c7d8e9f0'
branch_labels = None
depends_on = None

# PostgreSQL: once per statement, from the rows it wrote (a whole week of published slots in one INSERT).
POSTGRESQL_TRIGGERS = """
CREATE FUNCTION record_slot_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO slot_changes (slot_id, changed_at)
    SELECT id, updated_at FROM written_slots WHERE updated_at IS NOT NULL
    ON CONFLICT (slot_id) DO UPDATE SET changed_at = EXCLUDED.changed_at
    WHERE slot_changes.changed_at IS DISTINCT FROM EXCLUDED.changed_at;
    RETURN NULL;
END
$$;
CREATE TRIGGER slot_changes_on_insert AFTER INSERT ON slots REFERENCING NEW TABLE AS written_slots
    FOR EACH STATEMENT EXECUTE FUNCTION record_slot_changes();
CREATE TRIGGER slot_changes_on_update AFTER UPDATE ON slots REFERENCING NEW TABLE AS written_slots
    FOR EACH STATEMENT EXECUTE FUNCTION record_slot_changes();
"""

# SQLite: once per row (it has no statement triggers).
SQLITE_TRIGGERS = [f"""
CREATE TRIGGER slot_changes_on_{event} AFTER {clause} ON slots WHEN NEW.updated_at IS NOT NULL
BEGIN
    INSERT INTO slot_changes (slot_id, changed_at) VALUES (NEW.id, NEW.updated_at)
    ON CONFLICT (slot_id) DO UPDATE SET changed_at = excluded.changed_at;
END
""" for event, clause in (("insert", "INSERT"), ("update", "UPDATE OF updated_at"))]


def upgrade():
    op.create_table(
        'slot_changes',
        sa.Column('slot_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('changed_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('slot_id', name=op.f('pk_slot_changes')),
    )
    op.execute("INSERT INTO slot_changes (slot_id, changed_at) SELECT id, updated_at FROM slots "
               "WHERE updated_at IS NOT NULL")
    op.create_index(op.f('ix_slot_changes_changed_at'), 'slot_changes', ['changed_at'], unique=False)
    op.drop_index('ix_slots_updated_at', table_name='slots')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRESQL_TRIGGERS)
        # Room in each new page for its slots' next versions: an update in place needs it.
        op.execute("ALTER TABLE slots SET (fillfactor = 90)")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE slots RESET (fillfactor)")
        op.execute("DROP TRIGGER slot_changes_on_update ON slots")
        op.execute("DROP TRIGGER slot_changes_on_insert ON slots")
        op.execute("DROP FUNCTION record_slot_changes()")
    else:
        op.execute("DROP TRIGGER slot_changes_on_update")
        op.execute("DROP TRIGGER slot_changes_on_insert")
    op.create_index('ix_slots_updated_at', 'slots', ['updated_at'], unique=False)
    op.drop_index(op.f('ix_slot_changes_changed_at'), table_name='slot_changes')
    op.drop_table('slot_changes')
