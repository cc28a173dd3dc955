"""Persistence: SQLAlchemy models, the Store, and Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from orcoursetrion.errors import StoreUnavailable
from orcoursetrion.store.db import EventView, ItemView, JournalView, RequestView, RunView, Store, TaskView
from orcoursetrion.store.health import shown_url, unavailable_on_error

MIGRATIONS = Path(__file__).with_name("migrations")

__all__ = [
    "EventView",
    "ItemView",
    "JournalView",
    "RequestView",
    "RunView",
    "Store",
    "TaskView",
    "alembic_config",
    "head_revision",
    "open_store",
    "upgrade",
]


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store) -> None:
    """Bring the schema to the newest migration (`orcoursetrion db upgrade`)."""
    config = alembic_config(store.url)
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # a migration may rightly take longer than any request
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(url: str, auto_upgrade: bool | None = None) -> Store:
    """Open the store; SQLite is migrated automatically, PostgreSQL must be up to date.

    On PostgreSQL several replicas may start at once, so migrations are an explicit
    deploy step (`orcoursetrion db upgrade`) rather than a race at start-up.

    Anything that makes the store unusable (unreachable, refusing, not answering, read-only,
    full, schema not the newest) raises StoreUnavailable, whose text names DATABASE_URL
    with its password masked.
    """
    with unavailable_on_error(url):
        store = Store(url)
    try:
        with unavailable_on_error(url):
            if auto_upgrade is None:
                auto_upgrade = store.is_sqlite
            if auto_upgrade:
                upgrade(store)
            else:
                found, newest = current_revision(store), head_revision()
                if found != newest:
                    raise StoreUnavailable(
                        shown_url(url),
                        f"the schema is at {found or 'no revision'}, not the newest ({newest}); "
                        "run `orcoursetrion db upgrade`",
                    )
        store.check()
    except BaseException:
        store.close()
        raise
    return store
