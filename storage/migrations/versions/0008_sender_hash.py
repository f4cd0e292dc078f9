"""the sender kept as a keyed hash beside the domain (the address itself goes with the body);
the terms of the controlled vocabulary a question holds, for the report's signals

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_hash', sa.String(), nullable=False, server_default=''))
        batch_op.create_index('ix_question_sender_hash', ['sender_hash'], unique=False)
        batch_op.add_column(sa.Column('signal_terms', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('signal_terms')
        batch_op.drop_index('ix_question_sender_hash')
        batch_op.drop_column('sender_hash')
