"""A message Publish accepted is delivered even if the server is killed right after (both stores)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import client_for
from tests.helpers import queue_arn, receive, receive_until


@pytest.mark.slow
def test_publish_then_sigkill_then_delivery_after_restart(server_factory):
    server = server_factory().start()
    sns, sqs = client_for(server.endpoint, "sns"), client_for(server.endpoint, "sqs")
    topic = sns.create_topic(Name="durable")["TopicArn"]
    fifo_topic = sns.create_topic(Name="durable.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    queues = {}
    for name in ("a", "b", "c.fifo"):
        url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if name.endswith(".fifo") else {})[
            "QueueUrl"]
        arn = queue_arn(sqs, url)
        queues[name] = url
        sns.subscribe(TopicArn=fifo_topic if name.endswith(".fifo") else topic, Protocol="sqs", Endpoint=arn,
                      Attributes={"RawMessageDelivery": "true"})
    ids = [sns.publish(TopicArn=topic, Message=f"m{i}")["MessageId"] for i in range(20)]
    for i in range(5):
        sns.publish(TopicArn=fifo_topic, Message=f"f{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
    server.kill()
    server.start()
    sns, sqs = client_for(server.endpoint, "sns"), client_for(server.endpoint, "sqs")
    expected = {f"m{i}" for i in range(20)}
    for name in ("a", "b"):
        # Standard topics deliver at least once: a delivery cut short by the kill may come twice.
        got = receive_until(sqs, queues[name], lambda messages: {m["Body"] for m in messages} >= expected)
        assert {m["Body"] for m in got} == expected, name
    assert [m["Body"] for m in receive(sqs, queues["c.fifo"], 5)] == [f"f{i}" for i in range(5)]
    # Topics, subscriptions and the signing key survived too.
    assert len(sns.list_subscriptions()["Subscriptions"]) == 3
    assert len(ids) == 20
    sns.publish(TopicArn=topic, Message=json.dumps({"after": "restart"}))
    assert [m["Body"] for m in receive(sqs, queues["a"], 1)] == ['{"after": "restart"}']


def test_lambda_subscription_is_confirmed_at_once(sns, make_topic):
    topic = make_topic()
    arn = sns.subscribe(TopicArn=topic, Protocol="lambda", ReturnSubscriptionArn=True,
                        Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f")["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["Protocol"] == "lambda" and attributes["PendingConfirmation"] == "false"
    assert sns.publish(TopicArn=topic, Message="m")["MessageId"]
