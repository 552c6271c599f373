"""Amazon EventBridge Scheduler: schedule groups, schedules, and their invocations.

Each enabled schedule owns one durable timer (``scheduler.fire``), due at its next
invocation on the stratus clock: schedules survive restarts and follow a clock that tests
move forward. The timer's handler invokes the target, then moves the same timer to the
following fire time (or, when there is none, leaves the schedule done and deletes it under
``ActionAfterCompletion: DELETE``). A failed invocation becomes a ``scheduler.retry`` timer of
its own, carrying everything it needs, so retries and the schedule's cadence are
independent; when the retry policy runs out the payload goes to the dead-letter queue.
Delivery is at least once, as AWS's: a node that dies between invoking and recording runs
that invocation again.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from stratus.aws.api.scheduler import (
    ConflictException,
    CreateScheduleGroupInput,
    CreateScheduleGroupOutput,
    CreateScheduleInput,
    CreateScheduleOutput,
    DeleteScheduleGroupInput,
    DeleteScheduleGroupOutput,
    DeleteScheduleInput,
    DeleteScheduleOutput,
    GetScheduleGroupInput,
    GetScheduleGroupOutput,
    GetScheduleInput,
    GetScheduleOutput,
    ListScheduleGroupsInput,
    ListScheduleGroupsOutput,
    ListSchedulesInput,
    ListSchedulesOutput,
    ListTagsForResourceInput,
    ListTagsForResourceOutput,
    ResourceNotFoundException,
    SchedulerApi,
    TagResourceInput,
    TagResourceOutput,
    UntagResourceInput,
    UntagResourceOutput,
    UpdateScheduleInput,
    UpdateScheduleOutput,
    ValidationException,
)
from stratus.aws.arns import parse_arn_strict
from stratus.aws.client import InternalClient
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.pagination import page_token, token_key
from stratus.engine.timers import Timer
from stratus.services.events.targets import is_retryable
from stratus.services.scheduler import store as db
from stratus.services.scheduler.invoke import dead_letter, invoke_target
from stratus.services.scheduler.model import (
    DEFAULT_GROUP,
    FIRE_TIMER,
    GROUP_DELETE_TIMER,
    RETRY_TIMER,
    Group,
    Invocation,
    Schedule,
    fire_after_ms,
    schedule_config,
)
from stratus.store import load_migrations
from stratus.store.base import Tx

log = logging.getLogger("stratus.scheduler")

_PAGE = 100


def _schedule_missing(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Schedule {name} does not exist.")


def _group_missing(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Schedule group {name} does not exist.")


def _page(items: list[Any], keys: list[str], token: str | None, limit: int | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` (sorted by ``keys``) after the key in ``token``."""
    after = token_key(token, ValidationException("Invalid NextToken."))
    start = next((i for i, key in enumerate(keys) if key > after), len(keys)) if after else 0
    size = limit or _PAGE
    end = start + size
    return items[start:end], (page_token(keys[end - 1]) if end < len(items) else None)


def _group_of_arn(arn: str) -> tuple[str, str, str]:
    """(account, region, group name) of a schedule group ARN (the model's pattern already holds)."""
    group = parse_arn_strict(arn, "scheduler")
    return group.account, group.region, group.resource.split("/", 1)[1]


