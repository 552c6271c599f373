"""Events provider: being built (issue 4)."""

from __future__ import annotations

from stratus.aws.api.events import EventsApi


class EventsProvider(EventsApi):
    pass
