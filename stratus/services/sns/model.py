"""SNS's domain rules: names, ARNs, attributes and their defaults, message checks, limits.

Pure functions only (no store, no I/O). Error wording follows what SNS answers: almost every
client error is ``InvalidParameter`` with a message starting ``Invalid parameter: ``.
Docs: SNS API reference (CreateTopic, Subscribe, Publish, SetTopicAttributes,
SetSubscriptionAttributes) and the developer guide's "Message attributes", "Message
delivery retries", "FIFO topics" and "Publishing large messages".
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from stratus.aws.api.sns import InvalidParameterException, InvalidParameterValueException
from stratus.aws.arns import Arn, parse_arn, root_arn

DEFAULT_MAX_MESSAGE_SIZE = 262_144  # 256 KiB unless the topic's MaximumMessageSize says otherwise
MIN_MAX_MESSAGE_SIZE = 1_024
MAX_MAX_MESSAGE_SIZE = 1_048_576
MAX_BATCH_ENTRIES = 10
MAX_TAGS = 50
MAX_SUBJECT = 100
PAGE_SIZE = 100
DEDUP_WINDOW_MS = 5 * 60 * 1000

PROTOCOLS = frozenset({"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"})
# Protocols whose subscriptions wait for the endpoint's owner to confirm.
CONFIRMED_BY_OWNER = frozenset({"http", "https", "email", "email-json"})
RAW_DELIVERY_PROTOCOLS = frozenset({"sqs", "http", "https", "firehose"})

TOPIC_ATTRIBUTES = frozenset({
    "DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId", "SignatureVersion",
    "FifoTopic", "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope", "DataProtectionPolicy",
    "MaximumMessageSize",
    # Delivery status logging: stored and returned, not acted upon.
    "HTTPSuccessFeedbackRoleArn", "HTTPFailureFeedbackRoleArn", "HTTPSuccessFeedbackSampleRate",
    "SQSSuccessFeedbackRoleArn", "SQSFailureFeedbackRoleArn", "SQSSuccessFeedbackSampleRate",
    "LambdaSuccessFeedbackRoleArn", "LambdaFailureFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate",
    "FirehoseSuccessFeedbackRoleArn", "FirehoseFailureFeedbackRoleArn", "FirehoseSuccessFeedbackSampleRate",
    "ApplicationSuccessFeedbackRoleArn", "ApplicationFailureFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
})
# Only CreateTopic may set these.
CREATE_ONLY_TOPIC_ATTRIBUTES = frozenset({"FifoTopic"})
SUBSCRIPTION_ATTRIBUTES = frozenset({
    "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
    "SubscriptionRoleArn", "ReplayPolicy",
})

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_E164 = re.compile(r"^\+?[1-9]\d{1,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_ATTRIBUTE_NAME_CHAR = re.compile(r"[A-Za-z0-9_\-.]")
MAX_ATTRIBUTE_NAME = 256
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FIFO_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # alphanumerics and punctuation, 1..128


def invalid(detail: str) -> InvalidParameterException:
    return InvalidParameterException(f"Invalid parameter: {detail}")


# --- ARNs ----------------------------------------------------------------------------------


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def topic_of_subscription(subscription_arn: str) -> str:
    return subscription_arn.rsplit(":", 1)[0]


def _arn_or_invalid(text: str, member: str) -> Arn:
    """``text`` parsed as an ARN, or SNS's answer for something that has too few parts."""
    parts = parse_arn(text)
    if parts is None:
        count = len(text.split(":"))
        if count >= 6:
            raise invalid(member)
        raise invalid(f"{member} Reason: An ARN must have at least 6 elements, not {count}")
    return parts


def check_topic_arn(text: str, region: str, member: str = "TopicArn") -> Arn:
    """A topic ARN of the caller's region; SNS answers InvalidParameter for anything else.

    SNS serves a topic only in its own region: another region's ARN is an invalid
    parameter, not an unknown topic.
    """
    parts = _arn_or_invalid(text, member)
    if parts.service != "sns" or ":" in parts.resource or parts.region != region:
        raise invalid(member)
    return parts


def check_subscription_arn(text: str) -> Arn:
    """A subscription ARN's parts: ``<topic ARN>:<uuid>``."""
    if not text:
        raise invalid("SubscriptionArn Reason: no value for required parameter")
    parts = _arn_or_invalid(text, "SubscriptionArn")
    if parts.service != "sns":
        raise invalid("SubscriptionArn")
    if parts.resource.count(":") != 1 or not _UUID.match(parts.resource.split(":", 1)[1]):
        raise invalid("SubscriptionId")
    return parts


