"""inbox: fetched mail waiting for triage, so that any worker can triage what one worker read

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 02:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailbox', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.Column('queued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('mailbox', 'source_id'),
    )


def downgrade() -> None:
    op.drop_table('inbox')
