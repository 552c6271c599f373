"""STS: who is calling, and temporary credentials that act as a role in the role's account.

AWS references: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
API_GetCallerIdentity.html (UserId forms), API_GetSessionToken.html (root sessions <= 1 h).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for, server_now
from tests.helpers import aws_cli, queue_arn
from tests.integration.iam.conftest import TRUST, error_of, new_account
from tests.integration.sts.conftest import client_with

A = "111111111111"
B = "222222222222"


def _role(iam, name: str, **kwargs) -> dict:
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, **kwargs)["Role"]


def _server_now(endpoint: str) -> datetime:
    """Now on the server's stratus clock (other tests advance it)."""
    return datetime.fromtimestamp(server_now(endpoint), UTC)


def _unchecked(client, account: str):
    """The same client without boto3's own parameter checks, to reach the server's."""
    return client_for(client.meta.endpoint_url, "sts", access_key=account, parameter_validation=False)


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


# --- GetCallerIdentity ------------------------------------------------------------------


def test_caller_identity_of_the_default_key(endpoint):
    identity = client_for(endpoint, "sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["UserId"] == "000000000000"


def test_caller_identity_of_a_twelve_digit_key(sts, account):
    identity = sts.get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (account, f"arn:aws:iam::{account}:root", account)


def test_a_new_iam_access_key_acts_as_its_user_at_once(endpoint, iam, account, unique):
    name = unique("dev")
    user = iam.create_user(UserName=name, Path="/team/")["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    identity = client_for(endpoint, "sts", access_key=key["AccessKeyId"]).get_caller_identity()
    assert identity["Account"] == account
    assert identity["Arn"] == f"arn:aws:iam::{account}:user/team/{name}"
    assert identity["UserId"] == user["UserId"]
    # Resources the user creates live in the user's account.
    sqs = client_for(endpoint, "sqs", access_key=key["AccessKeyId"])
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    assert f"/{account}/" in url


def test_an_assumed_role_identity(sts, iam, account, unique):
    role = _role(iam, unique("r"), Path="/deploy/")
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build-42")
    identity = client_with(sts.meta.endpoint_url, "sts", assumed["Credentials"]).get_caller_identity()
    # The role's path is not part of the session ARN.
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/build-42"
    assert identity["UserId"] == f"{role['RoleId']}:build-42"
    assert identity["Account"] == account
    assert assumed["AssumedRoleUser"] == {"AssumedRoleId": identity["UserId"], "Arn": identity["Arn"]}


# --- AssumeRole -------------------------------------------------------------------------


def test_cross_account_role_creates_a_queue_in_the_roles_account(endpoint, unique):
    """A client in account A assumes a role in account B; what it creates lives in B."""
    iam_b = client_for(endpoint, "iam", access_key=B)
    role = _role(iam_b, unique("deployer"))
    assert role["Arn"] == f"arn:aws:iam::{B}:role/{role['RoleName']}"
    sts_a = client_for(endpoint, "sts", access_key=A)
    assumed = sts_a.assume_role(
        RoleArn=role["Arn"], RoleSessionName="pipeline", DurationSeconds=900, ExternalId="ext-1",
        SourceIdentity="alice", Tags=[{"Key": "project", "Value": "x"}], TransitiveTagKeys=["project"],
    )
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert credentials["SessionToken"]
    assert assumed["SourceIdentity"] == "alice"
    assert timedelta(minutes=14) < credentials["Expiration"] - _server_now(endpoint) <= timedelta(minutes=15)

    name = unique("cross")
    sqs_as_role = client_with(endpoint, "sqs", credentials)
    url = sqs_as_role.create_queue(QueueName=name)["QueueUrl"]
    assert f"/{B}/{name}" in url
    arn = queue_arn(sqs_as_role, url)
    assert arn == f"arn:aws:sqs:us-east-1:{B}:{name}"
    assert url in client_for(endpoint, "sqs", access_key=B).list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    assert client_for(endpoint, "sqs", access_key=A).list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []


def test_assume_a_missing_role_is_access_denied(sts, account):
    arn = f"arn:aws:iam::{new_account()}:role/nobody"
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1")
    assert error_of(excinfo) == (
        "AccessDenied",
        f"User: arn:aws:iam::{account}:root is not authorized to perform: sts:AssumeRole on resource: {arn}",
        403,
    )


def test_assume_role_with_a_wrong_path_is_access_denied(sts, iam, account, unique):
    role = _role(iam, unique("r"), Path="/a/")
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/b/{role['RoleName']}", RoleSessionName="s1")
    assert error_of(excinfo)[0] == "AccessDenied"


def test_duration_is_bounded_by_the_roles_max_session_duration(sts, iam, account, unique):
    role = _role(iam, unique("r"), MaxSessionDuration=7200)
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ok", DurationSeconds=7200)["Credentials"]
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="long", DurationSeconds=7201)
    assert error_of(excinfo) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )
    with pytest.raises(ClientError) as excinfo:
        _unchecked(sts, account).assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=899)
    assert error_of(excinfo)[0] == "ValidationError"


def test_role_chaining_is_limited_to_one_hour(endpoint, sts, iam, unique):
    first = _role(iam, unique("r1"), MaxSessionDuration=7200)
    second = _role(iam, unique("r2"), MaxSessionDuration=7200)
    chained = client_with(endpoint, "sts", sts.assume_role(RoleArn=first["Arn"], RoleSessionName="one")["Credentials"])
    with pytest.raises(ClientError) as excinfo:
        chained.assume_role(RoleArn=second["Arn"], RoleSessionName="two", DurationSeconds=3601)
    assert error_of(excinfo)[0] == "ValidationError"
    assumed = chained.assume_role(RoleArn=second["Arn"], RoleSessionName="two")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{second['RoleName']}/two")


