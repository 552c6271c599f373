"""AWS STS: who is calling, and temporary credentials that act as a role (in the role's account).

Credentials issued here are rows of ``sts_sessions``; the identity lookup registered at
start resolves their access key id on any node, and ``Identities`` refuses them with
``ExpiredToken`` once the stratus clock passes their expiry; requests must carry their
session token (checked by ``Identities.authenticate``). Trust policies are not evaluated
yet (that is IAM enforcement): a role that exists can be assumed by anyone but a root.

Root and AssumeRole: AWS refuses AssumeRole to root credentials. The keys stratus did not
issue (``test``, twelve digits) act as the account root without being a root sign-in
(``Identity.issued`` is False): they may assume roles, as every local-cloud user expects.
Credentials stratus issued to a root (GetSessionToken called as the root, whose sessions
STS already treats as the account owner's) are refused, as on AWS.

MFA: SerialNumber and TokenCode are checked as AWS checks them (formats by the model,
both or neither), but the code cannot be verified: stratus's IAM has no MFA devices yet.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.aws.api import sts as api
from stratus.aws.api.iam import NoSuchEntityException
from stratus.aws.api.sts import ExpiredTokenException, MalformedPolicyDocumentException, StsApi
from stratus.aws.arns import parse_arn_strict
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.identity import Identity
from stratus.engine.timers import Timer
from stratus.services.sts import model
from stratus.services.sts import store as db
from stratus.services.sts.store import Session
from stratus.store import load_migrations

FORGET_TIMER = "sts.forget"
# Expired credentials are kept a day, answering ExpiredToken, before they are forgotten
# (a forgotten key would act as the default account, like any key stratus never issued).
RETAIN_EXPIRED_MS = 24 * 3600 * 1000


def _access_denied(message: str) -> AwsError:
    return AwsError(message, code="AccessDenied", status=403)


def _validation(message: str) -> AwsError:
    return AwsError(message, code="ValidationError")


def _check_mfa(request: Any) -> dict[str, Any]:
    """The MFA fields of AssumeRole and GetSessionToken: both or neither (the model's patterns
    check their formats first: a serial of 9-256 characters, a six-digit code)."""
    serial, code = request.get("SerialNumber"), request.get("TokenCode")
    if (serial is None) != (code is None):
        raise _access_denied(
            "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
        )
    # The code is not verified (no MFA devices exist in stratus's IAM); the serial is kept so
    # later policy evaluation can see that the session was started with MFA.
    return {"mfa_serial": serial} if serial is not None else {}


def _check_session_policy(policy: str | None) -> None:
    if policy is None:
        return
    try:
        json.loads(policy)
    except ValueError:
        raise MalformedPolicyDocumentException("The policy is not in the valid JSON format.") from None


def _packed_size(request: Any) -> int | None:
    arns = [p["arn"] for p in request.get("PolicyArns") or [] if p.get("arn")]
    return model.packed_policy_size(request.get("Policy"), arns, request.get("Tags") or [])


class StsProvider(StsApi):
    async def start(self) -> None:
        await self.store.migrate("sts", load_migrations("stratus.services.sts"))
        self.node.identities.register(self._lookup_key)
        self.timers.on(FORGET_TIMER, self._on_forget)

    async def _lookup_key(self, access_key: str) -> Identity | None:
        if not access_key.startswith(model.TEMPORARY_KEY_PREFIX):
            return None
        async with self.store.transaction() as tx:
            session = await db.get_session(tx, access_key)
        if session is None:
            return None
        return Identity(
            session.account, session.principal_arn, session.expires_ms, session.user_id,
            issued=True, session_token=session.session_token,
        )

    async def _on_forget(self, timer: Timer) -> None:
        async with self.store.transaction() as tx:
            await db.delete_session(tx, timer.key)

    # --- helpers ----------------------------------------------------------------------------

    async def _with_session_credentials(self, ctx: RequestContext) -> bool:
        """Whether the caller signed with temporary credentials of ours (whatever their principal)."""
        key = ctx.access_key or ""
        if not key.startswith(model.TEMPORARY_KEY_PREFIX):
            return False
        async with self.store.transaction() as tx:
            return await db.get_session(tx, key) is not None

    async def _issue(
        self, account: str, principal_arn: str, user_id: str, duration_s: int, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Store new temporary credentials; answer them as STS's ``Credentials``."""
        credentials = model.new_credentials()
        now = self.clock.now_ms()
        expires = now + duration_s * 1000
        session = Session(
            credentials.access_key_id, credentials.secret, credentials.session_token, account, principal_arn,
            user_id, now, expires, data,
        )
        async with self.store.transaction() as tx:
            await db.insert_session(tx, session)
            await self.timers.schedule(tx, FORGET_TIMER, session.access_key_id, expires + RETAIN_EXPIRED_MS)
        return {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret,
            "SessionToken": credentials.session_token,
            "Expiration": expires / 1000,
        }

    async def _role(self, ctx: RequestContext, role_arn: str, denied: AwsError) -> dict[str, Any]:
        """The IAM role named by ``role_arn`` (in its own account); ``denied`` when there is none.

        AWS cannot tell a caller whether a role exists: a missing one is denied like a refused one.
        """
        parsed = model.parse_role_arn(role_arn)
        if parsed is None:
            raise _validation(f"{role_arn} is invalid")
        account, name = parsed
        # A service calling in from a timer (Lambda for a rotation or a retry) may have no client.
        client = ctx.client or self.node.client(ctx)
        try:
            role = (await client.iam(account=account).get_role({"RoleName": name}))["Role"]
        except NoSuchEntityException:
            raise denied from None
        if role["Arn"] != role_arn:
            raise denied
        return role

    @staticmethod
    def _check_duration(role: dict[str, Any], duration_s: int) -> None:
        if duration_s > role["MaxSessionDuration"]:
            raise _validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")

    async def _assume(
        self, role: dict[str, Any], session_name: str, duration_s: int, data: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(Credentials, AssumedRoleUser) of a new session of ``role``."""
        account = parse_arn_strict(role["Arn"], "iam").account
        principal = model.assumed_role_arn(account, role["RoleName"], session_name)
        user_id = f"{role['RoleId']}:{session_name}"
        data = {"role_arn": role["Arn"], "session_name": session_name, **data}
        credentials = await self._issue(account, principal, user_id, duration_s, data)
        return credentials, {"AssumedRoleId": user_id, "Arn": principal}

    # --- operations -------------------------------------------------------------------------

    async def get_caller_identity(
        self, ctx: RequestContext, request: api.GetCallerIdentityRequest
    ) -> api.GetCallerIdentityResponse:
        identity = await self.node.identities.resolve(ctx.access_key)
        return {"UserId": identity.user_id, "Account": identity.account, "Arn": identity.principal_arn}

    async def assume_role(self, ctx: RequestContext, request: api.AssumeRoleRequest) -> api.AssumeRoleResponse:
        role_arn = request["RoleArn"]
        if not ctx.internal:
            # A service assuming a role for itself (Lambda, for a function) is no root.
            caller = await self.node.identities.resolve(ctx.access_key)
            if caller.is_root and caller.issued:
                raise _access_denied("Roles may not be assumed by root accounts.")
        duration = request.get("DurationSeconds") or model.ASSUME_ROLE_DEFAULT_S
        if model.is_session_principal(ctx.principal_arn) and duration > model.ROLE_CHAINING_MAX_S:
            raise _validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assuming other roles."
            )
        _check_session_policy(request.get("Policy"))
        mfa = _check_mfa(request)
        packed = _packed_size(request)
        denied = _access_denied(
            f"User: {ctx.principal_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        )
        role = await self._role(ctx, role_arn, denied)
        self._check_duration(role, duration)
        data = {
            "caller": ctx.principal_arn,
            "tags": request.get("Tags") or [],
            "transitive_tag_keys": request.get("TransitiveTagKeys") or [],
            "source_identity": request.get("SourceIdentity"),
            "external_id": request.get("ExternalId"),
            "policy": request.get("Policy"),
            "policy_arns": [p.get("arn") for p in request.get("PolicyArns") or []],
            **mfa,
        }
        credentials, user = await self._assume(role, request["RoleSessionName"], duration, data)
        out: dict[str, Any] = {"Credentials": credentials, "AssumedRoleUser": user}
        if packed is not None:
            out["PackedPolicySize"] = packed
        if request.get("SourceIdentity"):
            out["SourceIdentity"] = request["SourceIdentity"]
        return out  # type: ignore[return-value]

    async def assume_role_with_web_identity(
        self, ctx: RequestContext, request: api.AssumeRoleWithWebIdentityRequest
    ) -> api.AssumeRoleWithWebIdentityResponse:
        # Any well-formed JWT is accepted: its signature is not verified and no OIDC provider
        # needs to be registered (see model.jwt_claims). Subject, audience and issuer come
        # from the token's claims.
        claims = model.jwt_claims(request["WebIdentityToken"])
        now = self.clock.now_ms()
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] * 1000 <= now:
            raise ExpiredTokenException("Token expired: current date/time must be before the expiration date/time.")
        duration = request.get("DurationSeconds") or model.ASSUME_ROLE_DEFAULT_S
        _check_session_policy(request.get("Policy"))
        packed = _packed_size(request)
        role = await self._role(
            ctx, request["RoleArn"], _access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        )
        self._check_duration(role, duration)
        data = {
            "web_identity": {"sub": claims["sub"], "aud": model.audience(claims), "iss": claims.get("iss")},
            "policy": request.get("Policy"),
        }
        credentials, user = await self._assume(role, request["RoleSessionName"], duration, data)
        out: dict[str, Any] = {
            "Credentials": credentials,
            "SubjectFromWebIdentityToken": claims["sub"],
            "AssumedRoleUser": user,
            "Audience": model.audience(claims),
        }
        if claims.get("iss"):
            out["Provider"] = model.provider(claims)
        if packed is not None:
            out["PackedPolicySize"] = packed
        return out  # type: ignore[return-value]

    async def get_session_token(
        self, ctx: RequestContext, request: api.GetSessionTokenRequest
    ) -> api.GetSessionTokenResponse:
        if await self._with_session_credentials(ctx):
            raise _access_denied("Cannot call GetSessionToken with session credentials")
        mfa = _check_mfa(request)
        identity = await self.node.identities.resolve(ctx.access_key)
        duration = request.get("DurationSeconds") or model.SESSION_TOKEN_DEFAULT_S
        if model.is_root(identity.principal_arn):
            # "Sessions for AWS account owners are restricted to a maximum of 3,600 seconds."
            duration = min(duration, model.ROOT_SESSION_MAX_S)
        credentials = await self._issue(
            identity.account, identity.principal_arn, identity.user_id, duration,
            {"caller": identity.principal_arn, **mfa},
        )
        return {"Credentials": credentials}  # type: ignore[typeddict-item]

    async def get_federation_token(
        self, ctx: RequestContext, request: api.GetFederationTokenRequest
    ) -> api.GetFederationTokenResponse:
        if await self._with_session_credentials(ctx):
            raise _access_denied("Cannot call GetFederationToken with session credentials")
        _check_session_policy(request.get("Policy"))
        packed = _packed_size(request)
        identity = await self.node.identities.resolve(ctx.access_key)
        duration = request.get("DurationSeconds") or model.SESSION_TOKEN_DEFAULT_S
        if model.is_root(identity.principal_arn):
            duration = min(duration, model.ROOT_SESSION_MAX_S)
        name = request["Name"]
        arn = model.federated_user_arn(identity.account, name)
        user_id = f"{identity.account}:{name}"
        data = {"caller": identity.principal_arn, "tags": request.get("Tags") or [], "policy": request.get("Policy")}
        credentials = await self._issue(identity.account, arn, user_id, duration, data)
        out: dict[str, Any] = {"Credentials": credentials, "FederatedUser": {"FederatedUserId": user_id, "Arn": arn}}
        if packed is not None:
            out["PackedPolicySize"] = packed
        return out  # type: ignore[return-value]

    async def get_access_key_info(
        self, ctx: RequestContext, request: api.GetAccessKeyInfoRequest
    ) -> api.GetAccessKeyInfoResponse:
        key = request["AccessKeyId"]
        if key.startswith(model.TEMPORARY_KEY_PREFIX):
            # Read directly: an expired key still has an account.
            async with self.store.transaction() as tx:
                session = await db.get_session(tx, key)
            if session is not None:
                return {"Account": session.account}
        return {"Account": (await self.node.identities.resolve(key)).account}
