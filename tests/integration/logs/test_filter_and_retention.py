"""FilterLogEvents with each filter pattern kind, retention on the stratus clock, restart survival."""

from __future__ import annotations

import json

import pytest

from tests.conftest import advance, client_for
from tests.helpers import server_now_ms, wait_for

APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '10.0.0.9 - jane [10/Oct/2000:13:50:35 -0700] "GET /about.html HTTP/1.0" 200 435',
]
JSON_EVENTS = [
    json.dumps({"eventType": "UpdateTrail", "latency": 1200, "error": True, "user": {"id": 1}, "tags": ["a", "b"]}),
    json.dumps({"eventType": "CreateTrail", "latency": 80, "error": False, "user": {"id": 2}, "extra": None}),
]
TEXT = ["[ERROR] fatal exception", "Exiting with ERRORCODE: -1", "[WARN] Failed to process the request", "INFO all good"]


@pytest.fixture
def loaded(logs, make_group, endpoint):
    group = make_group()
    now = server_now_ms(endpoint)
    for stream, messages in (("web", APACHE), ("app-json", JSON_EVENTS), ("app-text", TEXT)):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now - 1000 + i, "message": m} for i, m in enumerate(messages)])
    return group


def messages(logs, group, pattern, **kwargs):
    return [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern=pattern, **kwargs)["events"]]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("ERROR", [TEXT[0], TEXT[1]]),
        ('"ERROR" - "Exiting"', [TEXT[0]]),
        ("ERROR -Exiting", [TEXT[0]]),
        ("?WARN ?fatal", [TEXT[0], TEXT[2]]),
        ('"Failed to process the request"', [TEXT[2]]),
        ("%ERROR[A-Z]+%", [TEXT[1]]),
        ('{ $.eventType = "UpdateTrail" }', [JSON_EVENTS[0]]),
        ("{ $.eventType != UpdateTrail }", [JSON_EVENTS[1]]),
        ("{ $.eventType = *Trail }", JSON_EVENTS),
        ("{ $.latency > 1000 }", [JSON_EVENTS[0]]),
        ("{ $.latency <= 80 && $.user.id = 2 }", [JSON_EVENTS[1]]),
        ("{ ($.latency > 1000 || $.error IS FALSE) && $.user.id >= 1 }", JSON_EVENTS),
        ("{ $.error IS TRUE }", [JSON_EVENTS[0]]),
        ("{ $.extra IS NULL }", [JSON_EVENTS[1]]),
        ("{ $.extra NOT EXISTS }", [JSON_EVENTS[0]]),
        ('{ $.tags[1] = "b" }', [JSON_EVENTS[0]]),
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", [APACHE[0]]),
        ("[..., status_code = 500 || status_code = 200, bytes > 1000]", [APACHE[1]]),
        ("[ip = %10\\.0\\.0\\.[0-9]%, ...]", [APACHE[2]]),
        ("[ip, user, username, timestamp, request = *html*, status_code, bytes]", [APACHE[0], APACHE[2]]),
    ],
)
def test_filter_patterns(logs, loaded, pattern, expected):
    assert sorted(messages(logs, loaded, pattern)) == sorted(expected)


def test_filter_results_streams_paging_and_errors(logs, loaded):
    everything = logs.filter_log_events(logGroupName=loaded)["events"]
    assert len(everything) == len(APACHE) + len(JSON_EVENTS) + len(TEXT)
    assert [e["timestamp"] for e in everything] == sorted(e["timestamp"] for e in everything)  # interleaved
    first = everything[0]
    assert set(first) >= {"eventId", "logStreamName", "timestamp", "message", "ingestionTime"}
    assert messages(logs, loaded, "", logStreamNames=["web"]) == APACHE
    assert sorted(messages(logs, loaded, "", logStreamNamePrefix="app-")) == sorted(JSON_EVENTS + TEXT)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=loaded, logStreamNames=["web"], logStreamNamePrefix="app")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=loaded, filterPattern="{ $.x = ")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.filter_log_events(logGroupName=loaded + "-missing")

    seen, token = [], None
    while True:
        page = logs.filter_log_events(logGroupName=loaded, limit=2, **({"nextToken": token} if token else {}))
        assert len(page["events"]) <= 2
        seen += [e["eventId"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [e["eventId"] for e in everything]
    start = everything[2]["timestamp"]
    ranged = logs.filter_log_events(logGroupName=loaded, startTime=start, endTime=start + 2)["events"]
    assert [e["eventId"] for e in ranged] == [e["eventId"] for e in everything if start <= e["timestamp"] < start + 2]


def test_retention_removes_old_events_when_the_clock_moves(logs, make_stream, endpoint):
    group, stream = make_stream()
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = server_now_ms(endpoint)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now - 1000, "message": "old"}])
    advance(endpoint, 12 * 3600)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": server_now_ms(endpoint), "message": "new"}])
    advance(endpoint, 13 * 3600)  # "old" is now 25 hours old, "new" 13
    # Reads leave expired events out at once; the sweep timer deletes them (storedBytes drops).
    assert messages(logs, group, "") == ["new"]
    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["new"]
    assert wait_for(lambda: logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] == 3)


@pytest.mark.slow
def test_everything_survives_a_restart(server_factory):
    server = server_factory().start()
    logs = client_for(server.endpoint, "logs")
    logs.create_log_group(logGroupName="/durable/app", tags={"k": "v"})
    logs.put_retention_policy(logGroupName="/durable/app", retentionInDays=7)
    logs.create_log_stream(logGroupName="/durable/app", logStreamName="s")
    now = server_now_ms(server.endpoint)
    logs.put_log_events(logGroupName="/durable/app", logStreamName="s",
                        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)])
    logs.put_metric_filter(logGroupName="/durable/app", filterName="f", filterPattern="line",
                           metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}])

    server.kill()
    server.start()
    logs = client_for(server.endpoint, "logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/durable")["logGroups"]
    assert group["retentionInDays"] == 7 and group["metricFilterCount"] == 1
    assert logs.list_tags_log_group(logGroupName="/durable/app")["tags"] == {"k": "v"}
    events = logs.get_log_events(logGroupName="/durable/app", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in events] == [f"line {i}" for i in range(5)]
    # The retention sweep timer survived too: 8 days on, the events are gone from the store.
    advance(server.endpoint, 8 * 86400)
    assert wait_for(lambda: logs.describe_log_groups(logGroupNamePrefix="/durable/app")["logGroups"][0]["storedBytes"] == 0)
