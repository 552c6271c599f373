"""SQS's pure rules: limits, queue attributes, message attributes, MD5 digests, handles, URLs.

Nothing here touches the store or the clock; the provider passes ``now`` in. Error codes
and messages follow the SQS API reference and what AWS answers on the wire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from stratus.aws.api.sqs import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)
from stratus.aws.errors import InvalidParameterValue, MissingParameter

# Limits from the SQS developer guide ("Amazon SQS message quotas", "queue quotas").
MAX_MESSAGE_SIZE = 1_048_576  # 1 MiB since August 2025, also the default MaximumMessageSize
MAX_BATCH_ENTRIES = 10
MAX_MESSAGE_ATTRIBUTES = 10
MAX_TAGS = 50
MAX_VISIBILITY_TIMEOUT = 43_200
MAX_DELAY_SECONDS = 900
MAX_WAIT_TIME_SECONDS = 20
DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000
RECEIVE_ATTEMPT_WINDOW_MS = 5 * 60 * 1000
PURGE_INTERVAL_MS = 60 * 1000
DELETED_NAME_HOLD_MS = 60 * 1000
MAX_RECEIVE_COUNT_LIMIT = 1000
# In-flight messages (received, not deleted) a queue holds at most ("Amazon SQS message quotas").
MAX_IN_FLIGHT = 120_000
NUMBER_PRECISION = 38
NUMBER_MIN_EXPONENT = -128
NUMBER_MAX_EXPONENT = 126

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
_BATCH_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_MESSAGE_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DEDUP_OR_GROUP_ID = re.compile(r"^[!-~]{1,128}$")  # alphanumeric and punctuation
_INVALID_BODY_CHAR = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

# Attributes a client may set, with their defaults (as GetQueueAttributes shows them).
STANDARD_DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    **STANDARD_DEFAULTS,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
# Settable, but shown only once set.
OPTIONAL_ATTRIBUTES = ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds")
FIFO_ONLY = ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
COMPUTED_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
ALL_QUEUE_ATTRIBUTES = frozenset(
    [*FIFO_DEFAULTS, *OPTIONAL_ATTRIBUTES, *COMPUTED_ATTRIBUTES]
)
SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)

_INT_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, MAX_DELAY_SECONDS),
    "MaximumMessageSize": (1024, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, MAX_WAIT_TIME_SECONDS),
    "VisibilityTimeout": (0, MAX_VISIBILITY_TIMEOUT),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_ENUMS: dict[str, tuple[str, ...]] = {
    "FifoQueue": ("true", "false"),
    "ContentBasedDeduplication": ("true", "false"),
    "SqsManagedSseEnabled": ("true", "false"),
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}

# Actions AddPermission may grant (the SQS API's "ActionName" list).
PERMISSION_ACTIONS = frozenset(
    {
        "*",
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ListQueueTags",
        "SetQueueAttributes",
        "TagQueue",
        "UntagQueue",
        "ChangeMessageVisibilityBatch",
        "DeleteMessageBatch",
        "SendMessageBatch",
        "StartMessageMoveTask",
        "CancelMessageMoveTask",
        "ListMessageMoveTasks",
    }
)


# --- queues -------------------------------------------------------------------------------


@dataclass(slots=True)
class Queue:
    id: int
    account: str
    region: str
    name: str
    fifo: bool
    attributes: Mapping[str, str]  # read-only: changes go through the store
    created_ms: int
    modified_ms: int
    purged_ms: int
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return queue_arn(self.region, self.account, self.name)

    @property
    def channel(self) -> str:
        return f"sqs.{self.id}"

    def int_attr(self, name: str) -> int:
        return int(self.attributes[name])

    @property
    def content_based_dedup(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

    @property
    def dedup_per_group(self) -> bool:
        return self.attributes.get("DeduplicationScope") == "messageGroup"

    @property
    def redrive(self) -> tuple[str, int] | None:
        """``(dead-letter queue ARN, maxReceiveCount)`` when the queue has a redrive policy."""
        raw = self.attributes.get("RedrivePolicy")
        if not raw:
            return None
        policy = json.loads(raw)
        return policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def parse_queue_arn(arn: str) -> tuple[str, str, str] | None:
    """``(region, account, name)`` of an SQS queue ARN, or None if it is not one."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        return None
    return parts[3], parts[4], parts[5]


