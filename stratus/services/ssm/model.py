"""Parameter Store's rules: names, selectors, labels, tiers, data types and policies.

Pure functions and constants; the provider applies them and the store keeps the results.
Limits and messages follow the Parameter Store user guide ("Requirements and constraints
for parameter names", "Managing parameter tiers", "Assigning parameter policies",
"Labeling parameters") and the SSM API reference.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stratus.aws.api.ssm import (
    HierarchyLevelLimitExceededException,
    IncompatiblePolicyException,
    InvalidPolicyAttributeException,
    InvalidPolicyTypeException,
    ParameterLimitExceeded,
    PoliciesLimitExceededException,
)
from stratus.aws.errors import ValidationException
from stratus.aws.protocol.timestamps import parse_timestamp

STANDARD = "Standard"
ADVANCED = "Advanced"
INTELLIGENT = "Intelligent-Tiering"
TIERS = (STANDARD, ADVANCED, INTELLIGENT)
TYPES = ("String", "StringList", "SecureString")
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")

STANDARD_MAX_BYTES = 4096
ADVANCED_MAX_BYTES = 8192
MAX_VERSIONS = 100
MAX_LABELS_PER_VERSION = 10
MAX_LEVELS = 15
MAX_POLICIES = 10
MAX_TAGS = 50
# The name limit includes the ARN in front of it ("arn:aws:ssm:us-east-2:111122223333:parameter/").
MAX_NAME_WITH_ARN = 1011
DEFAULT_KMS_KEY = "alias/aws/ssm"

_NAME_CHARS = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_LABEL = re.compile(r"^[a-zA-Z0-9_.\-]{1,100}$")
_AMI = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
_RESERVED = ("aws", "ssm")

_RESERVED_NAME = 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'
_BAD_PATH_NAME = (
    'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can '
    "consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and "
    "the following 3 symbols .-_"
)
BAD_PATH = (
    'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward '
    'slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, '
    "or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All "
    'sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.'
)


def parameter_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def arn_prefix(region: str, account: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/"


def _levels(name: str) -> int:
    return name.count("/")


def check_levels(name: str) -> None:
    if _levels(name) > MAX_LEVELS:
        raise HierarchyLevelLimitExceededException(
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints "
            "for parameter names in the Amazon Web Services Systems Manager User Guide."
        )


def validate_new_name(name: str, region: str, account: str) -> None:
    """The rules PutParameter applies to a name it is about to create or update."""
    is_path = "/" in name
    if name.lstrip("/").lower().startswith(_RESERVED):
        raise ValidationException(_BAD_PATH_NAME if name.count("/") > 1 else _RESERVED_NAME)
    if not _NAME_CHARS.match(name) or (is_path and (not name.startswith("/") or "//" in name or name.endswith("/"))):
        raise ValidationException(_BAD_PATH_NAME)
    check_levels(name)
    limit = MAX_NAME_WITH_ARN - len(arn_prefix(region, account))
    if len(name.lstrip("/")) > limit:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )


def validate_path(path: str) -> None:
    """GetParametersByPath's and the Path filter's rules for a path."""
    if not path.startswith("/") or "//" in path or not _NAME_CHARS.match(path):
        raise ValidationException(BAD_PATH)
    check_levels(path.rstrip("/") or "/")


def under_path(name: str, path: str, recursive: bool) -> bool:
    """Whether ``name`` lies below ``path`` (directly, unless ``recursive``).

    Names without a leading slash live at the root: "/" lists "name" as well as "/name".
    """
    if path == "/":
        rest = name.lstrip("/")
    else:
        prefix = path.rstrip("/") + "/"
        if not name.startswith(prefix):
            return False
        rest = name[len(prefix) :]
    return bool(rest) and (recursive or "/" not in rest)


@dataclass(frozen=True, slots=True)
class Selector:
    """``name``, ``name:version`` or ``name:label`` as GetParameter(s) accept them."""

    name: str
    version: int | None = None
    label: str | None = None

    @property
    def text(self) -> str | None:
        """The ``Selector`` member of a returned Parameter (":3" or ":prod")."""
        if self.version is not None:
            return f":{self.version}"
        if self.label is not None:
            return f":{self.label}"
        return None


def parse_selector(text: str) -> Selector | None:
    """The selector, or None when the text has more than one ':' (no such parameter can exist)."""
    name, sep, rest = text.partition(":")
    if not sep:
        return Selector(name)
    if ":" in rest or not rest:
        return None
    if rest.isdigit():
        return Selector(name, version=int(rest))
    return Selector(name, label=rest)


def valid_label(label: str) -> bool:
    return bool(_LABEL.match(label)) and not label[0].isdigit() and not label.lower().startswith(_RESERVED)


def check_value(value: str, data_type: str) -> None:
    if not value:
        raise ValidationException(
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1."
        )
    if data_type not in DATA_TYPES:
        raise ValidationException(f"The following data type is not supported: {data_type} (Data type names are all lowercase.)")
    if data_type == "aws:ec2:image" and not _AMI.match(value):
        # AWS also checks, asynchronously, that the image exists; stratus has no EC2 images to look in.
        raise ValidationException(f"Parameter value, {value}, is not a valid image ID for data type aws:ec2:image.")


def choose_tier(requested: str | None, default: str, current: str | None, size: int, has_policies: bool) -> str:
    """The tier a PutParameter lands in, or the error AWS answers.

    Intelligent-Tiering picks Advanced only when the value or the policies need it. An
    Advanced parameter never goes back to Standard.
    """
    tier = requested or default
    if requested is None and current == ADVANCED:
        tier = ADVANCED
    if tier == INTELLIGENT:
        tier = ADVANCED if size > STANDARD_MAX_BYTES or has_policies or current == ADVANCED else STANDARD
    if tier == STANDARD and current == ADVANCED:
        raise ValidationException(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
            "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
            "parameter and recreate it as a standard parameter."
        )
    if tier == STANDARD and size > STANDARD_MAX_BYTES:
        raise ValidationException(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
            "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
        )
    if size > ADVANCED_MAX_BYTES:
        raise ParameterLimitExceeded("Advanced tier parameters support a maximum parameter value of 8192 characters.")
    if tier == STANDARD and has_policies:
        raise ValidationException("Parameter policies are supported only for advanced-tier parameters.")
    return tier


# --- parameter policies -------------------------------------------------------------------

_POLICY_TYPES = ("Expiration", "ExpirationNotification", "NoChangeNotification")
_UNITS = ("Days", "Hours")


@dataclass(slots=True)
class Policies:
    """Parsed ``Policies``: what DescribeParameters shows, and when Expiration deletes."""

    listed: list[dict[str, str]] = field(default_factory=list)
    expires_ms: int | None = None


def _bad_attribute(detail: str) -> InvalidPolicyAttributeException:
    return InvalidPolicyAttributeException(f"A policy attribute or its value is invalid. {detail}")


def parse_policies(text: str, now_ms: int) -> Policies:
    """Check ``Policies`` (a JSON list) and answer them as stored.

    ExpirationNotification and NoChangeNotification are kept and listed; they will emit
    their EventBridge events once EventBridge exists. Expiration deletes the parameter.
    """
    try:
        items = json.loads(text)
    except ValueError:
        raise ValidationException(f"Invalid policies input: {text}") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationException(f"Invalid policies input: {text}")
    if len(items) > MAX_POLICIES:
        raise PoliciesLimitExceededException(
            "You specified more than the maximum number of allowed policies for the parameter. The maximum is 10."
        )
    result = Policies()
    seen: set[str] = set()
    for item in items:
        kind = item.get("Type")
        if kind not in _POLICY_TYPES:
            raise InvalidPolicyTypeException(
                "The policy type is not supported. Parameter Store supports the following policy types: "
                "Expiration, ExpirationNotification, and NoChangeNotification."
            )
        if kind in seen:
            raise IncompatiblePolicyException(
                "There is a conflict in the policies specified for this parameter. You can't, for example, specify "
                "two Expiration policies for a parameter. Review your policies, and try again."
            )
        seen.add(kind)
        if item.get("Version", "1.0") != "1.0":
            raise _bad_attribute("Version must be 1.0.")
        attributes = item.get("Attributes")
        if not isinstance(attributes, dict):
            raise _bad_attribute("Attributes is required.")
        if kind == "Expiration":
            result.expires_ms = _expiration_ms(attributes, now_ms)
        else:
            amount = attributes.get("Before" if kind == "ExpirationNotification" else "After")
            if not (isinstance(amount, str | int) and str(amount).isdigit() and int(amount) > 0):
                raise _bad_attribute(f"{kind} needs a positive whole number of units.")
            if attributes.get("Unit") not in _UNITS:
                raise _bad_attribute("Unit must be Days or Hours.")
        result.listed.append(
            {"PolicyText": json.dumps(item, separators=(",", ":")), "PolicyType": kind, "PolicyStatus": "Pending"}
        )
    if "ExpirationNotification" in seen and "Expiration" not in seen:
        raise IncompatiblePolicyException("An ExpirationNotification policy needs an Expiration policy.")
    return result


def _expiration_ms(attributes: dict[str, Any], now_ms: int) -> int:
    raw = attributes.get("Timestamp")
    try:
        when: datetime = parse_timestamp(raw) if isinstance(raw, str) else parse_timestamp("")
    except ValueError:
        raise _bad_attribute("Timestamp must be an ISO 8601 date and time.") from None
    due = int(when.timestamp() * 1000)
    if due <= now_ms:
        raise _bad_attribute("The Expiration Timestamp must be in the future.")
    return due
