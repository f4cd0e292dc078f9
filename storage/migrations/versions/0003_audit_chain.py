"""audit chain: every audit row carries the hash of the one before it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.audit import GENESIS, digest, row_hash
from storage.models import AuditEntry

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('detail_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.create_unique_constraint('uq_audit_seq', ['seq'])
    # the rows already there are sealed into the chain in the order they were written
    audit = sa.table('audit', sa.column('id'), sa.column('at'), sa.column('actor'), sa.column('action'),
                     sa.column('question_id'), sa.column('detail', sa.JSON()), sa.column('seq'),
                     sa.column('detail_hash'), sa.column('prev_hash'), sa.column('hash'))
    connection = op.get_bind()
    previous = GENESIS
    rows = connection.execute(sa.select(audit.c.id, audit.c.at, audit.c.actor, audit.c.action,
                                        audit.c.question_id, audit.c.detail).order_by(audit.c.id)).all()
    for seq, row in enumerate(rows, start=1):
        entry = AuditEntry(id=row.id, at=row.at, actor=row.actor, action=row.action, question_id=row.question_id,
                           detail=row.detail, seq=seq, prev_hash=previous, detail_hash=digest(row.detail))
        previous = row_hash(entry)
        connection.execute(audit.update().where(audit.c.id == row.id).values(
            seq=seq, detail_hash=entry.detail_hash, prev_hash=entry.prev_hash, hash=previous))


def downgrade() -> None:
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_seq', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('detail_hash')
        batch_op.drop_column('seq')
