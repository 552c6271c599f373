"""A container workload joined to an event-driven claims application through EventBridge and SQS.

From ``aws-blog/06-extending-a-serverless-event-driven-architecture-to-existing-container-workloads``
and its sample (serverless-eda-insurance-claims-processing, settlement-service.ts): the fraud
service puts ``Fraud.Not.Detected`` (source ``fraud.service``) on the claims bus; the settlement
domain's rule (``detail.documentType`` CAR, ``detail.fraudType`` CLAIMS) sends it to the
settlement queue; the settlement service (a Spring Boot container on Fargate: here, this test,
polling with boto3 as its SubscriberService does) applies its logic and puts
``Settlement.Finalized`` (source ``settlement.service``) back on the bus, where the rest of
the application consumes it (here a notifications queue, and a log group capturing every
settlement event as the sample's AllEventLogsRule does). The settlement DynamoDB table is
left out.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.conftest import client_for
from tests.helpers import bodies, nothing_arrives, receive

SETTLEMENT_RULE = {
    "source": ["fraud.service"],
    "detail-type": ["Fraud.Not.Detected"],
    "detail": {"documentType": ["CAR"], "fraudType": ["CLAIMS"]},
}


def settle(events: Any, sqs: Any, bus: str, queue_url: str) -> list[dict[str, Any]]:
    """One poll of the SubscriberService: settle each Fraud.Not.Detected event, emit Settlement.Finalized."""
    finalized = []
    for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10, MaxNumberOfMessages=10).get("Messages", []):
        fraud_not_detected = json.loads(message["Body"])
        detail = fraud_not_detected["detail"]
        settlement = {
            "settlementId": str(uuid.uuid4()),
            "customerId": detail["customerId"],
            "claimId": detail["claimId"],
            "settlementMessage": (
                f"Based on our analysis on the damage of your car per claim id {detail['claimId']}, "
                "your out-of-pocket expense will be $100.00."
            ),
        }
        answer = events.put_events(Entries=[{"EventBusName": bus, "Source": "settlement.service",
                                             "DetailType": "Settlement.Finalized", "Detail": json.dumps(settlement)}])
        assert answer["FailedEntryCount"] == 0
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        finalized.append(settlement)
    return finalized


def fraud_event(bus: str, customer: str, claim: str, fraud_type: str = "CLAIMS") -> dict[str, Any]:
    return {"EventBusName": bus, "Source": "fraud.service", "DetailType": "Fraud.Not.Detected", "Detail": json.dumps({
        "customerId": customer, "claimId": claim, "documentType": "CAR", "fraudType": fraud_type,
        "analyzedFieldAndValues": {"color": "green", "damage": "bumper_dent"},
    })}


def test_fraud_not_detected_is_settled_and_finalized(endpoint: str, events: Any, sqs: Any, make_queue: Any,
                                                     unique: Any) -> None:
    logs = client_for(endpoint, "logs")
    bus = unique("ClaimsBus")
    events.create_event_bus(Name=bus)
    settlement_url, settlement_arn = make_queue("settlement-queue")
    notifications_url, notifications_arn = make_queue("claims-notifications")
    log_group = f"/aws/events/{unique('claims-processing')}"
    logs.create_log_group(logGroupName=log_group)
    log_group_arn = logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"][0]["arn"]

    rules = {
        "SettlementOnFraudNotDetectedRule": (SETTLEMENT_RULE, settlement_arn),
        "SettlementFinalizedNotificationsRule": ({"detail-type": ["Settlement.Finalized"]}, notifications_arn),
        "AllEventLogsRule": ({"source": ["settlement.service"]}, log_group_arn),
    }
    for name, (pattern, target) in rules.items():
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "target", "Arn": target}])

    customer, claim = str(uuid.uuid4()), str(uuid.uuid4())
    answer = events.put_events(Entries=[
        fraud_event(bus, customer, claim),
        fraud_event(bus, customer, str(uuid.uuid4()), fraud_type="SIGNUP.CAR"),  # another domain's event
    ])
    assert answer["FailedEntryCount"] == 0

    [settlement] = settle(events, sqs, bus, settlement_url)
    assert nothing_arrives(sqs, settlement_url)  # the SIGNUP.CAR event is not the settlement domain's
    [finalized] = bodies(receive(sqs, notifications_url, 1))
    assert finalized["source"] == "settlement.service" and finalized["detail-type"] == "Settlement.Finalized"
    assert finalized["detail"] == settlement
    assert finalized["detail"]["claimId"] == claim and finalized["detail"]["customerId"] == customer
    assert set(finalized) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}

    deadline = time.monotonic() + 20
    logged: list[dict[str, Any]] = []
    while not logged and time.monotonic() < deadline:
        logged = logs.filter_log_events(logGroupName=log_group)["events"]
        time.sleep(0.2)
    assert [json.loads(e["message"])["id"] for e in logged] == [finalized["id"]]
