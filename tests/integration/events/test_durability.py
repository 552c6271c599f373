"""An event PutEvents accepted is delivered even if the server is killed right after answering."""

from __future__ import annotations

import json

import pytest

from tests.conftest import advance, client_for
from tests.helpers import bodies, queue_arn, receive, receive_until

pytestmark = pytest.mark.slow


def test_accepted_events_survive_sigkill(server_factory):
    server = server_factory().start()
    events, sqs = client_for(server.endpoint, "events"), client_for(server.endpoint, "sqs")
    url = sqs.create_queue(QueueName="after-crash")["QueueUrl"]
    arn = queue_arn(sqs, url)
    events.create_event_bus(Name="orders")
    events.put_rule(Name="all", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="all", EventBusName="orders", Targets=[{"Id": "q", "Arn": arn, "InputPath": "$.detail"}])
    events.put_rule(Name="tick", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])

    accepted = []
    for batch in range(10):
        result = events.put_events(Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"n": batch * 10 + i}), "EventBusName": "orders"}
            for i in range(10)])
        assert result["FailedEntryCount"] == 0
        accepted.extend(batch * 10 + i for i in range(10))
    server.kill()  # SIGKILL right after the last answer: deliveries may still be pending

    server.start()
    sqs = client_for(server.endpoint, "sqs")
    # Delivery is at least once: a target call cut short by the kill may be made again.
    def numbers(messages: list[dict]) -> set[int]:
        return {body["n"] for body in bodies(messages)}

    delivered = numbers(receive_until(sqs, url, lambda got: numbers(got) >= set(accepted), timeout=60))
    assert delivered == set(accepted)

    # Rules, targets and the schedule's timer survived too.
    events = client_for(server.endpoint, "events")
    assert events.list_targets_by_rule(Rule="all", EventBusName="orders")["Targets"][0]["InputPath"] == "$.detail"
    advance(server.endpoint, 3601)
    (tick,) = bodies(receive(sqs, url, 1))
    assert tick["detail-type"] == "Scheduled Event"
