"""The committed ``stratus/aws/api`` modules are what botocore + our patches generate."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest

from stratus.aws.api import api_class, class_name, module_name
from stratus.aws.errors import AwsError, NotImplementedOperation
from stratus.aws.models import service_model
from tools.gen_api import API_DIR, SERVICES, Generator, generate, py_name


@pytest.mark.parametrize("service", SERVICES)
def test_committed_module_matches_generator(service: str) -> None:
    path = API_DIR / f"{module_name(service)}.py"
    assert path.exists(), f"{path} is missing: run `python -m tools.gen_api`"
    assert path.read_text() == generate(service), (
        f"{path} differs from what botocore + stratus/aws/patches generate: "
        "run `python -m tools.gen_api`"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_base_class_has_one_unimplemented_method_per_operation(service: str) -> None:
    base = api_class(service)
    model = service_model(service)
    assert base.__name__ == class_name(service)
    assert set(base.OPERATIONS) == set(model.operation_names)
    for operation, method in base.OPERATIONS.items():
        with pytest.raises(NotImplementedOperation) as info:
            base.__dict__[method](None, None, {}).send(None)
        assert operation in info.value.message


@pytest.mark.parametrize("service", SERVICES)
def test_one_exception_class_per_error_shape(service: str) -> None:
    module = import_module(f"stratus.aws.api.{module_name(service)}")
    model = service_model(service)
    for shape in model.error_shapes:
        error = getattr(module, py_name(shape.name))
        assert issubclass(error, AwsError)
        assert error.code == shape.name
        # The query protocol's code (e.g. SQS's AWS.SimpleQueueService.NonExistentQueue).
        query_code = shape.metadata.get("error", {}).get("code")
        assert error.query_code == (query_code if query_code != shape.name else None)


def test_sqs_shapes_errors_and_signatures() -> None:
    from stratus.aws.api import sqs

    assert sqs.SendMessageRequest.__required_keys__ == {"QueueUrl", "MessageBody"}
    assert "DelaySeconds" in sqs.SendMessageRequest.__optional_keys__
    assert sqs.SqsApi.OPERATIONS["SendMessage"] == "send_message"
    assert sqs.SqsApi.service == "sqs"
    assert sqs.QueueDoesNotExist.code == "QueueDoesNotExist"
    assert sqs.QueueDoesNotExist.status == 400 and sqs.QueueDoesNotExist.sender_fault
    signature = sqs.SqsApi.send_message.__annotations__
    assert signature["request"] is sqs.SendMessageRequest
    assert signature["return"] is sqs.SendMessageResult
    # An operation without output answers a plain dict.
    assert sqs.SqsApi.delete_message.__annotations__["return"] == dict[str, Any]


def test_generator_handles_awkward_models() -> None:
    # apigatewayv2 has shapes named "None" and "__string" and a member named "None";
    # dynamodb has recursive shapes (AttributeValue <-> MapAttributeValue) and server faults.
    for service in ("apigatewayv2", "dynamodb"):
        source = generate(service)
        namespace: dict[str, object] = {}
        # dont_inherit: this test module's ``from __future__ import annotations`` must not apply.
        exec(compile(source, service, "exec", dont_inherit=True), namespace)
    server_error: Any = namespace["InternalServerError"]
    assert server_error.status == 500 and server_error.sender_fault is False
    put_item: Any = namespace["PutItemInput"]
    assert put_item.__required_keys__ == {"TableName", "Item"}


def _load(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    # dont_inherit: this test module's ``from __future__ import annotations`` must not apply.
    exec(compile(source, "generated", "exec", dont_inherit=True), namespace)
    return namespace


def test_error_traits_come_from_the_error_shape() -> None:
    description = {
        "metadata": {"protocol": "json", "apiVersion": "2020-01-01", "serviceFullName": "Toy"},
        "operations": {
            "Get": {"name": "Get", "input": {"shape": "GetInput"}, "errors": [{"shape": "Gone"}]},
        },
        "shapes": {
            "GetInput": {
                "type": "structure",
                "required": ["Id"],
                "members": {"Id": {"shape": "Id"}, "Node": {"shape": "Node"}},
            },
            "Id": {"type": "string"},
            # A recursive pair: the reference that closes the cycle is quoted.
            "Node": {"type": "structure", "members": {"Children": {"shape": "Nodes"}}},
            "Nodes": {"type": "list", "member": {"shape": "Node"}},
            "Gone": {
                "type": "structure",
                "members": {},
                "exception": True,
                "error": {"code": "Legacy.Gone", "httpStatusCode": 410, "senderFault": True},
            },
            "Broken": {"type": "structure", "members": {}, "exception": True, "fault": True},
        },
    }
    source = Generator("toy-service", description).render()
    namespace = _load(source)
    gone, broken = namespace["Gone"], namespace["Broken"]
    assert (gone.code, gone.query_code, gone.status, gone.sender_fault) == (
        "Gone",
        "Legacy.Gone",
        410,
        True,
    )
    assert (broken.code, broken.query_code, broken.status, broken.sender_fault) == (
        "Broken",
        None,
        500,
        False,
    )
    api = namespace["ToyServiceApi"]
    assert api.OPERATIONS == {"Get": "get"}
    assert api.get.__annotations__["request"] is namespace["GetInput"]
    assert api.get.__annotations__["return"] == dict[str, Any]
    assert namespace["GetInput"].__required_keys__ == {"Id"}
    assert 'Nodes: TypeAlias = list["Node"]' in source
    assert "    Children: Nodes\n" in source