# --- topics --------------------------------------------------------------------------------


def validate_topic_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_TOPIC_NAME.match(name):
            raise invalid(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII "
                "letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
            )
    elif not _TOPIC_NAME.match(name):
        raise invalid("Topic Name")


def is_true(value: str | None) -> bool:
    return (value or "").lower() == "true"


def check_topic_attribute(name: str, value: str, *, fifo: bool, creating: bool) -> str:
    """The value to store for one topic attribute; raises InvalidParameter as SNS does."""
    if name not in TOPIC_ATTRIBUTES or (not creating and name in CREATE_ONLY_TOPIC_ATTRIBUTES):
        raise invalid("AttributeName")
    if name in ("FifoTopic", "ContentBasedDeduplication"):
        if value.lower() not in ("true", "false"):
            raise invalid(f"Attributes Reason: {name} must be true or false")
        if name == "ContentBasedDeduplication" and is_true(value) and not fifo:
            raise invalid("Attributes Reason: Content based deduplication can only be set for FIFO topics")
        return value.lower()
    if name in ("Policy", "DeliveryPolicy", "DataProtectionPolicy", "ArchivePolicy") and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            raise invalid(f"Attributes Reason: {name}: failed to parse JSON") from None
        if not isinstance(parsed, dict):
            raise invalid(f"Attributes Reason: {name}: must be a JSON object")
        if name == "DeliveryPolicy":
            check_delivery_policy(parsed, topic=True)
    if name == "TracingConfig" and value not in ("Active", "PassThrough"):
        raise invalid("Attributes Reason: TracingConfig: must be Active or PassThrough")
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid("Attributes Reason: SignatureVersion: must be 1 or 2")
    if name == "FifoThroughputScope":
        if not fifo:
            raise invalid("Attributes Reason: FifoThroughputScope can only be set for FIFO topics")
        if value not in ("Topic", "MessageGroup"):
            raise invalid("Attributes Reason: FifoThroughputScope: must be Topic or MessageGroup")
    if name == "MaximumMessageSize":
        if not value.isdigit() or not MIN_MAX_MESSAGE_SIZE <= int(value) <= MAX_MAX_MESSAGE_SIZE:
            raise invalid(
                f"Attributes Reason: MaximumMessageSize must be between {MIN_MAX_MESSAGE_SIZE} and "
                f"{MAX_MAX_MESSAGE_SIZE} bytes"
            )
    return value


def default_policy(arn: str, account: str) -> str:
    """The access policy SNS writes for a new topic (only the owner may use it)."""
    return json.dumps({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
            ],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    }, separators=(",", ":"))


def add_permission(policy: str, arn: str, label: str, accounts: list[str], actions: list[str]) -> str:
    document = json.loads(policy)
    statements = document.setdefault("Statement", [])
    if any(s.get("Sid") == label for s in statements):
        raise invalid("Statement already exists")
    principals = [root_arn(a) if a.isdigit() else a for a in accounts]
    statements.append({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": [f"SNS:{a}" for a in actions] if len(actions) > 1 else f"SNS:{actions[0]}",
        "Resource": arn,
    })
    return json.dumps(document, separators=(",", ":"))


def remove_permission(policy: str, label: str) -> str:
    document = json.loads(policy)
    document["Statement"] = [s for s in document.get("Statement", []) if s.get("Sid") != label]
    return json.dumps(document, separators=(",", ":"))


# --- delivery policies ---------------------------------------------------------------------

# AWS's default HTTP/S retry policy: three retries 20 s apart.
DEFAULT_HEALTHY_RETRY_POLICY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
# AWS-managed endpoints (SQS, Lambda, Firehose): 100,015 retries over 23 days, not configurable.
MANAGED_RETRY_POLICY: dict[str, Any] = {
    "numNoDelayRetries": 3,
    "numMinDelayRetries": 2,
    "minDelayTarget": 1,
    "numRetries": 3 + 2 + 10 + 100_000,
    "maxDelayTarget": 20,
    "numMaxDelayRetries": 100_000,
    "backoffFunction": "exponential",
}
BACKOFF_FUNCTIONS = ("arithmetic", "exponential", "geometric", "linear")


