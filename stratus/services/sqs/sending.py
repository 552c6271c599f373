"""Turning a SendMessage request (or batch entry) into a row to store, with AWS's checks."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from stratus.aws.errors import InvalidParameterValue, MissingParameter
from stratus.services.sqs import model
from stratus.services.sqs.model import Queue
from stratus.services.sqs.store import NewMessage


_NO_DEDUP = (
    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
)


@dataclass(slots=True)
class PreparedMessage:
    entry_id: str
    row: NewMessage
    size: int
    visible_at: int
    md5_system: str | None

    def result(self) -> dict[str, Any]:
        """SendMessage's answer (also a batch's Successful entry, less its Id)."""
        out: dict[str, Any] = {"MessageId": self.row.message_id, "MD5OfMessageBody": self.row.md5_body}
        if self.row.md5_attributes:
            out["MD5OfMessageAttributes"] = self.row.md5_attributes
        if self.md5_system:
            out["MD5OfMessageSystemAttributes"] = self.md5_system
        if self.row.seq is not None:
            out["SequenceNumber"] = f"{self.row.seq:020d}"
        return out


class MessageBuilder:
    """Checks and shapes messages bound for one queue at one instant."""

    __slots__ = ("queue", "now", "sender_id", "max_size", "queue_delay")

    def __init__(self, queue: Queue, now: int, sender_id: str) -> None:
        self.queue = queue
        self.now = now
        self.sender_id = sender_id
        self.max_size = queue.int_attr("MaximumMessageSize")
        self.queue_delay = queue.int_attr("DelaySeconds")

    def check_batch_fifo_ids(self, entries: list[Any]) -> None:
        """A FIFO batch with an entry lacking its group or deduplication id fails as a whole,
        with InvalidParameterValue (a single SendMessage answers MissingParameter for the group)."""
        if not self.queue.fifo:
            return
        if any(not entry.get("MessageGroupId") for entry in entries):
            raise InvalidParameterValue("The request must contain the parameter MessageGroupId.")
        if not self.queue.content_based_dedup and any(not entry.get("MessageDeduplicationId") for entry in entries):
            raise InvalidParameterValue(_NO_DEDUP)

    def prepare(self, request: Any) -> PreparedMessage:
        body: str = request["MessageBody"]
        model.check_body(body)
        attributes = request.get("MessageAttributes") or {}
        attribute_bytes = model.check_message_attributes(attributes) if attributes else 0
        size = model.message_size(body, attribute_bytes)
        if size > self.max_size:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {self.max_size} bytes."
            )
        system = request.get("MessageSystemAttributes") or {}
        if system:
            model.check_system_attributes(system)
        delay = request.get("DelaySeconds")
        group_id = request.get("MessageGroupId")
        dedup_id = request.get("MessageDeduplicationId")
        if self.queue.fifo:
            if delay:
                raise InvalidParameterValue(
                    f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request include parameter "
                    "that is not valid for this queue type."
                )
            if not group_id:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            model.check_fifo_id("MessageGroupId", group_id)
            if dedup_id:
                model.check_fifo_id("MessageDeduplicationId", dedup_id)
            elif self.queue.content_based_dedup:
                dedup_id = model.content_dedup_id(body)
            else:
                raise InvalidParameterValue(_NO_DEDUP)
            delay = self.queue_delay
        else:
            if dedup_id:
                raise InvalidParameterValue(
                    f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: The request "
                    "include parameter that is not valid for this queue type."
                )
            if group_id:  # standard queues accept a group id since fair queues (2025)
                model.check_fifo_id("MessageGroupId", group_id)
            if delay is None:
                delay = self.queue_delay
            model.check_delay(delay)
        row = NewMessage(
            message_id=str(uuid.uuid4()),
            body=body,
            attributes=model.encode_attributes(attributes) if attributes else None,
            system_attributes=json.dumps(
                {name: {"DataType": v["DataType"], "StringValue": v["StringValue"]} for name, v in system.items()}
            )
            if system
            else None,
            md5_body=model.md5_hex(body.encode()),
            md5_attributes=model.md5_of_attributes(attributes) if attributes else None,
            sent_ms=self.now,
            visible_at=self.now + delay * 1000,
            group_id=group_id,
            dedup_id=dedup_id,
            seq=None,
            sender_id=self.sender_id,
        )
        return PreparedMessage(
            entry_id=request.get("Id", ""),
            row=row,
            size=size,
            visible_at=row.visible_at,
            md5_system=model.md5_of_attributes(system) if system else None,
        )
