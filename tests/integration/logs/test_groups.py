"""Log groups: create/delete/describe, retention values, tags (both tag APIs), filters stored."""

from __future__ import annotations

import pytest

from tests.helpers import error_code


def test_create_describe_delete(logs, make_group, unique):
    name = make_group(tags={"team": "core"}, kmsKeyId="arn:aws:kms:us-east-1:000000000000:key/abc", logGroupClass="INFREQUENT_ACCESS")
    (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["logGroupName"] == name
    assert group["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"
    assert group["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"
    assert group["storedBytes"] == 0 and group["metricFilterCount"] == 0
    assert group["kmsKeyId"] == "arn:aws:kms:us-east-1:000000000000:key/abc"
    assert group["logGroupClass"] == "INFREQUENT_ACCESS"
    assert "retentionInDays" not in group and group["creationTime"] > 0
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as exc:
        logs.delete_log_group(logGroupName=name)
    assert exc.value.response["Error"]["Message"] == "The specified log group does not exist."


def violation(name: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: {constraint}"


PATTERN = "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"


# CloudWatch Logs answers a model violation as InvalidParameterException, not ValidationException.
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad name", violation("bad name", PATTERN)),
        ("has:colon", violation("has:colon", PATTERN)),
        ("aws/reserved", "Log groups starting with AWS/ are reserved for AWS."),
        ("x" * 513, violation("x" * 513, "Member must have length less than or equal to 512")),
    ],
)
def test_invalid_group_names(logs, name, message):
    with pytest.raises(logs.exceptions.InvalidParameterException) as exc:
        logs.create_log_group(logGroupName=name)
    assert error_code(exc) == "InvalidParameterException"
    assert exc.value.response["Error"]["Message"] == message


def test_lambda_style_names_and_pattern_search(logs, unique):
    base = unique("fn")
    names = [f"/aws/lambda/{base}-a", f"/aws/lambda/{base}-B", f"/other/{base}"]
    for n in names:
        logs.create_log_group(logGroupName=n)
    found = logs.describe_log_groups(logGroupNamePattern=base.upper())["logGroups"]
    assert [g["logGroupName"] for g in found] == sorted(names)  # case-insensitive substring
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_groups(logGroupNamePrefix="/aws", logGroupNamePattern="x")


def test_pagination(logs, unique):
    prefix = unique("/page")
    names = sorted(f"{prefix}/{i:02d}" for i in range(7))
    for n in names:
        logs.create_log_group(logGroupName=n)
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=3, **kwargs)
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == names
    paginator = logs.get_paginator("describe_log_groups")
    assert sum(len(p["logGroups"]) for p in paginator.paginate(logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 2})) == 7


def test_retention_policy_values(logs, make_group):
    name = make_group()
    logs.put_retention_policy(logGroupName=name, retentionInDays=14)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["retentionInDays"] == 14
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName=name, retentionInDays=2)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["retentionInDays"] == 14
    logs.delete_retention_policy(logGroupName=name)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_retention_policy(logGroupName=name + "-missing", retentionInDays=1)


def test_tags_both_apis(logs, make_group):
    name = make_group(tags={"a": "1"})
    arn = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"b": "2"})
    logs.tag_log_group(logGroupName=name, tags={"c": "3"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2", "c": "3"}
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    logs.untag_log_group(logGroupName=name, tags=["b"])
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"c": "3"}
    with pytest.raises(logs.exceptions.TooManyTagsException):
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.list_tags_for_resource(resourceArn=arn + "-missing")


def test_deletion_protection(logs, make_group):
    name = make_group(deletionProtectionEnabled=True)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["deletionProtectionEnabled"] is True
    with pytest.raises(logs.exceptions.ClientError) as exc:
        logs.delete_log_group(logGroupName=name)
    assert error_code(exc) == "ValidationException"


def test_metric_filters_are_stored(logs, make_group):
    name = make_group()
    transformation = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0.0}
    logs.put_metric_filter(logGroupName=name, filterName="errors", filterPattern="ERROR", metricTransformations=[transformation])
    logs.put_metric_filter(logGroupName=name, filterName="latency", filterPattern="{ $.latency = * }",
                           metricTransformations=[{**transformation, "metricName": "Latency", "metricValue": "$.latency"}])
    filters = logs.describe_metric_filters(logGroupName=name)["metricFilters"]
    assert [f["filterName"] for f in filters] == ["errors", "latency"]
    assert filters[0]["metricTransformations"][0]["metricName"] == "Errors"
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["metricFilterCount"] == 2
    by_metric = logs.describe_metric_filters(metricName="Latency", metricNamespace="App")["metricFilters"]
    assert [f["filterName"] for f in by_metric if f["logGroupName"] == name] == ["latency"]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_metric_filter(logGroupName=name, filterName="bad", filterPattern="{ $.x = }", metricTransformations=[transformation])
    logs.delete_metric_filter(logGroupName=name, filterName="errors")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_metric_filter(logGroupName=name, filterName="errors")


def test_test_metric_filter_extracts_fields(logs):
    line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
    matches = logs.test_metric_filter(filterPattern="[ip, user, username, timestamp, request, status_code = 4*, bytes]",
                                      logEventMessages=[line, "not a match"])["matches"]
    assert len(matches) == 1 and matches[0]["eventNumber"] == 1
    assert matches[0]["extractedValues"]["$status_code"] == "404"
    assert matches[0]["extractedValues"]["$request"] == "GET /index.html HTTP/1.0"
