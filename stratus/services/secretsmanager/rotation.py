"""Secret rotation: a durable state machine over timers that drives a rotation Lambda.

A rotation runs the function four times, one step per timer firing (createSecret,
setSecret, testSecret, finishSecret), each with ``ClientRequestToken`` = the id of the new
version, which carries the AWSPENDING label until finishSecret moves AWSCURRENT to it. The
timer ``(ROTATION_TIMER, secret ARN)`` holds the remaining steps in its payload, so a restart
resumes at the step it stopped at. The same timer, with ``{"scheduled": true}``, starts the
next automatic rotation at NextRotationDate.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

from stratus.aws.api.secretsmanager import InvalidParameterException
from stratus.aws.client import InternalClient, ServiceClient
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.secretsmanager import store as db
from stratus.services.secretsmanager.model import AWSCURRENT, AWSPENDING, DAY_MS, Secret, Version
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.services.secretsmanager.provider import SecretsmanagerProvider

log = logging.getLogger("stratus.secretsmanager.rotation")

ROTATION_TIMER = "secretsmanager.rotation"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
_RATE = re.compile(r"^rate\((\d+) (hour|hours|day|days)\)$")


class LambdaUnavailable(AwsError):
    """Rotation needs AWS Lambda, which this stratus does not run (yet): never a fake rotation."""

    code = "NotImplemented"
    status = 501
    sender_fault = False


def interval_ms(rules: dict[str, Any]) -> int:
    """The time between automatic rotations that ``RotationRules`` ask for."""
    days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    if days is not None and expression is not None:
        raise InvalidParameterException("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
    if days is not None:
        if not 1 <= days <= 1000:
            raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
        return days * DAY_MS
    if expression is None:
        raise InvalidParameterException("RotationRules must include AutomaticallyAfterDays or ScheduleExpression.")
    if m := _RATE.match(expression):
        count, unit = int(m.group(1)), m.group(2)
        hours = count if unit.startswith("hour") else count * 24
        if not 4 <= hours <= 1000 * 24:
            raise InvalidParameterException("The rotation schedule must be between 4 hours and 1000 days.")
        return hours * 3_600_000
    if expression.startswith("cron("):
        raise LambdaUnavailable("stratus supports rate() rotation schedules; cron() ScheduleExpression is not implemented yet.")
    raise InvalidParameterException(f"Invalid ScheduleExpression: {expression}")


def lambda_client(client: InternalClient) -> ServiceClient:
    try:
        return client.lambda_
    except AttributeError:
        raise LambdaUnavailable(
            "stratus does not implement AWS Lambda yet, so it cannot run a rotation function; RotateSecret changed nothing."
        ) from None


def pending_version(versions: list[Version]) -> Version | None:
    """The version a rotation left half done: AWSPENDING without AWSCURRENT."""
    for version in versions:
        if AWSPENDING in version.stages and AWSCURRENT not in version.stages:
            return version
    return None


class Rotations:
    def __init__(self, provider: SecretsmanagerProvider) -> None:
        self._p = provider

    async def begin(self, tx: Tx, secret: Secret, token: str) -> None:
        """Start running the steps for version ``token`` (in the caller's transaction)."""
        secret.rotation["in_progress"] = token
        await self._p.timers.schedule(
            tx, ROTATION_TIMER, secret.arn, self._p.clock.now_ms(), {"token": token, "steps": list(STEPS)}
        )

    async def schedule_next(self, tx: Tx, secret: Secret) -> None:
        if secret.next_rotation_ms is not None and secret.rotation.get("enabled"):
            await self._p.timers.schedule(tx, ROTATION_TIMER, secret.arn, secret.next_rotation_ms, {"scheduled": True})

    async def cancel(self, tx: Tx, secret: Secret) -> None:
        await self._p.timers.cancel(tx, ROTATION_TIMER, secret.arn)

    async def on_timer(self, timer: Timer) -> None:
        if timer.payload.get("scheduled"):
            await self._start_scheduled(timer.key)
        else:
            await self._run_step(timer.key, timer.payload["token"], timer.payload["steps"])

    async def _start_scheduled(self, arn: str) -> None:
        async with self._p.store.transaction() as tx:
            secret = await db.secret_by_arn(tx, arn)
            if secret is None or secret.scheduled_for_deletion or not secret.rotation.get("enabled"):
                return
            versions = await db.versions(tx, secret.id)
            pending = pending_version(versions)
            token = pending.version_id if pending else str(uuid.uuid4())
            if pending is None:
                await db.insert_version(tx, self._p.empty_version(secret, token, [AWSPENDING]))
            await self.begin(tx, secret, token)
            await db.update_secret(tx, secret)

    async def _run_step(self, arn: str, token: str, steps: list[str]) -> None:
        async with self._p.store.transaction() as tx:
            secret = await db.secret_by_arn(tx, arn)
        if secret is None or secret.scheduled_for_deletion or secret.rotation.get("in_progress") != token:
            return  # deleted or cancelled meanwhile
        client = self._p.node.client(RequestContext(account=secret.account, region=secret.region, request_id=str(uuid.uuid4())))
        event = {"Step": steps[0], "SecretId": secret.arn, "ClientRequestToken": token, "RotationToken": str(uuid.uuid4())}
        error = None
        try:
            answer = await lambda_client(client).invoke(
                {"FunctionName": secret.rotation["lambda_arn"], "Payload": json.dumps(event).encode()}
            )
            if answer.get("FunctionError"):
                error = f"{steps[0]} failed: {bytes(answer.get('Payload') or b'').decode(errors='replace')}"
        except AwsError as exc:
            error = f"{steps[0]} could not invoke {secret.rotation['lambda_arn']}: {exc.code}: {exc.message}"
        async with self._p.store.transaction() as tx:
            secret = await db.secret_by_arn(tx, arn)
            if secret is None or secret.rotation.get("in_progress") != token:
                return
            now = self._p.clock.now_ms()
            if error is None and len(steps) > 1:
                await self._p.timers.schedule(tx, ROTATION_TIMER, arn, now, {"token": token, "steps": steps[1:]})
                return
            secret.rotation.pop("in_progress", None)
            if error is not None:
                # AWSPENDING stays on the new version; the next RotateSecret retries with it.
                log.warning("rotation of %s failed: %s", arn, error)
                secret.rotation["last_error"] = error
            else:
                current = next((v for v in await db.versions(tx, secret.id) if v.version_id == token), None)
                if current is None or AWSCURRENT not in current.stages:
                    secret.rotation["last_error"] = "finishSecret did not move AWSCURRENT to the new version"
                else:
                    secret.rotation.pop("last_error", None)
                    secret.rotated_ms = now
                    if secret.rotation.get("interval_ms"):
                        secret.next_rotation_ms = now + secret.rotation["interval_ms"]
                        await self.schedule_next(tx, secret)
            await db.update_secret(tx, secret)
