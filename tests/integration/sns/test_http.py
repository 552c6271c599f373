"""HTTP/S subscriptions against a local HTTP server run by the test, on both stores.

Docs: SNS developer guide "Fanout to HTTP/S endpoints" (the confirmation handshake, the
headers SNS sends) and "Amazon SNS message delivery retries" (the default HTTP policy:
three retries 20 seconds apart; 5xx answers are retried), "Amazon SNS dead-letter queues".
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import receive, wait_for


class Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict | str]] = []
        self.status = 200
        self.lock = threading.Lock()

    def of_type(self, kind: str) -> list[tuple[dict[str, str], dict | str]]:
        with self.lock:
            return [r for r in self.requests if r[0].get("x-amz-sns-message-type") == kind]


@pytest.fixture
def http_endpoint() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
            body = self.rfile.read(int(self.headers["content-length"])).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                parsed: dict | str = json.loads(body)
            except ValueError:
                parsed = body
            with recorder.lock:
                recorder.requests.append((headers, parsed))
                status = recorder.status if headers.get("x-amz-sns-message-type") == "Notification" else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", recorder
    finally:
        server.shutdown()
        server.server_close()


def test_http_subscription_confirmed_by_subscribe_url_and_delivered(sns, make_topic, http_endpoint):
    url, recorder = http_endpoint
    topic = make_topic()
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"] == "pending confirmation"
    [(headers, confirmation)] = wait_for(lambda: recorder.of_type("SubscriptionConfirmation"))
    assert headers["x-amz-sns-topic-arn"] == topic
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic and confirmation["Token"]
    [pending] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert pending["SubscriptionArn"] == "PendingConfirmation"
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as response:
        assert b"ConfirmSubscriptionResult" in response.read()
    [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sub["SubscriptionArn"].startswith(topic + ":")
    # Fetching the SubscribeURL is an unauthenticated confirmation.
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
    assert attributes["PendingConfirmation"] == "false" and attributes["ConfirmationWasAuthenticated"] == "false"
    message_id = sns.publish(TopicArn=topic, Message="to the web", Subject="hi")["MessageId"]
    [(headers, envelope)] = wait_for(lambda: recorder.of_type("Notification"))
    assert headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-subscription-arn"] == sub["SubscriptionArn"]
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert envelope["Message"] == "to the web" and envelope["Subject"] == "hi"


def test_http_retries_then_dead_letter_queue(sns, sqs, make_topic, make_queue, http_endpoint, advance_clock):
    url, recorder = http_endpoint
    recorder.status = 500
    topic = make_topic()
    dlq_url, dlq_arn = make_queue("http-dlq")
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url,
                  Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    [(_, confirmation)] = wait_for(lambda: recorder.of_type("SubscriptionConfirmation"))
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    policy = json.loads(sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["EffectiveDeliveryPolicy"])
    assert policy["healthyRetryPolicy"]["numRetries"] == 3
    message_id = sns.publish(TopicArn=topic, Message="flaky")["MessageId"]
    # The first attempt and three retries, 20 s apart on the stratus clock.
    for attempt in range(1, 5):
        assert wait_for(lambda n=attempt: len(recorder.of_type("Notification")) >= n)
        assert len(recorder.of_type("Notification")) == attempt
        if attempt < 4:
            advance_clock(20)
    [dead] = receive(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    assert json.loads(dead["Body"])["MessageId"] == message_id
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "HTTP500"
    assert len(recorder.of_type("Notification")) == 4


def test_http_delivery_policy_is_honoured(sns, make_topic, http_endpoint, advance_clock):
    url, recorder = http_endpoint
    recorder.status = 503
    topic = make_topic()
    policy = {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 5, "maxDelayTarget": 5}}
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url, ReturnSubscriptionArn=True,
                        Attributes={"DeliveryPolicy": json.dumps(policy)})["SubscriptionArn"]
    [(_, confirmation)] = wait_for(lambda: recorder.of_type("SubscriptionConfirmation"))
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic, Message="once more")
    assert wait_for(lambda: len(recorder.of_type("Notification")) == 1)
    recorder.status = 200
    advance_clock(5)
    assert wait_for(lambda: len(recorder.of_type("Notification")) == 2)
    advance_clock(60)
    assert not wait_for(lambda: len(recorder.of_type("Notification")) > 2, timeout=1)


def test_http_subscription_confirmed_by_a_signed_call(sns, make_topic, http_endpoint):
    url, recorder = http_endpoint
    topic = make_topic()
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url, ReturnSubscriptionArn=True)["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "true" and attributes["ConfirmationWasAuthenticated"] == "false"
    assert attributes["RawMessageDelivery"] == "false"
    [(_, confirmation)] = wait_for(lambda: recorder.of_type("SubscriptionConfirmation"))
    assert sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"] == arn
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false" and attributes["ConfirmationWasAuthenticated"] == "true"
    # Confirming again answers the same subscription (ConfirmSubscription is idempotent).
    assert sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"] == arn