def queue_url(endpoint: str, account: str, name: str) -> str:
    return f"{endpoint}/{account}/{name}"


def parse_queue_url(url: str, default_account: str) -> tuple[str, str]:
    """``(account, name)`` from any form of queue URL.

    AWS's own (``https://sqs.us-east-1.amazonaws.com/123456789012/q``), the legacy
    ``queue.amazonaws.com`` form, ours on any host, and a bare ``account/name`` all end
    in ``/<account>/<name>``; a bare name means the caller's account.
    """
    path = url.split("?", 1)[0].rstrip("/")
    if "://" in path:
        path = path.split("://", 1)[1].partition("/")[2]
    segments = [s for s in path.split("/") if s]
    if not segments:
        raise QueueDoesNotExist("The specified queue does not exist.")
    if len(segments) == 1:
        return default_account, segments[0]
    return segments[-2], segments[-1]


def validate_queue_name(name: str, fifo: bool) -> None:
    if not name:
        raise InvalidParameterValue("Queue name cannot be empty")
    if fifo:
        if not _FIFO_QUEUE_NAME.match(name):
            raise InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                "underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not _QUEUE_NAME.match(name):
        raise InvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


SSE_EXCLUSIVE = (
    "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."
)


def _invalid_value(name: str, reason: str | None = None) -> InvalidAttributeValue:
    if reason:
        return InvalidAttributeValue(f"Invalid value for the parameter {name}. Reason: {reason}")
    return InvalidAttributeValue(f"Invalid value for the parameter {name}.")


