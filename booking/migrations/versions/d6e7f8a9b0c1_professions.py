"""professions as reference data the administrator extends (no more CHECK on the practitioner's profession)

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-11-29 16:40:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import notifications.sqltypes


# revision identifiers, used by Alembic.
revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None

# The list as it stood in booking/sites/rules.py when professions became data (kept here: a
# migration must not change when the code does).
SEED = {
    "medecin_generaliste": "Médecin généraliste",
    "ophtalmologue": "Ophtalmologue",
    "dermatologue": "Dermatologue",
    "cardiologue": "Cardiologue",
    "psychiatre": "Psychiatre",
    "pediatre": "Pédiatre",
    "gynecologue": "Gynécologue",
    "orl": "Oto-rhino-laryngologiste (ORL)",
    "endocrinologue": "Endocrinologue",
    "pneumologue": "Pneumologue",
    "rhumatologue": "Rhumatologue",
    "geriatre": "Gériatre",
    "sage_femme": "Sage-femme",
    "infirmier": "Infirmier ou infirmière",
    "kinesitherapeute": "Masseur-kinésithérapeute",
    "psychologue": "Psychologue",
    "chirurgien_dentiste": "Chirurgien-dentiste",
    "dieteticien": "Diététicien ou diététicienne",
    "orthophoniste": "Orthophoniste",
    "pmi": "Protection maternelle et infantile (PMI)",
    "allergologue": "Allergologue",
    "orthoptiste": "Orthoptiste",
    "infirmier_pratique_avancee": "Infirmier ou infirmière en pratique avancée (IPA)",
}


def upgrade():
    professions = op.create_table(
        'professions',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', notifications.sqltypes.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_professions'))
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(professions, [{"code": code, "label": label, "active": True, "created_at": now}
                                 for code, label in SEED.items()])
    with op.batch_alter_table('practitioners', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_practitioners_profession'), type_='check')
        batch_op.create_foreign_key(batch_op.f('fk_practitioners_profession_professions'), 'professions',
                                    ['profession'], ['code'])


def downgrade():
    with op.batch_alter_table('practitioners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_practitioners_profession_professions'), type_='foreignkey')
    op.drop_table('professions')