@pytest.mark.parametrize("session_name", ["a", "has space", "x" * 65])
def test_role_session_name_rules(sts, iam, account, unique, session_name):
    role = _role(iam, unique("r"))
    with pytest.raises(ClientError) as excinfo:
        _unchecked(sts, account).assume_role(RoleArn=role["Arn"], RoleSessionName=session_name)
    assert error_of(excinfo)[0] == "ValidationError"


def test_malformed_session_policy(sts, iam, unique):
    role = _role(iam, unique("r"))
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy="{not json")
    assert error_of(excinfo)[0] == "MalformedPolicyDocument"


def test_expired_credentials_are_refused(endpoint, sts, iam, unique, advance_clock):
    role = _role(iam, unique("r"))
    credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)["Credentials"]
    as_role = client_with(endpoint, "sts", credentials)
    sqs_as_role = client_with(endpoint, "sqs", credentials)
    assert as_role.get_caller_identity()["Arn"].endswith("/short")
    sqs_as_role.list_queues()
    advance_clock(901)
    for call in (as_role.get_caller_identity, sqs_as_role.list_queues):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("ExpiredToken", "The security token included in the request is expired", 403)
    # Expired for good, also when asked again (no stale cache).
    with pytest.raises(ClientError) as excinfo:
        as_role.get_caller_identity()
    assert error_of(excinfo)[0] == "ExpiredToken"


# --- AssumeRoleWithWebIdentity ----------------------------------------------------------


def test_assume_role_with_web_identity(endpoint, iam, account, unique):
    role = _role(iam, unique("web"))
    token = _jwt({"sub": "user-123", "aud": "my-client", "iss": "https://idp.example.com"})
    # Unsigned, as boto3 sends it.
    sts = client_for(endpoint, "sts")
    answer = sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="web", WebIdentityToken=token)
    assert answer["SubjectFromWebIdentityToken"] == "user-123"
    assert answer["Audience"] == "my-client"
    assert answer["Provider"] == "idp.example.com"
    identity = client_with(endpoint, "sts", answer["Credentials"]).get_caller_identity()
    assert identity["Account"] == account
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/web"


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", _jwt({"aud": "no-subject"})])
def test_web_identity_token_must_be_a_jwt(endpoint, iam, unique, token):
    role = _role(iam, unique("web"))
    with pytest.raises(ClientError) as excinfo:
        client_for(endpoint, "sts").assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="web", WebIdentityToken=token
        )
    assert error_of(excinfo)[0] == "InvalidIdentityToken"


def test_web_identity_expired_token_and_missing_role(endpoint, iam, account, unique):
    role = _role(iam, unique("web"))
    sts = client_for(endpoint, "sts")
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="web", WebIdentityToken=_jwt({"sub": "u", "aud": "a", "exp": 1000})
        )
    assert error_of(excinfo)[0] == "ExpiredTokenException"
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{account}:role/missing", RoleSessionName="web",
            WebIdentityToken=_jwt({"sub": "u", "aud": "a"}),
        )
    assert error_of(excinfo)[:2] == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


# --- GetSessionToken, GetFederationToken, GetAccessKeyInfo --------------------------------


def test_get_session_token_keeps_the_callers_identity(endpoint, iam, account, unique):
    name = unique("u")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = client_for(endpoint, "sts", access_key=key["AccessKeyId"])
    credentials = as_user.get_session_token(DurationSeconds=1800)["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    session = client_with(endpoint, "sts", credentials)
    identity = session.get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (account, user["Arn"], user["UserId"])
    with pytest.raises(ClientError) as excinfo:
        session.get_session_token()
    assert error_of(excinfo) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)


def test_root_session_tokens_last_at_most_an_hour(endpoint, sts):
    credentials = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    assert timedelta(minutes=59) < credentials["Expiration"] - _server_now(endpoint) <= timedelta(hours=1)


def test_get_session_token_duration_range(sts, account):
    with pytest.raises(ClientError) as excinfo:
        _unchecked(sts, account).get_session_token(DurationSeconds=100)
    assert error_of(excinfo)[0] == "ValidationError"


def test_get_federation_token(endpoint, sts, account):
    answer = sts.get_federation_token(Name="carol", DurationSeconds=900)
    assert answer["FederatedUser"] == {
        "FederatedUserId": f"{account}:carol",
        "Arn": f"arn:aws:sts::{account}:federated-user/carol",
    }
    identity = client_with(endpoint, "sts", answer["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account}:federated-user/carol"
    assert identity["UserId"] == f"{account}:carol"


def test_get_access_key_info(endpoint, sts, iam, account, unique):
    name = unique("u")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    other = client_for(endpoint, "sts")
    assert other.get_access_key_info(AccessKeyId=key)["Account"] == account
    role = _role(iam, unique("r"))
    temporary = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]["AccessKeyId"]
    assert other.get_access_key_info(AccessKeyId=temporary)["Account"] == account


def test_saml_is_not_implemented(sts, account):
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role_with_saml(
            RoleArn=f"arn:aws:iam::{account}:role/x",
            PrincipalArn=f"arn:aws:iam::{account}:saml-provider/idp",
            SAMLAssertion="x" * 8,
        )
    assert error_of(excinfo)[0] == "NotImplemented"


def test_aws_cli_get_caller_identity(endpoint):
    assert aws_cli(endpoint, "sts", "get-caller-identity", access_key="333333333333") == {
        "UserId": "333333333333",
        "Account": "333333333333",
        "Arn": "arn:aws:iam::333333333333:root",
    }
