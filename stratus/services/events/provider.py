"""Amazon EventBridge: event buses, PutEvents, rules (patterns and schedules), targets, archives, replays.

Every change is one transaction. PutEvents writes the deliveries each event causes (durable
timers) and its archive rows in its own transaction, so an accepted event is delivered even
if the server dies right after answering; ``delivery.Router`` does the matching, delivery,
retries, dead-letter queues, schedule rules and replays.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.aws.api.events import (
    CancelReplayRequest,
    CancelReplayResponse,
    CreateArchiveRequest,
    CreateArchiveResponse,
    CreateEventBusRequest,
    CreateEventBusResponse,
    DeleteArchiveRequest,
    DeleteEventBusRequest,
    DeleteRuleRequest,
    DescribeArchiveRequest,
    DescribeArchiveResponse,
    DescribeEventBusRequest,
    DescribeEventBusResponse,
    DescribeReplayRequest,
    DescribeReplayResponse,
    DescribeRuleRequest,
    DescribeRuleResponse,
    DisableRuleRequest,
    EnableRuleRequest,
    EventsApi,
    IllegalStatusException,
    InvalidEventPatternException,
    LimitExceededException,
    ListArchivesRequest,
    ListArchivesResponse,
    ListEventBusesRequest,
    ListEventBusesResponse,
    ListReplaysRequest,
    ListReplaysResponse,
    ListRuleNamesByTargetRequest,
    ListRuleNamesByTargetResponse,
    ListRulesRequest,
    ListRulesResponse,
    ListTagsForResourceRequest,
    ListTagsForResourceResponse,
    ListTargetsByRuleRequest,
    ListTargetsByRuleResponse,
    PutEventsRequest,
    PutEventsResponse,
    PutPermissionRequest,
    PutRuleRequest,
    PutRuleResponse,
    PutTargetsRequest,
    PutTargetsResponse,
    RemovePermissionRequest,
    RemoveTargetsRequest,
    RemoveTargetsResponse,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    StartReplayRequest,
    StartReplayResponse,
    TagResourceRequest,
    TestEventPatternRequest,
    TestEventPatternResponse,
    UntagResourceRequest,
    UpdateArchiveRequest,
    UpdateArchiveResponse,
    UpdateEventBusRequest,
    UpdateEventBusResponse,
)
from stratus.aws.arns import parse_arn, root_arn
from stratus.aws.context import RequestContext
from stratus.aws.errors import ValidationException
from stratus.aws.pagination import page_token, token_offset
from stratus.services.events import encryption, model, transform
from stratus.services.events import store as db
from stratus.services.events.delivery import REPLAY_TIMER, Router, expire_archive
from stratus.services.events.model import DEFAULT_BUS
from stratus.services.events.patterns import EventEnvelopeError, PatternError, run_test_event_pattern
from stratus.services.events.patterns import compile as compile_pattern
from stratus.services.scheduler import expressions
from stratus.store import load_migrations
from stratus.store.base import Tx


def _seconds(ms: int) -> float:
    return ms / 1000


def _page(items: list[Any], token: str | None, limit: int | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the NextToken of the next (an opaque offset)."""
    start = token_offset(token, ValidationException("The NextToken provided is not valid."))
    end = len(items) if not limit else start + limit
    following = page_token(str(end)) if end < len(items) else None
    return items[start:end], following


def _check_pattern(text: str) -> None:
    try:
        compile_pattern(text)
    except PatternError as exc:
        raise InvalidEventPatternException(exc.message) from None


def _bus_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Event bus {name} does not exist.")


# What CreateEventBus, UpdateEventBus and DescribeEventBus answer of a bus's settings
# (ListEventBuses' EventBus shape carries none of them but Description).
_BUS_SETTINGS = ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig")


def _check_dead_letter(config: dict[str, Any] | None) -> None:
    """A bus's dead-letter queue must be an SQS queue, named by its ARN."""
    arn = (config or {}).get("Arn")
    if arn is None:
        return
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "sqs" or not parsed.resource or ":" in parsed.resource:
        raise ValidationException(f"Parameter DeadLetterConfig.Arn is not valid. Reason: {arn} is not a valid SQS queue ARN.")


