"""Archives keep the events that match their pattern; StartReplay sends them again with replay-name.

Docs: EventBridge user guide "Archiving and replaying events".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.helpers import bodies, receive, wait_for


def test_an_archive_is_replayed_with_replay_name(events, sqs, make_queue, unique, advance_clock):
    bus = unique("orders")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    archive = unique("arch")
    archive_arn = events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn,
                                        EventPattern=json.dumps({"detail-type": ["kept"]}), RetentionDays=1)["ArchiveArn"]
    url, arn = make_queue("replayed")
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    # Times on the stratus clock, which other tests may have moved ahead of real time.
    stratus_now = datetime.fromtimestamp(advance_clock(0)["now_ms"] / 1000, UTC)
    before = stratus_now - timedelta(minutes=1)
    events.put_events(Entries=[
        {"Source": "shop", "DetailType": "kept", "Detail": json.dumps({"n": 1}), "EventBusName": bus},
        {"Source": "shop", "DetailType": "dropped", "Detail": json.dumps({"n": 2}), "EventBusName": bus},
    ])
    assert sorted(e["detail"]["n"] for e in bodies(receive(sqs, url, 2))) == [1, 2]
    described = events.describe_archive(ArchiveName=archive)
    assert described["EventCount"] == 1 and described["State"] == "ENABLED" and described["EventSourceArn"] == bus_arn

    advance_clock(120)  # replay windows must end in the past
    now = stratus_now + timedelta(minutes=1)
    replay = unique("replay")
    started = events.start_replay(ReplayName=replay, EventSourceArn=archive_arn, EventStartTime=before,
                                  EventEndTime=now, Destination={"Arn": bus_arn})
    assert started["State"] == "STARTING"
    (event,) = bodies(receive(sqs, url, 1))
    assert event["replay-name"] == replay and event["detail"] == {"n": 1}
    assert wait_for(lambda: events.describe_replay(ReplayName=replay)["State"] == "COMPLETED", timeout=10)
    assert [r["ReplayName"] for r in events.list_replays(NamePrefix=replay)["Replays"]] == [replay]
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 1
    assert receive(sqs, url, 1, timeout=1.5) == []
