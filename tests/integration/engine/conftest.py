"""The engine runs on a real store on each backend: reuse the store fixtures."""

from tests.integration.store.conftest import anyio_backend, nodes, store, store_factory  # noqa: F401
