"""Input, InputPath and InputTransformer, from the examples of "Amazon EventBridge input transformation"."""

from __future__ import annotations

import json

import pytest

from stratus.aws.errors import ValidationException
from stratus.aws.validate import validate
from stratus.services.events.transform import check_target_input, evaluate, render, render_template

EVENT = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "n": 2, "items": [{"id": 1}, {"id": 2}]},
}
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state", "resource": "$.resources[0]"}


def transformer(template: str, paths: dict[str, str] = PATHS) -> dict:
    return {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}


def test_json_template_quotes_string_values_outside_strings_and_splices_inside():
    out = render(transformer('{"timestamp": <timestamp>, "message": "instance <instance> is in <state>"}'), EVENT,
                 "arn:rule", "r", 0)
    assert json.loads(out) == {"timestamp": "2015-11-11T21:29:54Z", "message": "instance i-0123456789 is in RUNNING"}


def test_plain_template_splices_text():
    assert render(transformer("instance <instance> is in <state>"), EVENT, "arn", "r", 0) == "instance i-0123456789 is in RUNNING"
    assert render(transformer('"<instance> is in state \\"<state>\\""'), EVENT, "arn", "r", 0) == \
        '"i-0123456789 is in state \\"RUNNING\\""'


def test_values_with_quotes_stay_valid_json_inside_strings():
    event = {**EVENT, "detail": {"text": 'say "hi"'}}
    out = render_template('{"m": "<t>"}', {"t": evaluate(event, "$.detail.text")}, event)
    assert json.loads(out) == {"m": 'say "hi"'}


def test_predefined_variables_and_missing_values():
    out = render(transformer('{"rule": <aws.events.rule-name>, "arn": <aws.events.rule-arn>, "at": <aws.events.event.ingestion-time>,'
                             ' "event": <aws.events.event>, "whole": <aws.events.event.json>, "none": <nope>}',
                             {"nope": "$.detail.absent"}), EVENT, "arn:aws:events:us-east-1:1:rule/r", "r", 0)
    parsed = json.loads(out)
    assert parsed["rule"] == "r" and parsed["arn"] == "arn:aws:events:us-east-1:1:rule/r"
    assert parsed["at"] == "1970-01-01T00:00:00Z" and parsed["none"] is None
    assert "detail" not in parsed["event"] and parsed["whole"] == EVENT


def test_input_path_wildcards_and_constant_input():
    assert json.loads(render({"InputPath": "$.detail.items[*].id"}, EVENT, "a", "r", 0)) == [1, 2]
    assert json.loads(render({"InputPath": "$.detail"}, EVENT, "a", "r", 0)) == EVENT["detail"]
    assert render({"Input": '{"x": 1}'}, EVENT, "a", "r", 0) == '{"x": 1}'
    assert json.loads(render({}, EVENT, "a", "r", 0)) == EVENT


@pytest.mark.parametrize("target", [
    {"Input": "{}", "InputPath": "$.detail"},
    {"Input": "not json"},
    {"InputPath": "detail"},
    {"InputTransformer": {"InputPathsMap": {"a": "$..x"}, "InputTemplate": "x"}},
])
def test_put_targets_refuses_bad_input_settings(target):
    with pytest.raises(ValidationException):
        check_target_input(target)


def test_reserved_input_path_names_fail_the_models_key_pattern():
    transformer = {"InputPathsMap": {"aws.events.rule-arn": "$.id"}, "InputTemplate": "x"}
    target = {"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q", "InputTransformer": transformer}
    with pytest.raises(ValidationException) as info:
        validate("events", "PutTargets", {"Rule": "r", "Targets": [target]})
    assert "Map keys must satisfy constraint" in info.value.message
