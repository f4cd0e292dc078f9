"""decision record: every screening rule's answer, where the organisation came from, where the
contact person was found, what set the due date

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 21:30:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screen_hits', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('screen_misses', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('organisation_source', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('region_found', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('due_rule', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('due_rule')
        batch_op.drop_column('region_found')
        batch_op.drop_column('organisation_source')
        batch_op.drop_column('screen_misses')
        batch_op.drop_column('screen_hits')
