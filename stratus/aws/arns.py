"""The one ARN / URL builder and parser for every service.

An ARN is ``arn:<partition>:<service>:<region>:<account>:<resource>``; the resource keeps its
own colons and slashes (``function:f:1``, ``log-group:g:*``, ``rule/bus/name``), which is why
it is split off whole and each service reads its own resource format in its ``model.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACCOUNT_ID = re.compile(r"^\d{12}$")
# aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, ...: every AWS partition starts so.
_PARTITION = re.compile(r"^aws[\w-]*$")
_REGION = re.compile(r"^[\w-]+$")
# scheme://host/<account>/<name>: the account-scoped URLs stratus answers (SQS queue URLs).
_ACCOUNT_URL = re.compile(r"^https?://[^/]+/(\d{12})/")
_REGION_IN_HOST = re.compile(r"^https?://(?:[\w-]+\.)?(?:sqs\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.")


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str  # "" for global services (IAM, STS, S3 buckets)
    account: str  # "" where the resource has no owner in its ARN (S3 buckets, AWS-managed)
    resource: str  # everything after the account: "queue-name", "function:f", "event-bus/b"

    def __str__(self) -> str:
        return arn(self.service, self.region, self.account, self.resource, self.partition)

    @property
    def regional(self) -> bool:
        """Whether it names a region and an account id, as the ARN of a regional resource (a key, a secret) does."""
        return bool(_REGION.match(self.region)) and is_account_id(self.account)

    def resource_after(self, prefix: str) -> str | None:
        """The resource without ``prefix`` (a kind and its separator, "event-bus/"), None if it has another kind."""
        if self.resource.startswith(prefix):
            return self.resource[len(prefix):]
        return None


def arn(service: str, region: str, account: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def parse_arn(text: str, service: str | None = None) -> Arn | None:
    """The parts of an ARN (of ``service`` when given); None when ``text`` is not one."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not _PARTITION.match(parts[1]) or not parts[2] or not parts[5]:
        return None
    if service is not None and parts[2] != service:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def parse_arn_strict(text: str, service: str | None = None) -> Arn:
    """``parse_arn`` for ARNs that were validated before (stored ones): ValueError if it is not one."""
    parsed = parse_arn(text, service)
    if parsed is None:
        raise ValueError(f"not an ARN{' of ' + service if service else ''}: {text!r}")
    return parsed


def is_account_id(text: str) -> bool:
    return bool(_ACCOUNT_ID.match(text))


def root_arn(account: str) -> str:
    """The account's root user, the principal that "the account" means in policies."""
    return arn("iam", "", account, "root")


def queue_url(endpoint: str, account: str, name: str) -> str:
    """The URL of an SQS queue on this endpoint (the form SQS answers in GetQueueUrl)."""
    return f"{endpoint}/{account}/{name}"


def home_of_url(url: str) -> tuple[str, str | None] | None:
    """``(account, region)`` of an account-scoped URL (a queue URL; region when the host names one)."""
    m = _ACCOUNT_URL.match(url)
    if m is None:
        return None
    region = _REGION_IN_HOST.match(url)
    return m.group(1), (region.group(1) if region else None)
