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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.api.secretsmanager import InvalidParameterException
from stratus.aws.client import InternalClient
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.scheduler.expressions import CronSchedule, ScheduleError
from stratus.services.scheduler.expressions import parse as parse_expression
from stratus.services.secretsmanager import store as db
from stratus.services.secretsmanager.model import AWSCURRENT, AWSPENDING, DAY_MS, Secret, Version
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.services.secretsmanager.provider import SecretsmanagerProvider

log = logging.getLogger("stratus.secretsmanager.rotation")

ROTATION_TIMER = "secretsmanager.rotation"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
_RATE = re.compile(r"^rate\((\d+) (hour|hours|day|days)\)$")


# Secrets Manager checks that the function exists and that it may invoke it before changing
# anything; it cannot tell the two apart, so a missing function answers like a forbidden one.
_CANNOT_INVOKE = (
    "Secrets Manager cannot invoke the specified Lambda function. "
    "Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com."
)
_MIN_INTERVAL_MS = 4 * 3_600_000  # "You can rotate a secret as often as every four hours."
_MAX_INTERVAL_MS = 1000 * DAY_MS
_TOO_OFTEN = "The rotation schedule must be between 4 hours and 1000 days."


@dataclass(frozen=True, slots=True)
class RotationSchedule:
    """When automatic rotations happen: every ``interval_ms`` after the last rotation
    (AutomaticallyAfterDays, rate()) or at the times of a cron() expression, in UTC.

    AWS rotates "any time during a rotation window" that opens at the scheduled time; stratus
    rotates when the window opens, so a test that advances the clock knows when it happens.
    """

    interval_ms: int | None = None
    cron: CronSchedule | None = None

    def next_after(self, now_ms: int) -> int:
        if self.cron is None:
            assert self.interval_ms is not None
            return now_ms + self.interval_ms
        after = datetime.fromtimestamp(now_ms / 1000, UTC)
        due = self.cron.next_after(after)
        if due is None:  # a cron whose years are all past: no further rotation
            raise InvalidParameterException(f"The ScheduleExpression {self.cron.expression} has no future rotation.")
        return int(due.timestamp() * 1000)


def rotation_schedule(rules: dict[str, Any]) -> RotationSchedule:
    """The schedule ``RotationRules`` ask for (API reference, RotationRulesType), validated."""
    days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    if days is not None and expression is not None:
        raise InvalidParameterException("You cannot specify both rotation frequency and schedule expression together.")
    if days is not None:
        if not 1 <= days <= 1000:
            raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
        return RotationSchedule(interval_ms=days * DAY_MS)
    if expression is None:
        raise InvalidParameterException("RotationRules must include AutomaticallyAfterDays or ScheduleExpression.")
    if m := _RATE.match(expression):
        count, unit = int(m.group(1)), m.group(2)
        hours = count if unit.startswith("hour") else count * 24
        if not _MIN_INTERVAL_MS <= hours * 3_600_000 <= _MAX_INTERVAL_MS:
            raise InvalidParameterException(_TOO_OFTEN)
        return RotationSchedule(interval_ms=hours * 3_600_000)
    if expression.startswith("cron("):
        try:
            schedule = parse_expression(expression, timezone="UTC")
        except ScheduleError:
            raise InvalidParameterException(f"Invalid ScheduleExpression: {expression}") from None
        assert isinstance(schedule, CronSchedule)
        _check_cron_spacing(schedule)
        return RotationSchedule(cron=schedule)
    raise InvalidParameterException(f"Invalid ScheduleExpression: {expression}")


def _check_cron_spacing(schedule: CronSchedule) -> None:
    """Reject a cron that fires more often than every four hours (over a sample of its next
    fire times: enough for the hour and minute fields, which are what make it too frequent)."""
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    previous = None
    for _ in range(12):
        moment = schedule.next_after(moment)  # type: ignore[assignment]
        if moment is None:
            return
        if previous is not None and (moment - previous).total_seconds() * 1000 < _MIN_INTERVAL_MS:
            raise InvalidParameterException(_TOO_OFTEN)
        previous = moment


async def require_function(client: InternalClient, function_arn: str) -> None:
    """RotateSecret's check before it changes anything: the rotation function exists."""
    try:
        await client.lambda_.get_function({"FunctionName": function_arn})
    except AwsError as exc:
        if exc.code in ("ResourceNotFoundException", "InvalidParameterValueException", "ValidationException"):
            raise AwsError(_CANNOT_INVOKE, code="AccessDeniedException", status=400) from None
        raise


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
            answer = await client.lambda_.invoke(
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
                    if secret.rotation.get("enabled") and secret.rotation.get("rules"):
                        secret.next_rotation_ms = rotation_schedule(secret.rotation["rules"]).next_after(now)
                        await self.schedule_next(tx, secret)
            await db.update_secret(tx, secret)