def default_effective_delivery_policy() -> dict[str, Any]:
    return {
        "http": {
            "defaultHealthyRetryPolicy": dict(DEFAULT_HEALTHY_RETRY_POLICY),
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }


def effective_delivery_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """A topic's DeliveryPolicy over AWS's defaults, key by key (what EffectiveDeliveryPolicy shows)."""
    effective = default_effective_delivery_policy()
    http = policy.get("http")
    if isinstance(http, dict):
        for key, value in http.items():
            if isinstance(value, dict) and isinstance(effective["http"].get(key), dict):
                effective["http"][key].update(value)
            elif value is not None:
                effective["http"][key] = value
    return effective


def check_delivery_policy(policy: dict[str, Any], *, topic: bool) -> None:
    retry = (policy.get("http", {}).get("defaultHealthyRetryPolicy") if topic else policy.get("healthyRetryPolicy"))
    if retry is None:
        return
    if not isinstance(retry, dict):
        raise invalid("DeliveryPolicy: healthyRetryPolicy must be an object")
    merged = {**DEFAULT_HEALTHY_RETRY_POLICY, **retry}
    try:
        low, high, total = int(merged["minDelayTarget"]), int(merged["maxDelayTarget"]), int(merged["numRetries"])
    except (TypeError, ValueError):
        raise invalid("DeliveryPolicy: retry policy values must be integers") from None
    if not 1 <= low <= high <= 3600:
        raise invalid("DeliveryPolicy: minDelayTarget must be <= maxDelayTarget, both between 1 and 3600")
    if not 0 <= total <= 100:
        raise invalid("DeliveryPolicy: numRetries must be between 0 and 100")
    if merged["backoffFunction"] not in BACKOFF_FUNCTIONS:
        raise invalid(f"DeliveryPolicy: backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")


def retry_delay_s(policy: dict[str, Any], retry: int) -> float | None:
    """Seconds before retry number ``retry`` (1-based) under ``policy``, or None when retries are spent.

    The retries run in four phases: immediate ones, ones at the minimum delay, the backoff
    phase (from the minimum to the maximum delay by the backoff function), and ones at the
    maximum delay.
    """
    total = int(policy.get("numRetries", 3))
    if retry > total:
        return None
    no_delay = int(policy.get("numNoDelayRetries", 0))
    at_min = int(policy.get("numMinDelayRetries", 0))
    at_max = int(policy.get("numMaxDelayRetries", 0))
    low = float(policy.get("minDelayTarget", 20))
    high = float(policy.get("maxDelayTarget", 20))
    if retry <= no_delay:
        return 0.0
    if retry <= no_delay + at_min:
        return low
    backoff = max(total - no_delay - at_min - at_max, 0)
    step = retry - no_delay - at_min
    if step > backoff:
        return high
    fraction = step / backoff
    function = policy.get("backoffFunction", "linear")
    if function == "exponential":
        fraction = (2**step - 1) / (2**backoff - 1)
    elif function == "arithmetic":
        fraction = (step * (step + 1)) / (backoff * (backoff + 1))
    elif function == "geometric" and low > 0:
        return low * (high / low) ** fraction
    return low + (high - low) * fraction


# --- subscriptions -------------------------------------------------------------------------


def is_phone_number(text: str) -> bool:
    return bool(_E164.match(text.replace("-", "").replace(" ", "")))


def check_endpoint(protocol: str, endpoint: str | None) -> str:
    if protocol not in PROTOCOLS:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if not endpoint:
        raise invalid("Endpoint")
    if protocol in ("http", "https"):
        if not endpoint.lower().startswith(f"{protocol}://"):
            raise invalid("Endpoint must match the specified protocol")
    elif protocol in ("email", "email-json"):
        if not _EMAIL.match(endpoint):
            raise invalid("Email address")
    elif protocol == "sms":
        if not is_phone_number(endpoint):
            raise InvalidParameterException(f"Invalid SMS endpoint: {endpoint}")
    elif protocol == "sqs":
        if parse_arn(endpoint, "sqs") is None:
            raise invalid("SQS endpoint ARN")
    elif protocol == "lambda":
        parts = parse_arn(endpoint, "lambda")
        if parts is None or not parts.resource.startswith("function:"):
            raise invalid("Lambda endpoint ARN")
    elif protocol == "firehose":
        parts = parse_arn(endpoint, "firehose")
        if parts is None or not parts.resource.startswith("deliverystream/"):
            raise invalid("Firehose endpoint ARN")
    elif protocol == "application":
        if parse_arn(endpoint, "sns") is None or ":endpoint/" not in endpoint:
            raise invalid("Application endpoint ARN")
    return endpoint


def check_subscription_attribute(
    name: str, value: str, protocol: str, *, subscribing: bool, fifo_topic: bool = False, endpoint: str = ""
) -> str:
    """Shape and meaning checks of one subscription attribute except FilterPolicy (the pattern engine's).

    Subscribe words its errors ``Invalid parameter: Attributes Reason: <detail>``,
    SetSubscriptionAttributes ``Invalid parameter: <detail>``.
    """
    def bad(detail: str) -> InvalidParameterException:
        return invalid(f"Attributes Reason: {detail}" if subscribing else detail)

    if name not in SUBSCRIPTION_ATTRIBUTES:
        raise bad("AttributeName")
    if name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise bad(f"RawMessageDelivery: Invalid value [{value}]. Must be true or false.")
        if is_true(value) and protocol not in RAW_DELIVERY_PROTOCOLS:
            raise bad(f"Delivery protocol [{protocol}] does not support raw message delivery.")
        return value.lower()
    if name == "FilterPolicyScope" and value not in ("MessageAttributes", "MessageBody"):
        raise bad("FilterPolicyScope: Invalid filter policy scope, please specify a valid value among "
                  "[MessageAttributes, MessageBody]")
    if name == "DeliveryPolicy" and value:
        if protocol not in ("http", "https"):
            raise bad("DeliveryPolicy: Delivery policy is only supported for HTTP/S subscriptions")
        try:
            policy = json.loads(value)
        except ValueError:
            raise bad("DeliveryPolicy: failed to parse JSON.") from None
        if not isinstance(policy, dict):
            raise bad("DeliveryPolicy: must be a JSON object")
        check_delivery_policy(policy, topic=False)
    if name == "RedrivePolicy" and value:
        try:
            policy = json.loads(value)
        except ValueError:
            raise bad("RedrivePolicy: failed to parse JSON.") from None
        target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
        if not isinstance(target, str):
            raise bad("RedrivePolicy: deadLetterTargetArn is missing")
        dlq = parse_arn(target, "sqs")
        if dlq is None:
            raise bad("RedrivePolicy: deadLetterTargetArn is an invalid arn")
        # A FIFO queue subscribed to a FIFO topic keeps its order only with a FIFO dead-letter queue.
        if fifo_topic and endpoint.endswith(".fifo") and not dlq.resource.endswith(".fifo"):
            raise bad("RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.")
    if name == "SubscriptionRoleArn" and value and parse_arn(value, "iam") is None:
        raise bad("SubscriptionRoleArn")
    return value


# --- messages ------------------------------------------------------------------------------


def check_subject(subject: str) -> None:
    # ASCII text that begins with a letter, number or punctuation; no line breaks or control characters.
    if (
        not subject
        or len(subject) > MAX_SUBJECT
        or not subject.isascii()
        or any(ord(c) < 32 or ord(c) == 127 for c in subject)
        or subject[0].isspace()
    ):
        raise invalid("Subject")


def per_protocol_messages(message: str) -> dict[str, str]:
    """MessageStructure=json: the protocol -> message map, with its required "default" key."""
    try:
        parsed = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(parsed, dict):
        raise invalid("Message Structure - JSON message body failed to parse")
    if not isinstance(parsed.get("default"), str):
        raise invalid("Message Structure - No default entry in JSON message body")
    # Non-string values make SNS ignore the key.
    return {k: v for k, v in parsed.items() if isinstance(v, str)}


_SUPPORTED_TYPES = "Binary, Number, and String"


def _check_attribute_name(name: str) -> None:
    def bad(message: str) -> InvalidParameterValueException:
        return InvalidParameterValueException(message)

    if len(name.encode()) > MAX_ATTRIBUTE_NAME:
        raise bad(f"Length of message attribute name must be less than {MAX_ATTRIBUTE_NAME} bytes.")
    for char in name:
        if not _ATTRIBUTE_NAME_CHAR.match(char):
            raise bad(f"Invalid non-alphanumeric character '#x{ord(char):X}' was found in the message attribute "
                      "name. Can only include alphanumeric characters, hyphens, underscores, or dots.")
    if name.startswith("."):
        raise bad("Invalid message attribute name starting with character '.' was found.")
    if name.endswith("."):
        raise bad("Invalid message attribute name ending with character '.' was found.")
    if ".." in name:
        raise bad("Message attribute name can not have successive '.' character.")
    if name.lower().startswith(("aws.", "amazon.")):
        raise bad(f"Invalid message attribute name {name}: names starting with AWS. or Amazon. are reserved.")


def check_message_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Validated attributes as stored: ``{name: {"DataType", "StringValue"|"BinaryValue" (base64)}}``."""
    checked: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        def bad(reason: str) -> InvalidParameterValueException:
            return InvalidParameterValueException(
                f"Value ({attribute.get('StringValue', '')}) for parameter MessageAttributes is invalid. "
                f"Reason: {reason}"
            )

        _check_attribute_name(name)
        data_type = attribute.get("DataType", "")
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise InvalidParameterValueException(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                f"type prefixes is {_SUPPORTED_TYPES}."
            )
        # An empty value counts as no value; a value in the other type's field is named as such.
        string, binary = attribute.get("StringValue") or None, attribute.get("BinaryValue") or None
        if string is None and binary is None:
            raise InvalidParameterValueException(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{base}'."
            )
        if base == "Binary":
            if binary is None:
                raise InvalidParameterValueException(
                    f"The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                )
            raw = binary if isinstance(binary, (bytes, bytearray)) else base64.b64decode(binary)
            checked[name] = {"DataType": data_type, "BinaryValue": base64.b64encode(raw).decode()}
            continue
        if string is None:
            raise InvalidParameterValueException(
                f"The message attribute '{name}' with type '{base}' must use field 'String'."
            )
        value = string
        if base == "Number":
            try:
                number = Decimal(value)
            except InvalidOperation:
                raise bad(f"Could not cast message attribute '{name}' value to number.") from None
            if not number.is_finite() or abs(number) > Decimal("1e9"):
                raise bad(f"Number value for message attribute '{name}' is out of range.")
        if data_type == "String.Array":
            try:
                array = json.loads(value)
            except ValueError:
                array = None
            if not isinstance(array, list) or any(isinstance(v, (dict, list)) for v in array):
                raise invalid(
                    f"MessageAttributes Reason: The message attribute '{name}' with type 'String.Array' "
                    "must contain a JSON array of strings, numbers, booleans or nulls."
                )
        checked[name] = {"DataType": data_type, "StringValue": value}
    return checked


def message_size(message: str, attributes: dict[str, dict[str, str]]) -> int:
    """Bytes counted against the size limit: the message plus every attribute's name, type and value."""
    size = len(message.encode())
    for name, attribute in attributes.items():
        size += len(name.encode()) + len(attribute["DataType"].encode())
        if "BinaryValue" in attribute:
            size += len(base64.b64decode(attribute["BinaryValue"]))
        else:
            size += len(attribute["StringValue"].encode())
    return size


def check_fifo_id(name: str, value: str) -> None:
    if not _FIFO_ID.match(value):
        raise invalid(f"{name} Reason: {name} can only contain alphanumeric and punctuation characters, "
                      "and be up to 128 characters long")


def content_dedup_id(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


def sequence_number(seq: int) -> str:
    # FIFO sequence numbers are 128-bit, shown as a 20-digit (at least) decimal string.
    return f"{10_000_000_000_000_000_000 + seq}"


@dataclass(slots=True)
class Published:
    """One accepted message, as the delivery engine needs it (the timer payload's core)."""

    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    subject: str | None = None
    structure: dict[str, str] | None = None  # MessageStructure=json's protocol -> message
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    group_id: str | None = None
    dedup_id: str | None = None
    sequence: str | None = None
    trace: str | None = None

    def message_for(self, protocol: str) -> str:
        if self.structure is None:
            return self.message
        return self.structure.get(protocol, self.structure["default"])

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in (
            ("id", self.message_id), ("topic", self.topic_arn), ("message", self.message), ("ts", self.timestamp),
            ("subject", self.subject), ("structure", self.structure), ("attributes", self.attributes or None),
            ("group", self.group_id), ("dedup", self.dedup_id), ("seq", self.sequence), ("trace", self.trace),
        ) if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Published:
        return cls(
            message_id=data["id"], topic_arn=data["topic"], message=data["message"], timestamp=data["ts"],
            subject=data.get("subject"), structure=data.get("structure"), attributes=data.get("attributes") or {},
            group_id=data.get("group"), dedup_id=data.get("dedup"), sequence=data.get("seq"),
            trace=data.get("trace"),
        )
