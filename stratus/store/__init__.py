"""The durable store: SQLite (default, one file) or PostgreSQL (several nodes on one database)."""

from __future__ import annotations

from pathlib import Path

from stratus.store.base import Params, Row, Store, Tx
from stratus.store.migrate import load_migrations
from stratus.store.wakeups import Subscription

__all__ = ["Params", "Row", "Store", "Subscription", "Tx", "load_migrations", "open_store"]


def open_store(url_or_path: str, data_dir: Path) -> Store:
    """The store a ``--store`` setting names; the caller awaits ``store.open()``.

    ``sqlite`` (or empty): ``<data_dir>/stratus.db``. ``postgresql://...`` (or ``postgres://``):
    that database. Anything else is the path of a SQLite file.
    """
    if url_or_path.startswith(("postgresql://", "postgres://")):
        from stratus.store.postgres import PostgresStore

        return PostgresStore(url_or_path)
    from stratus.store.sqlite import SqliteStore

    if url_or_path in ("", "sqlite"):
        return SqliteStore(Path(data_dir) / "stratus.db")
    return SqliteStore(Path(url_or_path).expanduser())
