"""Streams and events: CreateLogStream/DescribeLogStreams, PutLogEvents rules, GetLogEvents tokens."""

from __future__ import annotations

import pytest

from tests.helpers import error_code, server_now_ms

HOUR = 3_600_000
DAY = 24 * HOUR


def put(logs, group, stream, messages, start):
    events = [{"timestamp": start + i, "message": m} for i, m in enumerate(messages)]
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_streams_create_describe_delete(logs, make_group, endpoint):
    group = make_group()
    for name in ["b", "a", "c"]:
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName="a")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.create_log_stream(logGroupName=group + "-missing", logStreamName="a")
    with pytest.raises(logs.exceptions.ClientError):
        logs.create_log_stream(logGroupName=group, logStreamName="bad:name")
    now = server_now_ms(endpoint)
    put(logs, group, "c", ["one"], now - 1000)
    put(logs, group, "a", ["two"], now)

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c"]
    a = streams[0]
    assert a["firstEventTimestamp"] == a["lastEventTimestamp"] == now
    assert a["lastIngestionTime"] >= a["creationTime"]
    # Log streams' storedBytes is deprecated and always 0 (LogStream, API reference); the group counts them.
    assert all(s["storedBytes"] == 0 for s in streams)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] == 6
    assert a["arn"].endswith(f":log-group:{group}:log-stream:a")
    assert "firstEventTimestamp" not in streams[1]

    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in by_time] == ["a", "c", "b"]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a")
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")["logStreams"]] == ["b"]

    first = logs.describe_log_streams(logGroupName=group, limit=2, descending=True)
    assert [s["logStreamName"] for s in first["logStreams"]] == ["c", "b"]
    rest = logs.describe_log_streams(logGroupName=group, limit=2, descending=True, nextToken=first["nextToken"])
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["a"] and "nextToken" not in rest

    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    assert len(logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]) == 3

    logs.delete_log_stream(logGroupName=group, logStreamName="a")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_stream(logGroupName=group, logStreamName="a")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName=group + "-missing")


def test_put_log_events_unknown_group_or_stream(logs, make_stream, endpoint):
    group, stream = make_stream()
    event = [{"timestamp": server_now_ms(endpoint), "message": "x"}]
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as exc:
        logs.put_log_events(logGroupName=group, logStreamName="nope", logEvents=event)
    assert exc.value.response["Error"]["Message"] == "The specified log stream does not exist."
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as exc:
        logs.put_log_events(logGroupName=group + "-nope", logStreamName=stream, logEvents=event)
    assert exc.value.response["Error"]["Message"] == "The specified log group does not exist."


def test_put_log_events_batch_rules(logs, make_stream, endpoint):
    group, stream = make_stream()
    now = server_now_ms(endpoint)
    with pytest.raises(logs.exceptions.InvalidParameterException) as exc:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}])
    assert "chronological" in exc.value.response["Error"]["Message"]
    # 1,048,576 bytes counting 26 per event: two events of 524,263 bytes are one byte too many.
    big = "x" * (524_288 - 26)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now, "message": big}, {"timestamp": now, "message": big}])
    with pytest.raises(logs.exceptions.InvalidParameterException) as exc:
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now, "message": big}, {"timestamp": now, "message": big + "y"}])
    assert "Upload too large" in exc.value.response["Error"]["Message"]
    with pytest.raises(logs.exceptions.ClientError) as exc:
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now, "message": "m"}] * 10_001)
    # The model's limit of 10,000 events, answered as CloudWatch Logs answers model violations.
    assert error_code(exc) == "InvalidParameterException"
    assert exc.value.response["Error"]["Message"].startswith("1 validation error detected: Value '[")
    assert exc.value.response["Error"]["Message"].endswith(
        "' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000")
    with pytest.raises(logs.exceptions.InvalidParameterException) as exc:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now - 25 * HOUR, "message": "a"}, {"timestamp": now, "message": "b"}])
    assert "24 hours" in exc.value.response["Error"]["Message"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] == 2 * len(big)


def test_rejected_old_new_and_expired_events(logs, make_stream, endpoint):
    group, stream = make_stream()
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = server_now_ms(endpoint)
    events = [
        {"timestamp": now - 15 * DAY, "message": "too old and expired"},
        {"timestamp": now - 2 * DAY, "message": "expired"},
        {"timestamp": now - HOUR, "message": "kept 1"},
        {"timestamp": now, "message": "kept 2"},
        {"timestamp": now + 3 * HOUR, "message": "too new"},
    ]
    result = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events, sequenceToken="ignored")
    assert result["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0, "expiredLogEventEndIndex": 1, "tooNewLogEventStartIndex": 4}
    assert result["nextSequenceToken"]
    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["kept 1", "kept 2"]
    assert all(e["ingestionTime"] >= now for e in got)


def test_get_log_events_tokens_both_directions(logs, make_stream, endpoint):
    group, stream = make_stream()
    now = server_now_ms(endpoint)
    put(logs, group, stream, [f"m{i}" for i in range(10)], now - 10_000)

    latest = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3)  # the newest, by default
    assert [e["message"] for e in latest["events"]] == ["m7", "m8", "m9"]
    assert latest["nextForwardToken"].startswith("f/") and latest["nextForwardToken"].endswith("/s")
    # Forward from the end: nothing, and the same token back (a tail keeps polling with it).
    end = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=latest["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == latest["nextForwardToken"]

    pages, token = [], latest["nextBackwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3, nextToken=token)
        if not page["events"]:
            assert page["nextBackwardToken"] == token
            break
        pages.append([e["message"] for e in page["events"]])
        token = page["nextBackwardToken"]
    assert pages == [["m4", "m5", "m6"], ["m1", "m2", "m3"], ["m0"]]

    head = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=4, startFromHead=True)
    assert [e["message"] for e in head["events"]] == ["m0", "m1", "m2", "m3"]
    forward = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=4, nextToken=head["nextForwardToken"])
    assert [e["message"] for e in forward["events"]] == ["m4", "m5", "m6", "m7"]
    put(logs, group, stream, ["late"], now)  # new events appear to a reader moving forward
    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=forward["nextForwardToken"])
    assert [e["message"] for e in tail["events"]] == ["m8", "m9", "late"]

    window = logs.get_log_events(logGroupName=group, logStreamName=stream, startTime=now - 10_000 + 2, endTime=now - 10_000 + 5, startFromHead=True)
    assert [e["message"] for e in window["events"]] == ["m2", "m3", "m4"]  # endTime is exclusive
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken="garbage")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=group, logStreamName="nope")


def test_empty_stream_tokens(logs, make_stream):
    group, stream = make_stream()
    page = logs.get_log_events(logGroupName=group, logStreamName=stream)
    assert page["events"] == []
    again = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=page["nextForwardToken"])
    assert again["nextForwardToken"] == page["nextForwardToken"]