def check_attributes(attributes: dict[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Validate attributes for CreateQueue / SetQueueAttributes; answer them normalized.

    RedrivePolicy is checked only for shape here; whether its target exists and allows
    this source is for the provider, which can read other queues.
    """
    out: dict[str, str] = {}
    for name, value in attributes.items():
        settable = name in STANDARD_DEFAULTS or name in OPTIONAL_ATTRIBUTES or (fifo and name in FIFO_ONLY)
        if name == "FifoQueue" and not creating:
            # A queue's type is fixed when it is made: a FIFO queue accepts "true" again, a
            # standard queue does not know the attribute at all.
            if not fifo:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
            if str(value).lower() != "true":
                raise _invalid_value(name, "Modifying queue type is not supported.")
        if not settable:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        value = "" if value is None else str(value)
        if name in _INT_RANGES:
            low, high = _INT_RANGES[name]
            if not re.fullmatch(r"-?\d+", value.strip()) or not low <= int(value) <= high:
                raise _invalid_value(name)
            value = str(int(value))
        elif name in _ENUMS:
            if name in ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"):
                value = value.lower()
            if value not in _ENUMS[name]:
                raise _invalid_value(name)
        elif name == "Policy" and value:
            try:
                if not isinstance(json.loads(value), dict):
                    raise ValueError
            except ValueError:
                raise _invalid_value(name, "Policy is not a valid JSON document.") from None
        elif name == "RedrivePolicy" and value:
            value = _normalize_redrive_policy(value)
        elif name == "RedriveAllowPolicy" and value:
            value = _normalize_redrive_allow_policy(value)
        out[name] = value
    if out.get("FifoQueue") == "true" and not fifo:
        raise _invalid_value("FifoQueue")
    if out.get("SqsManagedSseEnabled") == "true" and out.get("KmsMasterKeyId"):
        raise InvalidAttributeName(SSE_EXCLUSIVE)
    if out.get("FifoThroughputLimit") == "perMessageGroupId" and out.get("DeduplicationScope") == "queue":
        raise _invalid_value(
            "FifoThroughputLimit",
            "The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup",
        )
    return out


def _normalize_redrive_policy(value: str) -> str:
    try:
        policy = json.loads(value)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise InvalidParameterValue(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map."
        )
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if target is None or count is None:
        raise InvalidParameterValue(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory "
            "attribute: " + ("deadLetterTargetArn" if target is None else "maxReceiveCount") + "."
        )
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= MAX_RECEIVE_COUNT_LIMIT:
        raise InvalidParameterValue(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: "
            f"{policy.get('maxReceiveCount')}, valid values are from 1 to {MAX_RECEIVE_COUNT_LIMIT} both inclusive."
        )
    if not isinstance(target, str) or parse_queue_arn(target) is None:
        raise InvalidParameterValue(
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn."
        )
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count}, separators=(",", ":"))


def _normalize_redrive_allow_policy(value: str) -> str:
    def bad(reason: str) -> InvalidParameterValue:
        return InvalidParameterValue(f"Value {value} for parameter RedriveAllowPolicy is invalid. Reason: {reason}")

    try:
        policy = json.loads(value)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise bad("Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.")
    permission = policy.get("redrivePermission")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise bad("Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.")
    sources = policy.get("sourceQueueArns")
    if permission == "byQueue":
        if not isinstance(sources, list) or not sources or len(sources) > 10:
            raise bad("The number of source queue ARNs must be between 1 and 10 when redrivePermission is byQueue.")
        if not all(isinstance(arn, str) and parse_queue_arn(arn) for arn in sources):
            raise bad("Invalid value for sourceQueueArns.")
    elif sources:
        raise bad("Only byQueue redrivePermission allows sourceQueueArns.")
    return json.dumps(policy, separators=(",", ":"))


def redrive_allowed(allow_policy: str | None, source_arn: str) -> bool:
    """Whether a dead-letter queue with ``allow_policy`` accepts ``source_arn`` as a source."""
    if not allow_policy:
        return True
    policy = json.loads(allow_policy)
    permission = policy.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in policy.get("sourceQueueArns", [])
    return True


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"Too many tags added for queue. Maximum allowed is {MAX_TAGS}.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidParameterValue(f"Tag key or value is invalid: {key}")
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue("Tag keys must not start with the reserved prefix aws:.")


def check_label(label: str) -> None:
    if not _LABEL.match(label):
        raise InvalidParameterValue(
            f"Value {label} for parameter Label is invalid. Reason: Can only include alphanumeric characters, "
            "hyphens, or underscores. 1 to 80 in length."
        )


# --- messages -----------------------------------------------------------------------------


def check_body(body: str) -> None:
    if body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    bad = _INVALID_BODY_CHAR.search(body)
    if bad:
        raise InvalidMessageContents(
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, the set of allowed "
            "characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )


def check_message_attributes(attributes: dict[str, dict[str, Any]]) -> int:
    """Validate user message attributes; answer the bytes they count toward the size limit."""
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}]."
        )
    size = 0
    for name, value in attributes.items():
        lowered = name.lower()
        if (
            not _MESSAGE_ATTRIBUTE_NAME.match(name)
            or lowered.startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise InvalidParameterValue(f"Message (user) attribute name '{name}' is invalid.")
        size += len(name.encode()) + _check_attribute_value(f"Message (user) attribute '{name}'", value)
    return size


def check_system_attributes(attributes: dict[str, dict[str, Any]]) -> int:
    for name, value in attributes.items():
        if name != "AWSTraceHeader":
            raise InvalidParameterValue(f"Message system attribute name '{name}' is invalid.")
        if value.get("DataType") != "String":
            raise InvalidParameterValue(
                f"Message system attribute '{name}' must have DataType String, not '{value.get('DataType')}'."
            )
        _check_attribute_value(f"Message system attribute '{name}'", value)
    return 0  # system attributes do not count toward the message size


def _check_attribute_value(what: str, value: dict[str, Any]) -> int:
    data_type = value.get("DataType") or ""
    base = data_type.split(".", 1)[0]
    if base not in ("String", "Number", "Binary") or len(data_type) > 256:
        raise InvalidParameterValue(
            f"The type of {what[0].lower()}{what[1:]} is invalid. You must use only the following supported type "
            "prefixes: Binary, Number, String."
        )
    if value.get("StringListValues") or value.get("BinaryListValues"):
        raise InvalidParameterValue("Message attribute list values in SendMessage operation are not supported.")
    if base == "Binary":
        blob = value.get("BinaryValue")
        if not blob:
            raise InvalidParameterValue(f"{what} must contain a non-empty value of type '{base}'.")
        return len(data_type.encode()) + len(blob)
    text = value.get("StringValue")
    if not text:
        raise InvalidParameterValue(f"{what} must contain a non-empty value of type '{base}'.")
    if base == "Number" and not _is_sqs_number(text):
        raise InvalidParameterValue(f"Can't cast the value of {what[0].lower()}{what[1:]} to a number.")
    bad = _INVALID_BODY_CHAR.search(text)
    if bad:
        raise InvalidParameterValue(f"{what} contains an invalid character '#x{ord(bad.group()):X}'.")
    return len(data_type.encode()) + len(text.encode())


def _is_sqs_number(text: str) -> bool:
    """A Number attribute: up to 38 significant digits, magnitude 10^-128 to 10^+126 (or zero).

    ("Message attribute data types", SQS developer guide.)
    """
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return False
    if not number.is_finite():
        return False
    if number.is_zero():
        return True
    # Significant digits without trailing zeros (normalize() would round to the context's precision).
    significant = "".join(map(str, number.as_tuple().digits)).strip("0")
    return len(significant) <= NUMBER_PRECISION and NUMBER_MIN_EXPONENT <= number.adjusted() <= NUMBER_MAX_EXPONENT


def check_fifo_id(parameter: str, value: str) -> None:
    if not _DEDUP_OR_GROUP_ID.match(value):
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include "
            "alphanumeric and punctuation characters. 1 to 128 in length."
        )


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: dict[str, dict[str, Any]]) -> str:
    """The documented digest: per attribute in name order, length-prefixed name, type and value.

    Each field is a 4-byte big-endian length and its UTF-8 bytes; the value is preceded by a
    transport byte, 1 for String/Number and 2 for Binary ("Calculating the MD5 message digest
    for message attributes", SQS developer guide).
    """
    out = bytearray()
    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        for part in (name.encode(), data_type.encode()):
            out += struct.pack(">I", len(part)) + part
        if data_type.startswith("Binary"):
            blob = value["BinaryValue"]
            out += b"\x02" + struct.pack(">I", len(blob)) + blob
        else:
            text = value["StringValue"].encode()
            out += b"\x01" + struct.pack(">I", len(text)) + text
    return md5_hex(bytes(out))


def encode_attributes(attributes: dict[str, dict[str, Any]]) -> str:
    """Message attributes as stored: JSON, binary values in base64."""
    stored = {}
    for name, value in attributes.items():
        if value["DataType"].startswith("Binary"):
            stored[name] = {"DataType": value["DataType"], "BinaryValue": base64.b64encode(value["BinaryValue"]).decode()}
        else:
            stored[name] = {"DataType": value["DataType"], "StringValue": value["StringValue"]}
    return json.dumps(stored, separators=(",", ":"))


def decode_attributes(stored: str | None) -> dict[str, dict[str, Any]]:
    if not stored:
        return {}
    attributes = json.loads(stored)
    for value in attributes.values():
        if "BinaryValue" in value:
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
    return attributes


def select_attributes(attributes: dict[str, dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """The message attributes a ReceiveMessage asked for: ``All``, ``.*``, names, or ``prefix.*``."""
    if not names or not attributes:
        return {}
    if "All" in names or ".*" in names:
        return attributes
    exact = {n for n in names if not n.endswith(".*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    return {k: v for k, v in attributes.items() if k in exact or (prefixes and k.startswith(prefixes))}


def message_size(body: str, attribute_bytes: int) -> int:
    return len(body.encode()) + attribute_bytes


def content_dedup_id(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


# --- receipt handles and task handles --------------------------------------------------------


def receipt_handle(queue_id: int, message_row: int, nonce: str) -> str:
    """An opaque handle naming one receive of one message; a new nonce makes each receive's unique."""
    return base64.urlsafe_b64encode(f"{queue_id}:{message_row}:{nonce}".encode()).decode().rstrip("=")


def parse_receipt_handle(handle: str, queue_id: int) -> tuple[int, str]:
    """``(message row, nonce)`` of a handle issued for ``queue_id``; ReceiptHandleIsInvalid otherwise."""
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
        queue_part, row_part, nonce = raw.split(":")
        if int(queue_part) == queue_id and nonce:
            return int(row_part), nonce
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.')


def receipt_handle_expired(handle: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    )


def not_available_for_visibility_change(handle: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
        "available for visibility timeout change."
    )


def check_total_visibility(visibility: int, elapsed_ms: int) -> None:
    """A message stays hidden at most 12 hours from the receive that handed it out
    (ChangeMessageVisibility, SQS API reference); AWS does not clip a longer request."""
    if elapsed_ms // 1000 + visibility > MAX_VISIBILITY_TIMEOUT:
        raise InvalidParameterValue(
            f"Value {visibility} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for "
            f"the message is beyond the limit [{MAX_VISIBILITY_TIMEOUT} seconds]"
        )


# --- batches ------------------------------------------------------------------------------


def check_batch(entries: list[dict[str, Any]], entry_shape: str) -> None:
    """The request-level batch rules; they fail the whole call, unlike per-entry failures."""
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry["Id"]
        if not _BATCH_ENTRY_ID.match(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)


def check_range(parameter: str, value: int, low: int, high: int, reason: str | None = None) -> None:
    """``low <= value <= high``, or AWS's InvalidParameterValue. SQS words the reason per parameter:
    "Must be between 1 and 10, if provided." (MaxNumberOfMessages) is the default; ``reason``
    gives another (see ``bounds``)."""
    if not low <= value <= high:
        reason = reason or f"Must be between {low} and {high}, if provided."
        raise InvalidParameterValue(f"Value {value} for parameter {parameter} is invalid. Reason: {reason}")


def bounds(low: int, high: int) -> str:
    """The reason SQS gives for ReceiveMessage's WaitTimeSeconds and VisibilityTimeout
    ("Value 50 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")."""
    return f"Must be >= {low} and <= {high}, if provided."


def check_delay(delay: int) -> None:
    """A message's DelaySeconds ("... Reason: DelaySeconds must be >= 0 and <= 900.", as SQS answers)."""
    check_range("DelaySeconds", delay, 0, MAX_DELAY_SECONDS, f"DelaySeconds must be >= 0 and <= {MAX_DELAY_SECONDS}.")


def check_list_max_results(max_results: int) -> None:
    """ListQueues' and ListDeadLetterSourceQueues' MaxResults; SQS names no value in this one."""
    if not 1 <= max_results <= 1000:
        raise InvalidParameterValue(
            "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
        )


def task_handle(task_id: str, source_arn: str) -> str:
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def parse_task_handle(handle: str) -> str | None:
    """The task id inside a message move task handle, or None if it is not one of ours."""
    try:
        data = json.loads(base64.b64decode(handle, validate=True))
        return str(data["taskId"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