class SchedulerProvider(SchedulerApi):
    async def start(self) -> None:
        await self.store.migrate("scheduler", load_migrations("stratus.services.scheduler"))
        self.timers.on(FIRE_TIMER, self._on_fire)
        self.timers.on(RETRY_TIMER, self._on_retry)
        self.timers.on(GROUP_DELETE_TIMER, self._on_group_delete)

    # --- helpers ----------------------------------------------------------------------------

    async def _arm(self, tx: Tx, schedule: Schedule, after_ms: int) -> bool:
        """Point the schedule's timer at its next fire time after ``after_ms``; False if none is left."""
        scheduled = schedule.next_fire_ms(after_ms) if schedule.state == "ENABLED" else None
        if scheduled is None:
            await self.timers.cancel(tx, FIRE_TIMER, schedule.key)
            return False
        payload = {"v": schedule.version, "at": scheduled}
        await self.timers.schedule(tx, FIRE_TIMER, schedule.key, schedule.due_ms(scheduled), payload)
        return True

    async def _check_group(self, tx: Tx, ctx: RequestContext, name: str) -> None:
        if name == DEFAULT_GROUP:
            return
        group = await db.get_group(tx, ctx.account, ctx.region, name)
        if group is None:
            raise _group_missing(name)
        if group.state == "DELETING":
            raise ConflictException(f"Schedule group {name} is being deleted.")

    async def _require_group(self, tx: Tx, account: str, region: str, name: str) -> Group:
        await db.ensure_default_group(tx, account, region, self.clock.now_ms())
        group = await db.get_group(tx, account, region, name)
        if group is None:
            raise _group_missing(name)
        return group

    # --- schedules --------------------------------------------------------------------------

    async def create_schedule(self, ctx: RequestContext, request: CreateScheduleInput) -> CreateScheduleOutput:
        now = self.clock.now_ms()
        config = schedule_config(dict(request), now)
        group = request.get("GroupName", DEFAULT_GROUP)
        schedule = Schedule(
            account=ctx.account,
            region=ctx.region,
            group=group,
            name=request["Name"],
            state=request.get("State", "ENABLED"),
            config=config,
            anchor_ms=config.get("StartDate", now),
            client_token=request.get("ClientToken"),
            version=1,
            created_ms=now,
            modified_ms=now,
        )
        async with self.store.transaction() as tx:
            await self._check_group(tx, ctx, group)
            if not await db.insert_schedule(tx, schedule):
                existing = await db.get_schedule(tx, ctx.account, ctx.region, group, schedule.name)
                if existing is not None and schedule.client_token and existing.client_token == schedule.client_token:
                    return {"ScheduleArn": existing.arn}  # a retried request: same answer
                raise ConflictException(f"Schedule {schedule.name} already exists.")
            # "Starts invoking immediately" when a rate schedule has no StartDate: the anchor
            # itself is the first fire, hence a look from just before now.
            await self._arm(tx, schedule, now - 1)
        return {"ScheduleArn": schedule.arn}

    async def get_schedule(self, ctx: RequestContext, request: GetScheduleInput) -> GetScheduleOutput:
        group = request.get("GroupName", DEFAULT_GROUP)
        async with self.store.transaction() as tx:
            schedule = await db.get_schedule(tx, ctx.account, ctx.region, group, request["Name"])
        if schedule is None:
            raise _schedule_missing(request["Name"])
        return schedule.describe()  # type: ignore[return-value]

    async def update_schedule(self, ctx: RequestContext, request: UpdateScheduleInput) -> UpdateScheduleOutput:
        now = self.clock.now_ms()
        config = schedule_config(dict(request), now)
        group = request.get("GroupName", DEFAULT_GROUP)
        token = request.get("ClientToken")
        async with self.store.transaction() as tx:
            schedule = await db.get_schedule(tx, ctx.account, ctx.region, group, request["Name"])
            if schedule is None:
                raise _schedule_missing(request["Name"])
            if token and token == schedule.client_token:
                return {"ScheduleArn": schedule.arn}
            # UpdateSchedule replaces the whole schedule: what the request leaves out is reset.
            schedule.config = config
            schedule.state = request.get("State", "ENABLED")
            schedule.anchor_ms = config.get("StartDate", now)
            schedule.client_token = token
            schedule.modified_ms = now
            schedule.version = await db.replace_schedule(tx, schedule)
            await self._arm(tx, schedule, now - 1)
        return {"ScheduleArn": schedule.arn}

    async def delete_schedule(self, ctx: RequestContext, request: DeleteScheduleInput) -> DeleteScheduleOutput:
        group = request.get("GroupName", DEFAULT_GROUP)
        async with self.store.transaction() as tx:
            schedule = await db.get_schedule(tx, ctx.account, ctx.region, group, request["Name"])
            if schedule is None:
                raise _schedule_missing(request["Name"])
            await db.delete_schedule(tx, schedule)
            await self.timers.cancel(tx, FIRE_TIMER, schedule.key)
        return {}

    async def list_schedules(self, ctx: RequestContext, request: ListSchedulesInput) -> ListSchedulesOutput:
        async with self.store.transaction() as tx:
            schedules = await db.list_schedules(
                tx, ctx.account, ctx.region, request.get("GroupName"), request.get("State"), request.get("NamePrefix", "")
            )
        keys = [f"{s.group}/{s.name}" for s in schedules]
        page, token = _page(schedules, keys, request.get("NextToken"), request.get("MaxResults"))
        out: dict[str, Any] = {"Schedules": [s.summary() for s in page]}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    # --- schedule groups --------------------------------------------------------------------

    async def create_schedule_group(
        self, ctx: RequestContext, request: CreateScheduleGroupInput
    ) -> CreateScheduleGroupOutput:
        now = self.clock.now_ms()
        tags = {tag["Key"]: tag["Value"] for tag in request.get("Tags", [])}
        group = Group(ctx.account, ctx.region, request["Name"], "ACTIVE", tags, request.get("ClientToken"), now, now)
        async with self.store.transaction() as tx:
            await db.ensure_default_group(tx, ctx.account, ctx.region, now)
            if not await db.insert_group(tx, group):
                existing = await db.get_group(tx, ctx.account, ctx.region, group.name)
                if existing is not None and group.client_token and existing.client_token == group.client_token:
                    return {"ScheduleGroupArn": existing.arn}
                raise ConflictException(f"Schedule group {group.name} already exists.")
        return {"ScheduleGroupArn": group.arn}

    async def get_schedule_group(self, ctx: RequestContext, request: GetScheduleGroupInput) -> GetScheduleGroupOutput:
        async with self.store.transaction() as tx:
            group = await self._require_group(tx, ctx.account, ctx.region, request["Name"])
        return group.describe()  # type: ignore[return-value]

    async def list_schedule_groups(
        self, ctx: RequestContext, request: ListScheduleGroupsInput
    ) -> ListScheduleGroupsOutput:
        async with self.store.transaction() as tx:
            await db.ensure_default_group(tx, ctx.account, ctx.region, self.clock.now_ms())
            groups = await db.list_groups(tx, ctx.account, ctx.region)
        prefix = request.get("NamePrefix", "")
        groups = [g for g in groups if g.name.startswith(prefix)]
        page, token = _page(groups, [g.name for g in groups], request.get("NextToken"), request.get("MaxResults"))
        out: dict[str, Any] = {"ScheduleGroups": [g.describe() for g in page]}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    async def delete_schedule_group(
        self, ctx: RequestContext, request: DeleteScheduleGroupInput
    ) -> DeleteScheduleGroupOutput:
        name = request["Name"]
        if name == DEFAULT_GROUP:
            raise ValidationException("The default schedule group cannot be deleted.")
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            group = await db.get_group(tx, ctx.account, ctx.region, name)
            if group is None:
                raise _group_missing(name)
            if group.state == "DELETING":
                return {}
            # As AWS: the group shows DELETING until its schedules are gone. They stop firing now.
            await db.set_group_state(tx, group, "DELETING", now)
            for schedule_name in await db.schedule_names(tx, ctx.account, ctx.region, name):
                await self.timers.cancel(tx, FIRE_TIMER, f"{ctx.account}/{ctx.region}/{name}/{schedule_name}")
            await self.timers.schedule(tx, GROUP_DELETE_TIMER, f"{ctx.account}/{ctx.region}/{name}", now)
        return {}

    # --- tags (schedule groups only, as AWS) -----------------------------------------------

    async def tag_resource(self, ctx: RequestContext, request: TagResourceInput) -> TagResourceOutput:
        account, region, name = _group_of_arn(request["ResourceArn"])
        async with self.store.transaction() as tx:
            group = await self._require_group(tx, account, region, name)
            tags = dict(group.tags)
            tags.update({tag["Key"]: tag["Value"] for tag in request["Tags"]})
            if len(tags) > 200:
                raise ValidationException("A resource can have at most 200 tags.")
            await db.set_group_tags(tx, group, tags)
        return {}

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceInput) -> UntagResourceOutput:
        account, region, name = _group_of_arn(request["ResourceArn"])
        async with self.store.transaction() as tx:
            group = await self._require_group(tx, account, region, name)
            tags = {k: v for k, v in group.tags.items() if k not in set(request["TagKeys"])}
            await db.set_group_tags(tx, group, tags)
        return {}

    async def list_tags_for_resource(
        self, ctx: RequestContext, request: ListTagsForResourceInput
    ) -> ListTagsForResourceOutput:
        account, region, name = _group_of_arn(request["ResourceArn"])
        async with self.store.transaction() as tx:
            group = await self._require_group(tx, account, region, name)
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(group.tags.items())]}

    # --- firing -----------------------------------------------------------------------------

    def _context(self, invocation: Invocation) -> RequestContext:
        ctx = RequestContext(
            account=invocation.account,
            region=invocation.region,
            request_id=str(uuid.uuid4()),
            service="scheduler",
            source_arn=invocation.schedule_arn,
            internal=True,
        )
        ctx.client = InternalClient(self.node.dispatcher, ctx)
        return ctx

    async def _attempt(self, invocation: Invocation) -> tuple[Invocation, int] | None:
        """Invoke once. Answer the next attempt and when it is due, or None when the invocation
        is over: delivered, or dead-lettered because the target refused it for good or the
        retry policy ran out."""
        ctx = self._context(invocation)
        try:
            await invoke_target(ctx, invocation)
            return None
        except AwsError as exc:
            error = exc
        except Exception as exc:  # a bug or a broken target must not stop the schedule
            log.exception("schedule %s: invoking %s failed", invocation.schedule_arn, invocation.target["Arn"])
            error = AwsError(str(exc), code="InternalFailure", status=500, sender_fault=False)
        condition = ""
        if is_retryable(error):
            due, condition = invocation.retry_due_ms(self.clock.now_ms())
            if due is not None:
                invocation.attempt += 1
                return invocation, due
        try:
            await dead_letter(ctx, invocation, error, condition)
        except AwsError as exc:
            # AWS drops the event when its dead-letter queue cannot take it either.
            log.warning("schedule %s: dead-letter queue refused the event: %s", invocation.schedule_arn, exc)
        return None

    async def _on_fire(self, timer: Timer) -> None:
        account, region, group, name = timer.key.split("/", 3)
        async with self.store.transaction() as tx:
            schedule = await db.get_schedule(tx, account, region, group, name)
        if schedule is None or schedule.version != timer.payload["v"] or schedule.state != "ENABLED":
            return  # deleted, updated (its own timer stands) or disabled since this was armed
        scheduled = timer.payload["at"]
        invocation = Invocation(
            schedule.arn, account, region, schedule.config["Target"], scheduled, secrets.token_hex(8)
        )
        retry = await self._attempt(invocation)
        async with self.store.transaction() as tx:
            if retry is not None:
                key = f"{timer.key}/{invocation.execution_id}"
                await self.timers.schedule(tx, RETRY_TIMER, key, retry[1], retry[0].to_json())
            current = await db.get_schedule(tx, account, region, group, name)
            if current is None or current.version != schedule.version:
                return
            after = fire_after_ms(scheduled, self.clock.now_ms(), current.window_ms())
            if not await self._arm(tx, current, after) and current.config["ActionAfterCompletion"] == "DELETE":
                # "EventBridge Scheduler deletes the schedule after it completes its last invocation."
                await db.delete_schedule(tx, current)

    async def _on_retry(self, timer: Timer) -> None:
        retry = await self._attempt(Invocation.from_json(timer.payload))
        if retry is not None:
            async with self.store.transaction() as tx:
                await self.timers.schedule(tx, RETRY_TIMER, timer.key, retry[1], retry[0].to_json())

    async def _on_group_delete(self, timer: Timer) -> None:
        account, region, name = timer.key.split("/", 2)
        async with self.store.transaction() as tx:
            await db.delete_group(tx, account, region, name)
