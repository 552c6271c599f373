"""SQS state survives a crash, and several processes on one PostgreSQL share queues safely."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import POSTGRES, advance, client_for

pytestmark = pytest.mark.slow


def test_messages_survive_sigkill_and_an_unacknowledged_one_returns(server_factory, backend):
    server = server_factory().start()
    sqs = client_for(server.endpoint, "sqs")
    url = sqs.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    fifo = sqs.create_queue(QueueName="durable.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    bodies = [f"m{i}" for i in range(50)]
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])]
        )
    sqs.send_message(QueueUrl=fifo, MessageBody="f", MessageGroupId="g", MessageDeduplicationId="once")
    (held,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]

    server.kill()  # SIGKILL: nothing gets flushed or closed
    server.start()
    sqs = client_for(server.endpoint, "sqs")

    # The FIFO deduplication record survived too.
    sqs.send_message(QueueUrl=fifo, MessageBody="f", MessageGroupId="g", MessageDeduplicationId="once")
    assert len(sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]) == 1

    received = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        received += batch
    assert sorted(m["Body"] for m in received) == sorted(b for b in bodies if b != held["Body"])
    advance(server.endpoint, 31)  # the held message's visibility timeout ends
    (back,) = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert back["MessageId"] == held["MessageId"]
    assert back["Attributes"]["ApproximateReceiveCount"] == "2"


@pytest.fixture
def two_nodes(server_factory, backend):
    if backend != "postgresql" or not POSTGRES:
        pytest.skip("several nodes share state only on PostgreSQL")
    return server_factory().start(), server_factory().start()


def test_long_poll_on_one_node_wakes_on_a_send_to_another(two_nodes):
    a, b = two_nodes
    sqs_a, sqs_b = client_for(a.endpoint, "sqs"), client_for(b.endpoint, "sqs")
    url = sqs_a.create_queue(QueueName="shared")["QueueUrl"]
    result: dict = {}

    def poll():
        result["messages"] = client_for(a.endpoint, "sqs", read_timeout=15).receive_message(
            QueueUrl=url, WaitTimeSeconds=20
        ).get("Messages")

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    sqs_b.send_message(QueueUrl=url, MessageBody="across nodes")
    poller.join(25)
    # The client gives up after 15 s of a 20 s wait: only a poll the send woke answers in time.
    assert [m["Body"] for m in result["messages"]] == ["across nodes"]


def test_no_message_goes_to_two_receivers_within_its_visibility_timeout(two_nodes):
    a, b = two_nodes
    url = client_for(a.endpoint, "sqs").create_queue(QueueName="race", Attributes={"VisibilityTimeout": "600"})[
        "QueueUrl"
    ]
    sender = client_for(b.endpoint, "sqs")
    total = 200
    for start in range(0, total, 10):
        sender.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"{start + i}"} for i in range(10)]
        )
    seen: list[str] = []
    lock = threading.Lock()

    def consume(endpoint: str) -> None:
        client = client_for(endpoint, "sqs")
        while True:
            batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return
            with lock:
                seen.extend(m["MessageId"] for m in batch)

    workers = [threading.Thread(target=consume, args=(node.endpoint,)) for node in (a, b, a, b)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert len(seen) == total
    assert len(set(seen)) == total


def test_fifo_groups_stay_whole_across_nodes(two_nodes):
    a, b = two_nodes
    url = client_for(a.endpoint, "sqs").create_queue(
        QueueName="groups.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    sender = client_for(a.endpoint, "sqs")
    for group in range(5):
        sender.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"{group}-{i}", "MessageGroupId": f"g{group}"} for i in range(4)],
        )
    handed: list[list[str]] = []
    lock = threading.Lock()

    def consume(endpoint: str) -> None:
        client = client_for(endpoint, "sqs")
        for _ in range(10):
            batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=3).get("Messages", [])
            with lock:
                handed.append([m["Body"] for m in batch])

    workers = [threading.Thread(target=consume, args=(node.endpoint,)) for node in (a, b, a, b)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    # Nothing is deleted, so once a receive takes messages of a group the group stays in flight:
    # each group is handed out in one receive only, in order, and never split between two.
    batches_of: dict[str, int] = {}
    for index, batch in enumerate(handed):
        groups = {body.split("-")[0] for body in batch}
        for group in groups:
            assert group not in batches_of, f"group {group} handed out twice"
            batches_of[group] = index
            bodies = [body for body in batch if body.startswith(f"{group}-")]
            assert bodies == [f"{group}-{i}" for i in range(len(bodies))]
    assert len(batches_of) == 5