class EventsProvider(EventsApi):
    service = "events"

    def __init__(self, node: Any) -> None:
        super().__init__(node)
        self.router = Router(node)

    async def start(self) -> None:
        await self.store.migrate("events", load_migrations("stratus.services.events"))
        self.router.register()

    # --- helpers -------------------------------------------------------------------------

    async def _require_bus(self, tx: Tx, ctx: RequestContext, value: str | None) -> db.Bus:
        account, region, name = model.parse_bus(value, ctx.account, ctx.region)
        bus = await db.get_bus(tx, account, region, name)
        if bus is None:
            raise _bus_not_found(name)
        return bus

    async def _require_rule(self, tx: Tx, ctx: RequestContext, name: str, bus_value: str | None) -> db.Rule:
        bus = await self._require_bus(tx, ctx, bus_value)
        rule = await db.get_rule(tx, bus.account, bus.region, bus.name, name)
        if rule is None:
            raise ResourceNotFoundException(f"Rule {name} does not exist on EventBus {bus.name}.")
        return rule

    # --- buses ---------------------------------------------------------------------------

    async def create_event_bus(self, ctx: RequestContext, request: CreateEventBusRequest) -> CreateEventBusResponse:
        name = request["Name"]
        if name == DEFAULT_BUS or "/" in name:
            raise ValidationException(f"Event bus name {name} is not valid.")
        if name.startswith("aws.") and not request.get("EventSourceName"):
            raise ValidationException("Event bus names starting with 'aws.' need a partner event source.")
        data = {k: request[k] for k in _BUS_SETTINGS if k in request}  # type: ignore[literal-required]
        if not data.get("KmsKeyIdentifier"):
            data.pop("KmsKeyIdentifier", None)  # empty: the AWS owned key, as when absent
        await self._check_settings(ctx, data)
        arn = model.bus_arn(ctx.region, ctx.account, name)
        async with self.store.transaction() as tx:
            if not await db.insert_bus(tx, ctx.account, ctx.region, name, data, self.clock.now_ms()):
                raise ResourceAlreadyExistsException(f"Event bus {name} already exists.")
            await db.put_tags(tx, arn, {t["Key"]: t["Value"] for t in request.get("Tags", [])})
        return {"EventBusArn": arn, **data}  # type: ignore[typeddict-item]

    async def delete_event_bus(self, ctx: RequestContext, request: DeleteEventBusRequest) -> dict[str, Any]:
        name = request["Name"]
        if name == DEFAULT_BUS:
            raise ValidationException("Cannot delete event bus default.")
        async with self.store.transaction() as tx:
            # Deleting a bus that does not exist succeeds, as on AWS.
            for rule in await db.list_rules(tx, ctx.account, ctx.region, name):
                await self.router.unschedule_rule(tx, ctx.account, ctx.region, name, rule.name)
                await db.delete_tags(tx, model.rule_arn(ctx.region, ctx.account, name, rule.name))
            await db.delete_bus(tx, ctx.account, ctx.region, name)
            await db.delete_tags(tx, model.bus_arn(ctx.region, ctx.account, name))
        return {}

    async def _check_settings(self, ctx: RequestContext, data: dict[str, Any]) -> None:
        """Validate a bus's KmsKeyIdentifier and DeadLetterConfig before anything is written.
        KMS is asked outside any EventBridge transaction (it runs its own)."""
        _check_dead_letter(data.get("DeadLetterConfig"))
        if data.get("KmsKeyIdentifier"):
            assert ctx.client is not None
            await encryption.check_key(ctx.client, data["KmsKeyIdentifier"])

    def _describe_bus(self, bus: db.Bus, keys: tuple[str, ...] = _BUS_SETTINGS) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": bus.name, "Arn": model.bus_arn(bus.region, bus.account, bus.name)}
        out.update({k: v for k, v in bus.data.items() if k in keys})
        if bus.data.get("Policy"):
            out["Policy"] = json.dumps(bus.data["Policy"], separators=(",", ":"))
        if bus.created_ms:
            out["CreationTime"] = _seconds(bus.created_ms)
            out["LastModifiedTime"] = _seconds(bus.modified_ms)
        return out

    async def describe_event_bus(self, ctx: RequestContext, request: DescribeEventBusRequest) -> DescribeEventBusResponse:
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("Name"))
            if bus.created_ms == 0:
                # The default bus is described with its creation and modification times like
                # any other: its row is written the first time it is looked at.
                await db.ensure_default_bus(tx, bus.account, bus.region, self.clock.now_ms())
                bus = await self._require_bus(tx, ctx, request.get("Name"))
        return self._describe_bus(bus)  # type: ignore[return-value]

    async def list_event_buses(self, ctx: RequestContext, request: ListEventBusesRequest) -> ListEventBusesResponse:
        async with self.store.transaction() as tx:
            await db.ensure_default_bus(tx, ctx.account, ctx.region, self.clock.now_ms())
            buses = await db.list_buses(tx, ctx.account, ctx.region, request.get("NamePrefix", ""))
        page, token = _page(buses, request.get("NextToken"), request.get("Limit"))
        out: dict[str, Any] = {"EventBuses": [self._describe_bus(b, ("Description",)) for b in page]}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    async def update_event_bus(self, ctx: RequestContext, request: UpdateEventBusRequest) -> UpdateEventBusResponse:
        changes = {k: request[k] for k in _BUS_SETTINGS if k in request}  # type: ignore[literal-required]
        await self._check_settings(ctx, changes)
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("Name"))
            for key, value in changes.items():
                if key == "KmsKeyIdentifier" and not value:
                    # An empty identifier goes back to the AWS owned key.
                    bus.data.pop(key, None)
                else:
                    bus.data[key] = value
            await db.update_bus(tx, bus, now)
            # Every node's matcher caches the bus's key: a new version makes them read it again.
            await db.bump_bus(tx, bus.account, bus.region, bus.name, now)
        out = {"Arn": model.bus_arn(bus.region, bus.account, bus.name), "Name": bus.name}
        out.update({k: v for k, v in bus.data.items() if k in _BUS_SETTINGS})
        return out  # type: ignore[return-value]

    async def put_permission(self, ctx: RequestContext, request: PutPermissionRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("EventBusName"))
            if request.get("Policy"):
                try:
                    policy = json.loads(request["Policy"])
                except ValueError:
                    raise ValidationException("Policy is not valid JSON.") from None
            else:
                if not (request.get("Action") and request.get("Principal") and request.get("StatementId")):
                    raise ValidationException("Parameter(s) Action, Principal and StatementId must be specified.")
                if request["Action"] != "events:PutEvents":
                    raise ValidationException("Provided value in parameter 'action' is not supported.")
                principal = request["Principal"]
                statement: dict[str, Any] = {
                    "Sid": request["StatementId"], "Effect": "Allow",
                    "Principal": "*" if principal == "*" else {"AWS": root_arn(principal)},
                    "Action": "events:PutEvents", "Resource": model.bus_arn(bus.region, bus.account, bus.name),
                }
                if request.get("Condition"):
                    c = request["Condition"]
                    statement["Condition"] = {c["Type"]: {c["Key"]: c["Value"]}}
                policy = bus.data.get("Policy") or {"Version": "2012-10-17", "Statement": []}
                policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != request["StatementId"]]
                policy["Statement"].append(statement)
            bus.data["Policy"] = policy
            await db.update_bus(tx, bus, self.clock.now_ms())
        return {}

    async def remove_permission(self, ctx: RequestContext, request: RemovePermissionRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("EventBusName"))
            policy = bus.data.get("Policy")
            if request.get("RemoveAllPermissions"):
                bus.data.pop("Policy", None)
            else:
                sid = request.get("StatementId")
                statements = (policy or {}).get("Statement", [])
                if not sid or all(s.get("Sid") != sid for s in statements):
                    raise ResourceNotFoundException("Statement with the provided id does not exist.")
                policy["Statement"] = [s for s in statements if s.get("Sid") != sid]  # type: ignore[index]
                if not policy["Statement"]:  # type: ignore[index]
                    bus.data.pop("Policy", None)
            await db.update_bus(tx, bus, self.clock.now_ms())
        return {}

    # --- tags ----------------------------------------------------------------------------

    async def _require_taggable(self, tx: Tx, ctx: RequestContext, arn: str) -> None:
        parsed = parse_arn(arn)
        bus = parsed.resource_after("event-bus/") if parsed else None
        if parsed and bus is not None and await db.get_bus(tx, parsed.account, parsed.region, bus) is not None:
            return
        found = model.parse_rule_arn(arn)
        if found and await db.get_rule(tx, *found) is not None:
            return
        raise ResourceNotFoundException(f"Resource {arn} does not exist.")

    async def tag_resource(self, ctx: RequestContext, request: TagResourceRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            await self._require_taggable(tx, ctx, request["ResourceARN"])
            await db.put_tags(tx, request["ResourceARN"], {t["Key"]: t["Value"] for t in request["Tags"]})
        return {}

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            await self._require_taggable(tx, ctx, request["ResourceARN"])
            await db.delete_tags(tx, request["ResourceARN"], list(request["TagKeys"]))
        return {}

    async def list_tags_for_resource(self, ctx: RequestContext, request: ListTagsForResourceRequest) -> ListTagsForResourceResponse:
        async with self.store.transaction() as tx:
            await self._require_taggable(tx, ctx, request["ResourceARN"])
            tags = await db.get_tags(tx, request["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    # --- events --------------------------------------------------------------------------

    async def put_events(self, ctx: RequestContext, request: PutEventsRequest) -> PutEventsResponse:
        entries = request["Entries"]
        if sum(model.entry_size(e) for e in entries) > model.MAX_PUT_EVENTS_BYTES:  # type: ignore[arg-type]
            raise ValidationException("Total size of the entries in the request is over the limit.")
        now = self.clock.now_ms()
        results: list[dict[str, Any]] = []
        failed = 0
        async with self.store.transaction() as tx:
            for entry in entries:
                try:
                    detail = model.check_entry(entry, internal=ctx.internal)  # type: ignore[arg-type]
                    account, region, bus = model.parse_bus(entry.get("EventBusName"), ctx.account, ctx.region)
                    # An entry for a bus that does not exist is accepted and goes nowhere, as on AWS
                    # (its matcher is empty): PutEvents reports no per-entry error for it.
                    compiled = await self.router.compiled(tx, account, region, bus)
                except model.EntryError as exc:
                    failed += 1
                    results.append({"ErrorCode": exc.code, "ErrorMessage": exc.message})
                    continue
                event = model.build_event(entry, detail, account, region, now)  # type: ignore[arg-type]
                await self.router.accept(tx, account, region, bus, event, now, compiled=compiled)
                results.append({"EventId": event["id"]})
        return {"FailedEntryCount": failed, "Entries": results}  # type: ignore[typeddict-item]

    async def test_event_pattern(self, ctx: RequestContext, request: TestEventPatternRequest) -> TestEventPatternResponse:
        try:
            return {"Result": run_test_event_pattern(request["EventPattern"], request["Event"])}
        except PatternError as exc:
            raise InvalidEventPatternException(exc.message) from None
        except EventEnvelopeError as exc:
            raise ValidationException(exc.message) from None

    # --- rules ---------------------------------------------------------------------------

    async def put_rule(self, ctx: RequestContext, request: PutRuleRequest) -> PutRuleResponse:
        pattern, schedule = request.get("EventPattern"), request.get("ScheduleExpression")
        if not pattern and not schedule:
            raise ValidationException("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if pattern:
            _check_pattern(pattern)
        if schedule:
            try:
                expressions.parse(schedule, flavour="rule")
            except expressions.ScheduleError as exc:
                raise ValidationException(str(exc)) from None
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("EventBusName"))
            if schedule and bus.name != DEFAULT_BUS:
                raise ValidationException("ScheduleExpression is supported only on the default event bus.")
            rule = await db.get_rule(tx, bus.account, bus.region, bus.name, request["Name"])
            creating = rule is None
            if rule is None:
                rule = db.Rule(bus.account, bus.region, bus.name, request["Name"], {}, now)
            previous_schedule = rule.data.get("ScheduleExpression")
            previous_anchor = rule.data.get("ScheduleAnchorMs", rule.created_ms)
            rule.data = {k: request[k] for k in ("EventPattern", "ScheduleExpression", "Description", "RoleArn")  # type: ignore[literal-required]
                         if request.get(k)}
            rule.data["State"] = request.get("State") or "ENABLED"
            # A rate counts from when the rule (or its new schedule) was created.
            rule.data["ScheduleAnchorMs"] = previous_anchor if schedule == previous_schedule else now
            await db.put_rule(tx, rule)
            arn = model.rule_arn(bus.region, bus.account, bus.name, rule.name)
            if creating:
                # "If you are updating an existing rule, any tags you specify in the PutRule
                # operation are ignored" (PutRule, Tags): TagResource changes them.
                await db.put_tags(tx, arn, {t["Key"]: t["Value"] for t in request.get("Tags", [])})
            await db.bump_bus(tx, bus.account, bus.region, bus.name, now)
            await self.router.schedule_rule(tx, bus.account, bus.region, rule)
        return {"RuleArn": arn}

    def _describe_rule(self, rule: db.Rule) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": rule.name, "Arn": model.rule_arn(rule.region, rule.account, rule.bus, rule.name)}
        for key in ("EventPattern", "ScheduleExpression", "State", "Description", "RoleArn"):
            if rule.data.get(key):
                out[key] = rule.data[key]
        out["EventBusName"] = rule.bus
        return out

    async def describe_rule(self, ctx: RequestContext, request: DescribeRuleRequest) -> DescribeRuleResponse:
        async with self.store.transaction() as tx:
            rule = await self._require_rule(tx, ctx, request["Name"], request.get("EventBusName"))
        out = self._describe_rule(rule)
        out["CreatedBy"] = rule.account
        return out  # type: ignore[return-value]

    async def list_rules(self, ctx: RequestContext, request: ListRulesRequest) -> ListRulesResponse:
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("EventBusName"))
            rules = await db.list_rules(tx, bus.account, bus.region, bus.name)
        prefix = request.get("NamePrefix", "")
        page, token = _page([r for r in rules if r.name.startswith(prefix)], request.get("NextToken"), request.get("Limit"))
        out: dict[str, Any] = {"Rules": [self._describe_rule(r) for r in page]}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    async def delete_rule(self, ctx: RequestContext, request: DeleteRuleRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            account, region, bus_name = model.parse_bus(request.get("EventBusName"), ctx.account, ctx.region)
            bus = await db.get_bus(tx, account, region, bus_name)
            if bus is None:
                raise _bus_not_found(bus_name)
            rule = await db.get_rule(tx, account, region, bus_name, request["Name"])
            if rule is None:
                return {}  # deleting a rule that does not exist succeeds
            if await db.list_targets(tx, account, region, bus_name, rule.name):
                raise ValidationException("Rule can't be deleted since it has targets.")
            await db.delete_rule(tx, account, region, bus_name, rule.name)
            await db.delete_tags(tx, model.rule_arn(region, account, bus_name, rule.name))
            await db.bump_bus(tx, account, region, bus_name, self.clock.now_ms())
            await self.router.unschedule_rule(tx, account, region, bus_name, rule.name)
        return {}

    async def _set_state(self, ctx: RequestContext, name: str, bus_value: str | None, state: str) -> None:
        async with self.store.transaction() as tx:
            rule = await self._require_rule(tx, ctx, name, bus_value)
            rule.data["State"] = state
            await db.put_rule(tx, rule)
            await db.bump_bus(tx, rule.account, rule.region, rule.bus, self.clock.now_ms())
            await self.router.schedule_rule(tx, rule.account, rule.region, rule)

    async def enable_rule(self, ctx: RequestContext, request: EnableRuleRequest) -> dict[str, Any]:
        await self._set_state(ctx, request["Name"], request.get("EventBusName"), "ENABLED")
        return {}

    async def disable_rule(self, ctx: RequestContext, request: DisableRuleRequest) -> dict[str, Any]:
        await self._set_state(ctx, request["Name"], request.get("EventBusName"), "DISABLED")
        return {}

    async def list_rule_names_by_target(self, ctx: RequestContext, request: ListRuleNamesByTargetRequest) -> ListRuleNamesByTargetResponse:
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request.get("EventBusName"))
            names = await db.rules_by_target(tx, bus.account, bus.region, bus.name, request["TargetArn"])
        page, token = _page(names, request.get("NextToken"), request.get("Limit"))
        out: dict[str, Any] = {"RuleNames": page}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    # --- targets -------------------------------------------------------------------------

    async def put_targets(self, ctx: RequestContext, request: PutTargetsRequest) -> PutTargetsResponse:
        targets = request["Targets"]
        for target in targets:
            transform.check_target_input(target)  # type: ignore[arg-type]
            _check_target(target)  # type: ignore[arg-type]
        async with self.store.transaction() as tx:
            rule = await self._require_rule(tx, ctx, request["Rule"], request.get("EventBusName"))
            existing = {t["Id"] for t in await db.list_targets(tx, rule.account, rule.region, rule.bus, rule.name)}
            new_ids = {t["Id"] for t in targets} - existing
            if len(existing) + len(new_ids) > model.MAX_TARGETS_PER_RULE:
                raise LimitExceededException("The requested resource exceeds the maximum number allowed.")
            for target in targets:
                await db.put_target(tx, rule.account, rule.region, rule.bus, rule.name, dict(target))
            await db.bump_bus(tx, rule.account, rule.region, rule.bus, self.clock.now_ms())
        return {"FailedEntryCount": 0, "FailedEntries": []}

    async def remove_targets(self, ctx: RequestContext, request: RemoveTargetsRequest) -> RemoveTargetsResponse:
        failed: list[dict[str, Any]] = []
        async with self.store.transaction() as tx:
            rule = await self._require_rule(tx, ctx, request["Rule"], request.get("EventBusName"))
            for target_id in request["Ids"]:
                if not await db.delete_target(tx, rule.account, rule.region, rule.bus, rule.name, target_id):
                    failed.append({"TargetId": target_id, "ErrorCode": "ResourceNotFoundException",
                                   "ErrorMessage": f"Target {target_id} does not exist on rule {rule.name}."})
            await db.bump_bus(tx, rule.account, rule.region, rule.bus, self.clock.now_ms())
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}  # type: ignore[typeddict-item]

    async def list_targets_by_rule(self, ctx: RequestContext, request: ListTargetsByRuleRequest) -> ListTargetsByRuleResponse:
        async with self.store.transaction() as tx:
            rule = await self._require_rule(tx, ctx, request["Rule"], request.get("EventBusName"))
            targets = await db.list_targets(tx, rule.account, rule.region, rule.bus, rule.name)
        page, token = _page(targets, request.get("NextToken"), request.get("Limit"))
        out: dict[str, Any] = {"Targets": page}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    # --- archives ------------------------------------------------------------------------

    async def create_archive(self, ctx: RequestContext, request: CreateArchiveRequest) -> CreateArchiveResponse:
        if request.get("EventPattern"):
            _check_pattern(request["EventPattern"])
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            bus = await self._require_bus(tx, ctx, request["EventSourceArn"])
            data: dict[str, Any] = {"EventSourceArn": model.bus_arn(bus.region, bus.account, bus.name), "State": "ENABLED",
                                    "RetentionDays": request.get("RetentionDays", 0)}
            for key in ("Description", "EventPattern", "KmsKeyIdentifier"):
                if request.get(key):
                    data[key] = request[key]  # type: ignore[literal-required]
            archive = db.Archive(ctx.account, ctx.region, request["ArchiveName"], bus.name, data, now)
            if await db.get_archive(tx, ctx.account, ctx.region, archive.name) is not None or not await db.put_archive(tx, archive):
                raise ResourceAlreadyExistsException(f"Archive {archive.name} already exists.")
            await db.bump_bus(tx, bus.account, bus.region, bus.name, now)
        return {"ArchiveArn": model.archive_arn(ctx.region, ctx.account, archive.name), "State": "ENABLED",
                "CreationTime": _seconds(now)}  # type: ignore[typeddict-item]

    async def _require_archive(self, tx: Tx, ctx: RequestContext, name: str) -> db.Archive:
        archive = await db.get_archive(tx, ctx.account, ctx.region, name)
        if archive is None:
            raise ResourceNotFoundException(f"Archive {name} does not exist.")
        return archive

    async def _describe_archive(self, tx: Tx, archive: db.Archive) -> dict[str, Any]:
        await expire_archive(tx, archive, self.clock.now_ms())
        count, size = await db.archive_stats(tx, archive.account, archive.region, archive.name)
        out = {"ArchiveArn": model.archive_arn(archive.region, archive.account, archive.name), "ArchiveName": archive.name,
               **{k: v for k, v in archive.data.items()}, "EventCount": count, "SizeBytes": size,
               "CreationTime": _seconds(archive.created_ms)}
        return out

    async def describe_archive(self, ctx: RequestContext, request: DescribeArchiveRequest) -> DescribeArchiveResponse:
        async with self.store.transaction() as tx:
            archive = await self._require_archive(tx, ctx, request["ArchiveName"])
            return await self._describe_archive(tx, archive)  # type: ignore[return-value]

    async def list_archives(self, ctx: RequestContext, request: ListArchivesRequest) -> ListArchivesResponse:
        async with self.store.transaction() as tx:
            if request.get("EventSourceArn"):
                await self._require_bus(tx, ctx, request["EventSourceArn"])
            archives = await db.list_archives(tx, ctx.account, ctx.region)
            prefix = request.get("NamePrefix", "")
            archives = [a for a in archives if a.name.startswith(prefix)
                        and (not request.get("EventSourceArn") or a.data["EventSourceArn"] == request["EventSourceArn"])
                        and (not request.get("State") or a.data["State"] == request["State"])]
            page, token = _page(archives, request.get("NextToken"), request.get("Limit"))
            items = []
            for archive in page:
                full = await self._describe_archive(tx, archive)
                items.append({k: full[k] for k in ("ArchiveName", "EventSourceArn", "State", "RetentionDays", "SizeBytes",
                                                   "EventCount", "CreationTime") if k in full})
        out: dict[str, Any] = {"Archives": items}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    async def update_archive(self, ctx: RequestContext, request: UpdateArchiveRequest) -> UpdateArchiveResponse:
        if request.get("EventPattern"):
            _check_pattern(request["EventPattern"])
        async with self.store.transaction() as tx:
            archive = await self._require_archive(tx, ctx, request["ArchiveName"])
            for key in ("Description", "EventPattern", "RetentionDays", "KmsKeyIdentifier"):
                if key in request:
                    archive.data[key] = request[key]  # type: ignore[literal-required]
            await db.put_archive(tx, archive)
            await db.bump_bus(tx, archive.account, archive.region, archive.bus, self.clock.now_ms())
        return {"ArchiveArn": model.archive_arn(ctx.region, ctx.account, archive.name), "State": archive.data["State"],
                "CreationTime": _seconds(archive.created_ms)}  # type: ignore[typeddict-item]

    async def delete_archive(self, ctx: RequestContext, request: DeleteArchiveRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            archive = await self._require_archive(tx, ctx, request["ArchiveName"])
            await db.delete_archive(tx, ctx.account, ctx.region, archive.name)
            await db.bump_bus(tx, archive.account, archive.region, archive.bus, self.clock.now_ms())
        return {}

    # --- replays -------------------------------------------------------------------------

    async def start_replay(self, ctx: RequestContext, request: StartReplayRequest) -> StartReplayResponse:
        start_ms, end_ms = model.to_ms(request["EventStartTime"]), model.to_ms(request["EventEndTime"])
        if start_ms >= end_ms:
            raise ValidationException("Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
        now = self.clock.now_ms()
        if end_ms > now:
            raise ValidationException("Parameter EventEndTime is not valid. Reason: EventEndTime must be before the current time.")
        source = request["EventSourceArn"]
        archive_name = source.split(":archive/", 1)[1] if ":archive/" in source else ""
        destination = dict(request["Destination"])
        async with self.store.transaction() as tx:
            archive = await db.get_archive(tx, ctx.account, ctx.region, archive_name)
            if archive is None:
                raise ValidationException(
                    f"Parameter EventSourceArn is not valid. Reason: Archive {archive_name or source} does not exist.")
            # A destination bus that does not exist is named as such before the cross-bus rule.
            await self._require_bus(tx, ctx, destination["Arn"])
            if destination["Arn"] != archive.data["EventSourceArn"]:
                raise ValidationException("Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")
            replay = db.Replay(ctx.account, ctx.region, request["ReplayName"], "STARTING", {
                "Archive": archive.name, "EventSourceArn": source, "Destination": destination,
                "EventStartTime": start_ms, "EventEndTime": end_ms, "ReplayStartTime": now,
                **({"Description": request["Description"]} if request.get("Description") else {}),
            }, now)
            if not await db.insert_replay(tx, replay):
                raise ResourceAlreadyExistsException(f"Replay {replay.name} already exists.")
            await self.timers.schedule(tx, REPLAY_TIMER, f"{ctx.account}/{ctx.region}/{replay.name}", now,
                                       {"a": ctx.account, "r": ctx.region, "name": replay.name})
        return {"ReplayArn": model.replay_arn(ctx.region, ctx.account, replay.name), "State": "STARTING",
                "ReplayStartTime": _seconds(now)}  # type: ignore[typeddict-item]

    def _describe_replay(self, replay: db.Replay) -> dict[str, Any]:
        d = replay.data
        out: dict[str, Any] = {"ReplayName": replay.name, "ReplayArn": model.replay_arn(replay.region, replay.account, replay.name),
                               "State": replay.state, "EventSourceArn": d["EventSourceArn"], "Destination": d["Destination"],
                               "EventStartTime": _seconds(d["EventStartTime"]), "EventEndTime": _seconds(d["EventEndTime"]),
                               "ReplayStartTime": _seconds(d["ReplayStartTime"])}
        for key in ("EventLastReplayedTime", "ReplayEndTime"):
            if key in d:
                out[key] = _seconds(d[key])
        if d.get("Description"):
            out["Description"] = d["Description"]
        return out

    async def describe_replay(self, ctx: RequestContext, request: DescribeReplayRequest) -> DescribeReplayResponse:
        async with self.store.transaction() as tx:
            replay = await db.get_replay(tx, ctx.account, ctx.region, request["ReplayName"])
        if replay is None:
            raise ResourceNotFoundException(f"Replay {request['ReplayName']} does not exist.")
        return self._describe_replay(replay)  # type: ignore[return-value]

    async def list_replays(self, ctx: RequestContext, request: ListReplaysRequest) -> ListReplaysResponse:
        async with self.store.transaction() as tx:
            replays = await db.list_replays(tx, ctx.account, ctx.region)
        prefix = request.get("NamePrefix", "")
        replays = [r for r in replays if r.name.startswith(prefix)
                   and (not request.get("State") or r.state == request["State"])
                   and (not request.get("EventSourceArn") or r.data["EventSourceArn"] == request["EventSourceArn"])]
        page, token = _page(replays, request.get("NextToken"), request.get("Limit"))
        items = []
        for replay in page:
            full = self._describe_replay(replay)
            full.pop("ReplayArn")
            full.pop("Destination")
            full.pop("Description", None)
            items.append(full)
        out: dict[str, Any] = {"Replays": items}
        if token:
            out["NextToken"] = token
        return out  # type: ignore[return-value]

    async def cancel_replay(self, ctx: RequestContext, request: CancelReplayRequest) -> CancelReplayResponse:
        async with self.store.transaction() as tx:
            replay = await db.get_replay(tx, ctx.account, ctx.region, request["ReplayName"])
            if replay is None:
                raise ResourceNotFoundException(f"Replay {request['ReplayName']} does not exist.")
            if replay.state not in ("STARTING", "RUNNING"):
                raise IllegalStatusException(f"Replay {replay.name} is not in a valid state for this operation.")
            replay.state = "CANCELLING"
            await db.update_replay(tx, replay)
            await self.timers.schedule(tx, REPLAY_TIMER, f"{ctx.account}/{ctx.region}/{replay.name}", self.clock.now_ms(),
                                       {"a": ctx.account, "r": ctx.region, "name": replay.name})
        return {"ReplayArn": model.replay_arn(ctx.region, ctx.account, replay.name), "State": "CANCELLING"}


def _check_target(target: dict[str, Any]) -> None:
    """PutTargets' checks of a target's ARN and parameters. AWS refuses the whole request
    (ValidationException) for these, before touching the rule, not as a per-entry failure."""
    arn = target["Arn"]
    parsed = parse_arn(arn)
    if parsed is None:
        raise ValidationException(f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")
    if parsed.service == "sqs" and parsed.resource.endswith(".fifo") and not (target.get("SqsParameters") or {}).get("MessageGroupId"):
        raise ValidationException(f"Parameter(s) SqsParameters must be specified for target: {target['Id']}.")
    if parsed.service != "sqs" and target.get("SqsParameters"):
        raise ValidationException(f"Parameter(s) SqsParameters not supported for target: {target['Id']}.")

