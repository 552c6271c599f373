"""Lambda's domain: function versions, ARNs and names, limits and the pure rules around them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, get_args

from stratus.aws.api.lambda_ import InvalidParameterValueException, ResourceNotFoundException, Runtime
from stratus.aws.arns import arn, parse_arn, root_arn
from stratus.aws.errors import ValidationException

LATEST = "$LATEST"

# Limits from the Lambda developer guide ("Lambda quotas").
ENV_LIMIT_BYTES = 4096
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # 6 MB request and response
# Invoke with InvocationType Event: 1 MB since AWS raised it from 256 KB (API reference, Invoke:
# "For asynchronous invocations, the maximum payload size is 1 MB."); the deprecated
# InvokeAsync keeps 256 KB ("The payload limit is 256KB. For larger payloads, for up to 1MB, use Invoke.").
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
INVOKE_ASYNC_PAYLOAD_LIMIT = 256 * 1024
CLIENT_CONTEXT_LIMIT = 3583
ZIP_UPLOAD_LIMIT = 50 * 1024 * 1024  # ZipFile in the request
UNZIPPED_LIMIT = 250 * 1024 * 1024
LOG_TAIL_BYTES = 4096
UNRESERVED_MINIMUM = 100
DEFAULT_RETRIES = 2
DEFAULT_EVENT_AGE_S = 6 * 3600
# Function errors of an async event are retried after about one minute, then two (developer guide).
FUNCTION_ERROR_DELAYS_MS = (60_000, 120_000)

RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)

_FUNCTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):(?P<account>\d{12}):"
    r"function:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
_PARTIAL_ARN = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$")
_NAME = re.compile(r"^(?P<name>[a-zA-Z0-9-_]{1,64})(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$")
_LAYER_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<version>[0-9]+))?$"
)
# Deprecated runtimes whose "Block function create" date has passed (developer guide, "Lambda
# runtimes" / "Deprecated runtimes"); python3.8, nodejs16.x, nodejs18.x, dotnet6 and the other
# recently deprecated ones are still open for creation there and here.
BLOCKED_RUNTIMES = frozenset({
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
    "python2.7", "python3.6", "python3.7", "java8", "go1.x", "provided", "ruby2.5", "ruby2.7",
    "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1",
})
# The runtimes the API takes (the model's enum), less the blocked ones, in the model's order.
OPEN_RUNTIMES = tuple(r for r in get_args(Runtime) if r not in BLOCKED_RUNTIMES)
# The newest runtime of each family, named in the deprecation message.
RECOMMENDED_RUNTIME = {"nodejs": "nodejs24.x", "python": "python3.14", "java": "java25", "dotnet": "dotnet10",
                       "dotnetcore": "dotnet10", "ruby": "ruby3.4", "go": "provided.al2023", "provided": "provided.al2023"}
_DESTINATION_SERVICES = {"sqs", "sns", "lambda", "events"}
# Members only GetFunction / GetFunctionConfiguration answer: "The ListFunctions operation returns a
# subset of the FunctionConfiguration fields" (API reference, ListFunctions).
_NOT_LISTED = ("State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
               "LastUpdateStatusReasonCode", "RuntimeVersionConfig")


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """Which function (and maybe which version or alias) a request names."""

    account: str
    region: str
    name: str
    qualifier: str | None


def parse_function(value: str, account: str, region: str, qualifier: str | None = None) -> FunctionRef:
    """A function name, partial ARN (``123456789012:function:f``) or ARN, each maybe with ``:qualifier``.

    A ``Qualifier`` parameter must agree with one in the name (AWS answers the same conflict).
    """
    if m := _FUNCTION_ARN.match(value):
        ref = FunctionRef(m["account"], m["region"], m["name"], m["qualifier"])
    elif m := _PARTIAL_ARN.match(value):
        ref = FunctionRef(m["account"], region, m["name"], m["qualifier"])
    elif m := _NAME.match(value):
        ref = FunctionRef(account, region, m["name"], m["qualifier"])
    else:
        raise InvalidParameterValueException(f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint")
    if qualifier is not None:
        if ref.qualifier is not None and ref.qualifier != qualifier:
            raise InvalidParameterValueException("The derived qualifier from the function name does not match the specified qualifier.")
        ref = FunctionRef(ref.account, ref.region, ref.name, qualifier)
    return ref


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    return arn("lambda", region, account, f"function:{name}:{qualifier}" if qualifier else f"function:{name}")


def layer_arn(region: str, account: str, name: str, version: int | None = None) -> str:
    return arn("lambda", region, account, f"layer:{name}:{version}" if version is not None else f"layer:{name}")


def runtime_version_arn(region: str, runtime: str) -> str:
    """The ``RuntimeVersionArn`` AWS shows: ``arn:aws:lambda:<region>::runtime:<64 hex>``.

    One version per runtime and region: stratus runs the one runtime it has, so the id is a
    stable digest of the runtime's name rather than a real image hash.
    """
    return arn("lambda", region, "", "runtime:" + hashlib.sha256(runtime.encode()).hexdigest())


def parse_layer_version_arn(text: str) -> tuple[str, str, str, int] | None:
    """(region, account, name, version) of a layer version ARN, or None."""
    m = _LAYER_ARN.match(text)
    if not m or m["version"] is None:
        return None
    return m["region"], m["account"], m["name"], int(m["version"])


def last_modified(ms: int) -> str:
    """AWS's LastModified format: ``2024-01-01T00:00:00.000+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}+0000"


