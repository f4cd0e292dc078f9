"""originals kept for review and quarantine; follow-ups joined to their question

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 22:30:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('original',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], ),
    sa.PrimaryKeyConstraint('question_id')
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_of', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_question_thread_of', 'question', ['thread_of'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_constraint('fk_question_thread_of', type_='foreignkey')
        batch_op.drop_column('thread_of')
    op.drop_table('original')
