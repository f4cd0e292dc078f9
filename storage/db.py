"""The database: one engine per process, migrated with Alembic to the newest schema.

SQLite (one file, WAL) by default; the same code runs on PostgreSQL for several workers.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0011"  # the newest migration's revision (a test holds it to the scripts in MIGRATIONS)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and secure delete (a deleted
    or overwritten value is zeroed in the file, not left for someone reading it raw)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to call at every start). A database
    already there is not handed to Alembic: a one-off command starts without loading it."""
    if schema_version(engine) == HEAD:
        return
    from alembic import command  # only here: reading an up-to-date database needs none of it
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # several workers starting at once: one migrates, the others wait for it
            connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_version(engine: Engine) -> str | None:
    """The revision the database was migrated to; None before the first migration."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no such table: a new database
        return None


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


@contextmanager
def unit_of_work(engine: Engine, *, writes: bool = False) -> Iterator[Session]:
    """One transaction: commits when the block ends, rolls back on an error.

    `writes`: on SQLite the transaction begins at once and holds the database's one write
    lock (BEGIN IMMEDIATE). Python's sqlite3 would begin it only before the first write, and
    a savepoint taken before that starts a transaction of its own, which its release commits:
    what was written under the savepoint would then be committed even when the rest rolls
    back. Begun at once, the savepoint nests in the transaction, the whole commits once, and
    what it reads cannot turn stale before it writes. PostgreSQL: no difference."""
    with Session(engine, expire_on_commit=False) as session:
        with session.begin():
            if writes:
                begin_writing(session)
            yield session


def begin_writing(session: Session) -> None:
    """SQLite: begin the transaction now, holding the one write lock (unless it has written)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def compact(engine: Engine) -> None:
    """Give the space of deleted rows back (after a purge): SQLite rewrites the file, so that
    neither free pages nor the write-ahead log hold what was purged. PostgreSQL: VACUUM marks
    the space free; the old row versions stay in its files until overwritten (see README)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("VACUUM"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            connection.execute(text("VACUUM"))


def open_existing(url: str) -> Engine | None:
    """The database, or None for an SQLite file that does not exist yet (nothing stored so far)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return open_database(url)