def iso_utc(ms: int) -> str:
    """``2024-01-01T00:00:00.000Z`` (invocation records)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def new_revision() -> str:
    return str(uuid.uuid4())


def is_version_number(qualifier: str) -> bool:
    return qualifier.isdigit()


# --- configuration rules ------------------------------------------------------------------


def check_environment(variables: dict[str, str]) -> None:
    reserved = sorted(k for k in variables if k in RESERVED_ENV_KEYS)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided contains reserved keys that are currently not supported for modification. Reserved keys used in "
            f"this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if sum(len(k.encode()) + len(v.encode()) for k, v in variables.items()) > ENV_LIMIT_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided exceeded the 4KB limit. String measured: {measured}"
        )


def _validation(name: str, value: int, high: int) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
        f"Member must have value less than or equal to {high}"
    )


def check_limits(request: dict[str, Any]) -> None:
    """The upper limits of a zip function (the model's lower ones were checked before).

    The service model allows more (Lambda Managed Instances); a function answers as AWS does:
    ``Value '1200' at 'timeout' ...`` (ValidationException) and, for memory, the quota message
    "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal
    to 10240" (InvalidParameterValueException; developer guide, "Troubleshoot deployment issues").
    """
    memory, timeout = request.get("MemorySize"), request.get("Timeout")
    if memory is not None and memory > 10240:
        raise InvalidParameterValueException(
            "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240"
        )
    if timeout is not None and timeout > 900:
        raise _validation("timeout", timeout, 900)
    storage = (request.get("EphemeralStorage") or {}).get("Size")
    if storage is not None and storage > 10240:
        raise _validation("ephemeralStorage.size", storage, 10240)
    arches = request.get("Architectures")
    if arches is not None and len(arches) != 1:
        raise InvalidParameterValueException("1 validation error detected: Value at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1")
    if request.get("Handler") is None and request.get("Runtime") is not None and "Handler" in request:
        raise InvalidParameterValueException("Handler is required")


def check_runtime(runtime: str) -> None:
    """A runtime Lambda creates and updates functions with, or AWS's InvalidParameterValueException.

    An unknown identifier: "Value python9 at 'runtime' failed to satisfy constraint: Member must
    satisfy enum value set: [...] or be a valid ARN" (the set lists the runtimes open for new
    functions). A deprecated one past its "block function create/update" date: "The runtime
    parameter of python3.6 is no longer supported for creating or updating AWS Lambda functions.
    We recommend you use the new runtime (python3.9) while creating or updating functions."
    (wording from AWS's answers; the dates from the developer guide's "Deprecated runtimes").
    """
    if runtime in BLOCKED_RUNTIMES:
        family = re.match(r"[a-z]+", runtime)
        newer = RECOMMENDED_RUNTIME.get(family.group(0) if family else "", "provided.al2023")
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. "
            f"We recommend you use the new runtime ({newer}) while creating or updating functions."
        )
    if runtime not in OPEN_RUNTIMES:
        raise InvalidParameterValueException(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(OPEN_RUNTIMES)}] or be a valid ARN"
        )


def role_name(role_arn: str) -> tuple[str, str] | None:
    """(account, role name) of an execution role ARN (``arn:aws:iam::<account>:role/<path/>name``)."""
    parsed = parse_arn(role_arn, "iam")
    if parsed is None or parsed.region or not re.fullmatch(r"\d{12}", parsed.account) or not parsed.resource.startswith("role/"):
        return None
    name = parsed.resource.rsplit("/", 1)[-1]
    return (parsed.account, name) if name else None


def role_not_assumable() -> InvalidParameterValueException:
    return InvalidParameterValueException("The role defined for the function cannot be assumed by Lambda.")


def vpc_config(request: dict[str, Any] | None) -> dict[str, Any]:
    """The VpcConfig GetFunctionConfiguration answers for a request's VpcConfig.

    stratus has no EC2: the subnet and security group ids are kept as given (their format was
    checked against the model) and ``VpcId`` stays empty, since there is no subnet to read it
    from. Functions run on the host's network whatever they name: no isolation is applied.
    """
    request = request or {}
    subnets, groups = list(request.get("SubnetIds") or []), list(request.get("SecurityGroupIds") or [])
    if bool(subnets) != bool(groups):
        raise InvalidParameterValueException("SubnetIds and SecurityIds must coexist or be both empty list.")
    return {
        "SubnetIds": subnets,
        "SecurityGroupIds": groups,
        "VpcId": "",
        "Ipv6AllowedForDualStack": bool(request.get("Ipv6AllowedForDualStack", False)),
    }


def check_unsupported(request: dict[str, Any]) -> None:
    """Refuse what stratus cannot do rather than store a setting that would do nothing."""
    if request.get("FileSystemConfigs"):
        raise InvalidParameterValueException(
            "stratus has no Amazon EFS or S3 Files: FileSystemConfigs cannot be mounted into functions."
        )
    if request.get("ImageConfig"):
        raise InvalidParameterValueException(
            "ImageConfig applies to container images (PackageType Image), which stratus does not run."
        )
    for member, what in (
        ("RuntimeConfig", "customer-managed runtimes"), ("CapacityProviderConfig", "Lambda Managed Instances"),
        ("TenancyConfig", "tenant isolation"), ("DurableConfig", "durable functions"),
        ("AcceleratorConfig", "accelerators"),
    ):
        if request.get(member):
            raise InvalidParameterValueException(f"stratus does not support {what}: remove {member} from the request.")
    if (request.get("SnapStart") or {}).get("ApplyOn", "None") != "None":
        raise InvalidParameterValueException("stratus does not support SnapStart: ApplyOn must be None.")


def logging_config(current: dict[str, Any] | None, request: dict[str, Any], default_group: str) -> dict[str, Any]:
    """LoggingConfig after a request: JSON brings the levels (INFO unless given), Text takes none.

    AWS refuses levels with the Text format: 'LogLevel is not supported when LogFormat is set to
    "Text". Remove LogLevel from your request or change the LogFormat to "Json" and try again.'
    """
    merged = {"LogFormat": "Text", "LogGroup": default_group, **(current or {}), **request}
    if merged["LogFormat"] == "JSON":
        merged.setdefault("ApplicationLogLevel", "INFO")
        merged.setdefault("SystemLogLevel", "INFO")
    elif "ApplicationLogLevel" in request or "SystemLogLevel" in request:
        raise InvalidParameterValueException(
            'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or '
            'change the LogFormat to "Json" and try again.'
        )
    else:
        merged.pop("ApplicationLogLevel", None)
        merged.pop("SystemLogLevel", None)
    return merged


def check_dead_letter(config: dict[str, Any] | None) -> None:
    target = (config or {}).get("TargetArn")
    parsed = parse_arn(target) if target else None
    if target and (parsed is None or parsed.service not in ("sqs", "sns")):
        raise InvalidParameterValueException(
            f"The provided target arn {target} is invalid. Dead letter target must be an SNS topic or an SQS queue."
        )


def check_destination(destination: str) -> None:
    # AWS also takes S3 buckets for OnFailure; stratus has no S3 to deliver to, so it refuses them.
    parsed = parse_arn(destination)
    if parsed is None or parsed.service not in _DESTINATION_SERVICES:
        raise InvalidParameterValueException(
            f"The destination ARN {destination} is invalid. Destinations must be an SQS queue, SNS topic, Lambda function or EventBridge event bus."
        )


def policy_statement(request: dict[str, Any], resource: str) -> dict[str, Any]:
    """The resource-policy statement AddPermission adds, built the way Lambda builds it."""
    principal = request["Principal"]
    if principal == "*":
        who: Any = "*"
    elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
        who = {"Service": principal}
    elif re.fullmatch(r"\d{12}", principal):
        who = {"AWS": root_arn(principal)}
    else:
        who = {"AWS": principal}
    statement: dict[str, Any] = {
        "Sid": request["StatementId"],
        "Effect": "Allow",
        "Principal": who,
        "Action": request["Action"],
        "Resource": resource,
    }
    conditions: dict[str, dict[str, str]] = {}
    if request.get("SourceAccount"):
        conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = request["SourceAccount"]
    if request.get("PrincipalOrgID"):
        conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = request["PrincipalOrgID"]
    if request.get("EventSourceToken"):
        conditions.setdefault("StringEquals", {})["lambda:EventSourceToken"] = request["EventSourceToken"]
    if request.get("FunctionUrlAuthType"):
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = request["FunctionUrlAuthType"]
    if request.get("SourceArn"):
        conditions["ArnLike"] = {"AWS:SourceArn": request["SourceArn"]}
    if conditions:
        statement["Condition"] = conditions
    return statement


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements}, separators=(",", ":"))


# --- stored rows as objects ---------------------------------------------------------------


@dataclass(slots=True)
class Function:
    id: int
    account: str
    region: str
    name: str
    tags: dict[str, str]
    policies: dict[str, list[dict[str, Any]]]  # qualifier ("" for the function) -> statements
    reserved: int | None
    last_version: int
    created_ms: int

    @property
    def arn(self) -> str:
        return function_arn(self.region, self.account, self.name)


@dataclass(slots=True)
class Version:
    """One version's configuration ($LATEST or a published number): AWS's members plus the code."""

    function: Function
    version: str
    config: dict[str, Any]  # FunctionConfiguration members that are stored (not FunctionName/Arn/Version)
    code: dict[str, Any] = field(default_factory=dict)  # {"hex", "sha256", "size"}

    @property
    def arn(self) -> str:
        return function_arn(self.function.region, self.function.account, self.function.name, self.version)

    def configuration(self, *, listed: bool = False) -> dict[str, Any]:
        """FunctionConfiguration as GetFunction answers it, or (``listed``) as the List operations do."""
        f = self.function
        out = {
            "FunctionName": f.name,
            "FunctionArn": function_arn(f.region, f.account, f.name, None if self.version == LATEST else self.version),
            **self.config,
            "Version": self.version,
        }
        if listed:
            for key in _NOT_LISTED:
                out.pop(key, None)
        else:
            out["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(f.region, self.config["Runtime"])}
        return out


@dataclass(slots=True)
class Alias:
    name: str
    function_version: str
    description: str
    weights: dict[str, float]
    revision: str

    def to_api(self, function: Function) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AliasArn": function_arn(function.region, function.account, function.name, self.name),
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision,
        }
        if self.weights:
            out["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.weights)}
        return out

    def to_json(self) -> str:
        return json.dumps({"version": self.function_version, "description": self.description, "weights": self.weights, "revision": self.revision})

    @staticmethod
    def from_json(name: str, text: str) -> Alias:
        data = json.loads(text)
        return Alias(name, data["version"], data["description"], data["weights"], data["revision"])


def not_found(function: str) -> ResourceNotFoundException:
    error = ResourceNotFoundException(f"Function not found: {function}")
    error.fields = {"Type": "User"}  # AWS marks a client's mistake so in Lambda's error body
    return error


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
