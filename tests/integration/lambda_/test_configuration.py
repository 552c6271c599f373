"""Function configuration as AWS checks and returns it: the execution role, the runtime, VPC and
the settings stratus cannot honour, and LoggingConfig (JSON records, levels, a custom log group).

AWS references: API reference CreateFunction / UpdateFunctionConfiguration / VpcConfigResponse /
LoggingConfig; developer guide "Lambda execution role", "Lambda runtimes" (deprecated runtimes),
"Configuring JSON and plain text log formats", "Log-level filtering".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import client_for
from tests.helpers import wait_for
from tests.integration.lambda_.conftest import ECHO, ROLE, ensure_role, error_code, python_zip

NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."


def _message(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Message"]


def _create(lam: Any, name: str, **extra: Any) -> dict[str, Any]:
    args = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": python_zip(ECHO)}, **extra}
    return lam.create_function(**args)


def _active(lam: Any, name: str) -> None:
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})


def _updated(lam: Any, name: str) -> None:
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})


# --- the execution role ---------------------------------------------------------------------


def test_a_role_that_does_not_exist_is_refused(lam: Any, unique: Any, endpoint: str) -> None:
    name = unique("fn")
    for role in ("arn:aws:iam::000000000000:role/no-such-role", "arn:aws:iam::000000000000:role/other-path/lambda-role"):
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
            _create(lam, name, Role=role)
        assert _message(excinfo) == NOT_ASSUMABLE
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)  # nothing was created
    _create(lam, name)
    _active(lam, name)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.update_function_configuration(FunctionName=name, Role="arn:aws:iam::000000000000:role/no-such-role", Timeout=9)
    assert _message(excinfo) == NOT_ASSUMABLE
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["Role"], config["Timeout"]) == (ROLE, 3)  # unchanged
    other = ensure_role(endpoint, unique("role"))
    assert lam.update_function_configuration(FunctionName=name, Role=other)["Role"] == other


def test_the_function_runs_as_a_session_of_its_role(lam: Any, make_function: Any) -> None:
    name = make_function(python_zip(
        "import boto3, os\n"
        "def handler(event, context):\n"
        "    return [boto3.client('sts').get_caller_identity()['Arn'], bool(os.environ.get('AWS_SESSION_TOKEN'))]\n"
    ), Timeout=30)
    answer = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert answer == [f"arn:aws:sts::000000000000:assumed-role/lambda-role/{name}", True]


def test_a_role_deleted_later_fails_the_invocation(lam: Any, endpoint: str, unique: Any) -> None:
    role_name = unique("role")
    role = ensure_role(endpoint, role_name)
    name = unique("fn")
    _create(lam, name, Role=role)
    _active(lam, name)
    client_for(endpoint, "iam").delete_role(RoleName=role_name)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert _message(excinfo) == NOT_ASSUMABLE


# --- the runtime ----------------------------------------------------------------------------


def test_unknown_and_deprecated_runtimes(lam: Any, make_function: Any, unique: Any) -> None:
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        _create(lam, unique("fn"), Runtime="python9")
    message = _message(excinfo)
    assert message.startswith("Value python9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [")
    assert message.endswith("] or be a valid ARN") and "python3.12" in message and "python3.6" not in message
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        _create(lam, unique("fn"), Runtime="python3.6")
    assert _message(excinfo) == (
        "The runtime parameter of python3.6 is no longer supported for creating or updating AWS Lambda functions. "
        "We recommend you use the new runtime (python3.14) while creating or updating functions."
    )
    name = make_function()
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.update_function_configuration(FunctionName=name, Runtime="nodejs12.x")
    assert "nodejs12.x is no longer supported" in _message(excinfo)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName=name, Runtime="cobol")
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.12"


# --- VPC and what stratus cannot honour -----------------------------------------------------


def test_vpc_config_is_kept_and_answered(lam: Any, unique: Any) -> None:
    name = unique("fn")
    vpc = {"SubnetIds": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"], "SecurityGroupIds": ["sg-0123abcd"]}
    created = _create(lam, name, VpcConfig=vpc)
    expected = {**vpc, "VpcId": "", "Ipv6AllowedForDualStack": False}
    assert created["VpcConfig"] == expected
    _active(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["VpcConfig"] == expected
    assert lam.invoke(FunctionName=name, Payload=b'{"in": "vpc"}')["Payload"].read() == b'{"in": "vpc"}'
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": ["subnet-0a1b2c3d"], "SecurityGroupIds": []})
    assert _message(excinfo) == "SubnetIds and SecurityIds must coexist or be both empty list."
    lam.update_function_configuration(FunctionName=name, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    _updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["VpcConfig"] == {
        "SubnetIds": [], "SecurityGroupIds": [], "VpcId": "", "Ipv6AllowedForDualStack": False,
    }
    without = unique("fn")
    assert "VpcConfig" not in _create(lam, without)


def test_settings_stratus_cannot_honour_are_refused(lam: Any, unique: Any) -> None:
    access_point = "arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-0123456789abcdef0"
    refused = [
        {"FileSystemConfigs": [{"Arn": access_point, "LocalMountPath": "/mnt/data"}]},
        {"ImageConfig": {"Command": ["app.handler"]}},
        {"SnapStart": {"ApplyOn": "PublishedVersions"}},
        {"TenancyConfig": {"TenantIsolationMode": "PER_TENANT"}},
    ]
    for extra in refused:
        name = unique("fn")
        with pytest.raises(lam.exceptions.InvalidParameterValueException):
            _create(lam, name, **extra)
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName=name)
    signing = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"
    with pytest.raises(lam.exceptions.CodeSigningConfigNotFoundException):
        _create(lam, unique("fn"), CodeSigningConfigArn=signing)
    name = unique("fn")
    assert _create(lam, name, SnapStart={"ApplyOn": "None"})["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    _active(lam, name)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName=name, FileSystemConfigs=[{"Arn": access_point, "LocalMountPath": "/mnt/data"}])
    assert "FileSystemConfigs" not in lam.get_function_configuration(FunctionName=name)


# --- LoggingConfig --------------------------------------------------------------------------


def test_logging_config_levels_come_with_json(lam: Any, make_function: Any, unique: Any) -> None:
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        _create(lam, unique("fn"), LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"})
    assert _message(excinfo) == (
        'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change '
        'the LogFormat to "Json" and try again.'
    )
    name = make_function()
    lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON"})
    _updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO", "LogGroup": f"/aws/lambda/{name}",
    }
    lam.update_function_configuration(FunctionName=name, LoggingConfig={"ApplicationLogLevel": "WARN"})
    _updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"]["ApplicationLogLevel"] == "WARN"
    lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "Text"})
    _updated(lam, name)
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_json_logs_reach_a_custom_log_group_filtered_by_level(lam: Any, logs: Any, make_function: Any, unique: Any) -> None:
    group = f"/custom/{unique('group')}"
    name = make_function(python_zip(
        "import logging\n"
        "logger = logging.getLogger()\n"
        "def handler(event, context):\n"
        "    logger.info('info-marker')\n"
        "    logger.warning('warn-marker', extra={'order': 3})\n"
        "    print('print-marker')\n"
        "    return 1\n"
    ), LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO", "LogGroup": group})
    invoked = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    request_id = invoked["ResponseMetadata"]["RequestId"]

    def delivered() -> list[dict[str, Any]]:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        parsed = [json.loads(e["message"]) for e in events]
        return parsed if any(r.get("type") == "platform.report" for r in parsed) else []

    parsed = wait_for(delivered)
    assert [r["type"] for r in parsed if "type" in r] == ["platform.start", "platform.report"]
    assert parsed[0]["record"]["requestId"] == request_id
    app = [r for r in parsed if "type" not in r]
    assert [(r["level"], r["message"], r["order"], r["requestId"]) for r in app] == [("WARNING", "warn-marker", 3, request_id)]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")  # nothing went to the default group
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"]["LogGroup"] == group
