"""Migrations on both dialects: once, in order, atomically, and safe when nodes start together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stratus.store import Store, load_migrations
from stratus.store.migrate import render, statements
from stratus.store.postgres import to_numbered

pytestmark = pytest.mark.anyio

V1 = "CREATE TABLE things (id {serial}, data {blob}, n {bigint}, f {float}, note TEXT);\n" "INSERT INTO things (note) VALUES ('from v1; with a semicolon');\n"
V2 = "ALTER TABLE things ADD COLUMN extra TEXT;"


async def versions(store: Store, component: str) -> list[int]:
    async with store.transaction() as tx:
        rows = await tx.fetchall("SELECT version FROM stratus_migrations WHERE component = ? ORDER BY version", (component,))
    return [row[0] for row in rows]


async def test_scripts_apply_once_in_order_with_portable_types(store: Store) -> None:
    await store.migrate("svc", [V1])
    await store.migrate("svc", [V1])
    await store.migrate("svc", [V1, V2])
    assert await versions(store, "svc") == [1, 2]
    async with store.transaction() as tx:
        await tx.execute("INSERT INTO things (data, n, f, extra) VALUES (?, ?, ?, ?)", (b"\x00\x01", 2**62, 0.5, "x"))
        rows = await tx.fetchall("SELECT id, data, n, f, note, extra FROM things ORDER BY id")
    assert [(r[0], bytes(r[1]) if r[1] is not None else None, *r[2:]) for r in rows] == [
        (1, None, None, None, "from v1; with a semicolon", None),
        (2, b"\x00\x01", 2**62, 0.5, None, "x"),
    ]


async def test_a_failing_script_changes_nothing(store: Store) -> None:
    await store.migrate("svc", [V1])
    broken = "CREATE TABLE half (id INTEGER);\nCREATE TABLE half (id INTEGER);"
    with pytest.raises(Exception, match="(?i)exists"):
        await store.migrate("broken", [broken])
    assert await versions(store, "broken") == []
    await store.migrate("broken", ["CREATE TABLE half (id INTEGER);"])
    assert await versions(store, "broken") == [1]


async def test_a_database_newer_than_the_code_is_refused(store: Store) -> None:
    await store.migrate("svc", [V1, V2])
    with pytest.raises(RuntimeError, match="older than the data"):
        await store.migrate("svc", [V1])


async def test_nodes_starting_together_apply_each_script_once(nodes: tuple[Store, Store]) -> None:
    scripts = [V1, V2, "INSERT INTO things (note) VALUES ('v3');"]
    await asyncio.gather(*(store.migrate("svc", scripts) for store in nodes * 3))
    first = nodes[0]
    assert await versions(first, "svc") == [1, 2, 3]
    async with first.transaction() as tx:
        assert await tx.fetchall("SELECT note FROM things ORDER BY id") == [("from v1; with a semicolon",), ("v3",)]


def test_load_migrations_reads_numbered_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "svc_pkg_ok"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "0002_more.sql").write_text("SELECT 2;")
    (package / "migrations" / "0001_init.sql").write_text("SELECT 1;")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_migrations("svc_pkg_ok") == ["SELECT 1;", "SELECT 2;"]


def test_load_migrations_refuses_a_gap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "svc_pkg_gap"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "0001_init.sql").write_text("SELECT 1;")
    (package / "migrations" / "0003_late.sql").write_text("SELECT 3;")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="0002"):
        load_migrations("svc_pkg_gap")


def test_engine_migrations_load() -> None:
    assert "stratus_timers" in load_migrations("stratus.engine")[0]


def test_render_and_split_for_sqlite() -> None:
    script = render(
        "CREATE TABLE a (id {serial}, b {blob});\n-- a comment; with a semicolon\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET b = NULL; END;\nSELECT ';'",
        "sqlite",
    )
    assert statements(script, "sqlite") == [
        "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, b BLOB);",
        "-- a comment; with a semicolon\nCREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET b = NULL; END;",
        "SELECT ';';",
    ]
    assert render("x {bigint} {float} '{\"json\": 1}'", "postgresql") == "x BIGINT DOUBLE PRECISION '{\"json\": 1}'"


def test_placeholders_are_rewritten_outside_quotes_only() -> None:
    assert to_numbered("SELECT '?%' || ? FROM t WHERE \"a?\" = ? AND b LIKE 'x%'") == (
        "SELECT '?%' || $1 FROM t WHERE \"a?\" = $2 AND b LIKE 'x%'"
    )
