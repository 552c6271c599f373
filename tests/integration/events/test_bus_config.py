"""Event bus settings: KmsKeyIdentifier (encryption with a customer managed key), DeadLetterConfig
(the bus's dead-letter queue for encryption errors) and LogConfig.

Docs: EventBridge API reference CreateEventBus, UpdateEventBus, DescribeEventBus, ListEventBuses,
LogConfig; user guide "Encrypting EventBridge event buses with AWS KMS keys", "Authorizing
EventBridge to use a customer managed key" (DescribeKey checks the key is symmetric), "Using
dead-letter queues to capture encrypted event errors in EventBridge", "Decrypting events in
EventBridge dead-letter queues" and "Using dead-letter queues to process undelivered events".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import client_for
from tests.helpers import bodies, error_code, nothing_arrives, receive, wait_for


@pytest.fixture
def kms(endpoint: str) -> Any:
    return client_for(endpoint, "kms")


def _attributes(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}


def _routed_bus(events, kms, make_queue, unique) -> dict[str, Any]:
    """A bus encrypted with a new key, with a dead-letter queue and a rule sending to a queue."""
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    dlq_url, dlq_arn = make_queue("busdlq")
    target_url, target_arn = make_queue("target")
    bus = unique("secure")
    bus_arn = events.create_event_bus(Name=bus, KmsKeyIdentifier=key_id, DeadLetterConfig={"Arn": dlq_arn})["EventBusArn"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["orders"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": target_arn}])
    return {"key": key_id, "bus": bus, "bus_arn": bus_arn, "dlq": dlq_url, "target": target_url}


def _put(events, bus: str, n: int) -> str:
    result = events.put_events(Entries=[{"Source": "orders", "DetailType": "placed", "Detail": json.dumps({"n": n}),
                                         "EventBusName": bus}])
    assert result["FailedEntryCount"] == 0
    return result["Entries"][0]["EventId"]


def test_settings_round_trip_through_create_update_describe_and_list(events, kms, make_queue, unique):
    key = kms.create_key()["KeyMetadata"]
    alias = f"alias/{unique('bus')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    _, dlq_arn = make_queue("dlq")
    name = unique("configured")
    created = events.create_event_bus(Name=name, Description="orders", KmsKeyIdentifier=alias,
                                      DeadLetterConfig={"Arn": dlq_arn}, LogConfig={"IncludeDetail": "FULL", "Level": "TRACE"})
    assert created["KmsKeyIdentifier"] == alias and created["DeadLetterConfig"] == {"Arn": dlq_arn}
    assert created["LogConfig"] == {"IncludeDetail": "FULL", "Level": "TRACE"} and created["Description"] == "orders"

    described = events.describe_event_bus(Name=name)
    assert described["KmsKeyIdentifier"] == alias and described["DeadLetterConfig"] == {"Arn": dlq_arn}
    assert described["LogConfig"] == {"IncludeDetail": "FULL", "Level": "TRACE"}

    # ListEventBuses' EventBus carries none of these settings.
    (listed,) = events.list_event_buses(NamePrefix=name)["EventBuses"]
    assert listed["Name"] == name and listed["Description"] == "orders"
    assert not {"KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"} & set(listed)

    # Every form of key identifier is accepted: key ARN, key id, alias name, alias ARN.
    alias_arn = key["Arn"].split(":key/")[0] + f":{alias}"
    for identifier in (key["Arn"], key["KeyId"], alias_arn):
        updated = events.update_event_bus(Name=name, KmsKeyIdentifier=identifier)
        assert updated["KmsKeyIdentifier"] == identifier
    updated = events.update_event_bus(Name=name, LogConfig={"Level": "ERROR"})
    assert updated["LogConfig"] == {"Level": "ERROR"} and updated["KmsKeyIdentifier"] == alias_arn
    assert updated["Description"] == "orders" and updated["DeadLetterConfig"] == {"Arn": dlq_arn}
    # An empty identifier goes back to the AWS owned key.
    events.update_event_bus(Name=name, KmsKeyIdentifier="")
    described = events.describe_event_bus(Name=name)
    assert "KmsKeyIdentifier" not in described and described["LogConfig"] == {"Level": "ERROR"}

    plain = unique("plain")
    events.create_event_bus(Name=plain)
    assert not {"KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"} & set(events.describe_event_bus(Name=plain))


def test_a_key_that_is_missing_or_not_symmetric_and_a_dlq_that_is_not_a_queue_are_refused(events, kms, make_queue, unique):
    name = unique("refused")
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    for identifier in ("alias/does-not-exist", "1234abcd-12ab-34cd-56ef-1234567890ab", asymmetric):
        with pytest.raises(events.exceptions.ClientError) as excinfo:
            events.create_event_bus(Name=name, KmsKeyIdentifier=identifier)
        assert error_code(excinfo) == "ValidationException"
        assert "KmsKeyIdentifier" in excinfo.value.response["Error"]["Message"]
    for arn in ("arn:aws:sns:us-east-1:000000000000:topic", "not-an-arn"):
        with pytest.raises(events.exceptions.ClientError) as excinfo:
            events.create_event_bus(Name=name, DeadLetterConfig={"Arn": arn})
        assert error_code(excinfo) == "ValidationException"
    # Nothing was created.
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name=name)

    # A refused update changes nothing.
    _, dlq_arn = make_queue("dlq")
    events.create_event_bus(Name=name, DeadLetterConfig={"Arn": dlq_arn})
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.update_event_bus(Name=name, KmsKeyIdentifier="alias/does-not-exist", Description="changed")
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(events.exceptions.ClientError):
        events.update_event_bus(Name=name, DeadLetterConfig={"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"})
    described = events.describe_event_bus(Name=name)
    assert "Description" not in described and "KmsKeyIdentifier" not in described
    assert described["DeadLetterConfig"] == {"Arn": dlq_arn}


def test_an_event_on_a_bus_whose_key_is_disabled_goes_to_the_bus_dlq(events, kms, sqs, make_queue, unique):
    setup = _routed_bus(events, kms, make_queue, unique)
    kms.disable_key(KeyId=setup["key"])
    event_id = _put(events, setup["bus"], 1)

    (message,) = receive(sqs, setup["dlq"], 1, MessageAttributeNames=["All"])
    body = json.loads(message["Body"])
    assert body["id"] == event_id and body["detail"] == {"n": 1} and body["source"] == "orders"
    attributes = _attributes(message)
    assert sorted(attributes) == ["ERROR_CODE", "ERROR_MESSAGE", "RETRY_ATTEMPTS"]
    assert attributes["ERROR_CODE"] and "disabled" in attributes["ERROR_MESSAGE"]
    assert attributes["RETRY_ATTEMPTS"] == "0"
    # The event was dead-lettered instead of routed: the rule's target never gets it.
    assert nothing_arrives(sqs, setup["target"])

    # With the key enabled again, events flow to the target and nothing more is dead-lettered.
    kms.enable_key(KeyId=setup["key"])
    event_id = _put(events, setup["bus"], 2)
    (delivered,) = bodies(receive(sqs, setup["target"], 1))
    assert delivered["id"] == event_id and delivered["detail"] == {"n": 2}
    assert nothing_arrives(sqs, setup["dlq"])


def test_a_bus_whose_key_is_gone_dead_letters_and_aws_events_are_unaffected(events, kms, sqs, make_queue, unique):
    setup = _routed_bus(events, kms, make_queue, unique)
    kms.schedule_key_deletion(KeyId=setup["key"], PendingWindowInDays=7)
    event_id = _put(events, setup["bus"], 3)
    (message,) = receive(sqs, setup["dlq"], 1, MessageAttributeNames=["All"])
    assert json.loads(message["Body"])["id"] == event_id
    assert "pending deletion" in _attributes(message)["ERROR_MESSAGE"]
    assert nothing_arrives(sqs, setup["target"])


def test_archived_events_are_sealed_under_the_bus_key(events, kms, sqs, make_queue, unique, advance_clock):
    # Archive contents are encrypted with the bus's key: a replay while the key is disabled
    # cannot open them and dead-letters the ciphertext; with the key enabled it replays them.
    setup = _routed_bus(events, kms, make_queue, unique)
    archive = unique("arch")
    archive_arn = events.create_archive(ArchiveName=archive, EventSourceArn=setup["bus_arn"])["ArchiveArn"]
    stratus_now = datetime.fromtimestamp(advance_clock(0)["now_ms"] / 1000, UTC)
    event_id = _put(events, setup["bus"], 4)
    (delivered,) = bodies(receive(sqs, setup["target"], 1))
    assert delivered["id"] == event_id
    assert wait_for(lambda: events.describe_archive(ArchiveName=archive)["EventCount"] == 1, timeout=10)
    advance_clock(120)
    window = {"EventSourceArn": archive_arn, "EventStartTime": stratus_now - timedelta(minutes=1),
              "EventEndTime": stratus_now + timedelta(minutes=1), "Destination": {"Arn": setup["bus_arn"]}}

    kms.disable_key(KeyId=setup["key"])
    events.start_replay(ReplayName=unique("locked"), **window)
    (message,) = receive(sqs, setup["dlq"], 1, MessageAttributeNames=["All"])
    wrapped = json.loads(message["Body"])
    assert wrapped["source"] == "aws.events" and wrapped["detail-type"] == "Encrypted Events"
    assert wrapped["detail"]["event-bus-arn"] == setup["bus_arn"]
    assert wrapped["detail"]["kms-key-arn"].endswith(setup["key"]) and wrapped["detail"]["encrypted-payload"]
    assert '"n":4' not in message["Body"] and '"n": 4' not in message["Body"]
    assert nothing_arrives(sqs, setup["target"])

    kms.enable_key(KeyId=setup["key"])
    replay = unique("open")
    events.start_replay(ReplayName=replay, **window)
    (replayed,) = bodies(receive(sqs, setup["target"], 1))
    assert replayed["id"] == event_id and replayed["replay-name"] == replay and replayed["detail"] == {"n": 4}


def test_a_sealed_delivery_whose_key_is_disabled_goes_to_the_target_dlq(events, kms, sqs, make_queue, unique,
                                                                          advance_clock):
    # A decryption error on the way to a target goes to the target's dead-letter queue, as the
    # encrypted event AWS sends ("Encrypted Events", the ciphertext in encrypted-payload).
    setup = _routed_bus(events, kms, make_queue, unique)
    target_dlq_url, target_dlq_arn = make_queue("targetdlq")
    rule_arn = events.put_rule(Name="flaky", EventBusName=setup["bus"],
                               EventPattern=json.dumps({"source": ["orders"]}))["RuleArn"]
    # Step Functions is not in stratus yet: its deliveries fail and are retried.
    events.put_targets(Rule="flaky", EventBusName=setup["bus"], Targets=[{
        "Id": "sfn", "Arn": "arn:aws:states:us-east-1:000000000000:stateMachine:later",
        "RetryPolicy": {"MaximumRetryAttempts": 50, "MaximumEventAgeInSeconds": 86400},
        "DeadLetterConfig": {"Arn": target_dlq_arn}}])
    archive = unique("arch")
    events.create_archive(ArchiveName=archive, EventSourceArn=setup["bus_arn"])
    _put(events, setup["bus"], 5)
    # The archive row is written with the deliveries: once it is there, they are sealed and pending.
    assert wait_for(lambda: events.describe_archive(ArchiveName=archive)["EventCount"] == 1, timeout=10)
    kms.disable_key(KeyId=setup["key"])

    (message,) = receive(sqs, target_dlq_url, 1, timeout=30, tick=lambda: advance_clock(30), MessageAttributeNames=["All"])
    wrapped = json.loads(message["Body"])
    assert wrapped["detail-type"] == "Encrypted Events" and wrapped["detail"]["rule-arn"] == rule_arn
    assert wrapped["detail"]["event-bus-arn"] == setup["bus_arn"]
    attributes = _attributes(message)
    assert attributes["RULE_ARN"] == rule_arn and "EXHAUSTED_RETRY_CONDITION" not in attributes
    assert "disabled" in attributes["ERROR_MESSAGE"]
    # The bus's own dead-letter queue is for errors before routing: it gets nothing here.
    assert nothing_arrives(sqs, setup["dlq"], 0)
