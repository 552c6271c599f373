"""SQS message move tasks: StartMessageMoveTask, CancelMessageMoveTask, ListMessageMoveTasks.

A task moves the messages a dead-letter queue held when it started, at most its rate per
second, one durable timer tick at a time: back to each message's source queue, or to the
task's destination. A restart resumes the task where its last committed tick left it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from stratus.aws.api.sqs import (
    CancelMessageMoveTaskRequest,
    CancelMessageMoveTaskResult,
    ListMessageMoveTasksRequest,
    ListMessageMoveTasksResult,
    ResourceNotFoundException,
    StartMessageMoveTaskRequest,
    StartMessageMoveTaskResult,
    UnsupportedOperation,
)
from stratus.aws.context import RequestContext
from stratus.aws.errors import InvalidParameterValue
from stratus.engine.timers import Timer
from stratus.services.sqs import model
from stratus.services.sqs import store as db
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.engine.clock import Clock
    from stratus.engine.timers import Timers
    from stratus.store.base import Store

MOVE_TIMER = "sqs.move"
# AWS's default rate is "system optimized"; its documented maximum is 500 messages per second.
MOVE_RATE_MAX = 500
MOVE_TICK_MS = 1000


class MessageMoveTasks:
    """The move-task operations of the SQS provider (mixed into ``SqsProvider``)."""

    store: Store
    clock: Clock
    timers: Timers

    async def start_message_move_task(
        self, ctx: RequestContext, request: StartMessageMoveTaskRequest
    ) -> StartMessageMoveTaskResult:
        source_arn = request["SourceArn"]
        destination_arn = request.get("DestinationArn")
        rate = request.get("MaxNumberOfMessagesPerSecond")
        if rate is not None:
            model.check_range("MaxNumberOfMessagesPerSecond", rate, 1, MOVE_RATE_MAX)
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            source = await db.get_queue_by_arn(tx, source_arn)
            if source is None:
                raise ResourceNotFoundException("The resource that you specified for the SourceArn parameter doesn't exist.")
            if not await db.dead_letter_sources(tx, source.arn, ""):
                raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
            if destination_arn is not None:
                destination = await db.get_queue_by_arn(tx, destination_arn)
                if destination is None:
                    raise ResourceNotFoundException(
                        "The resource that you specified for the DestinationArn parameter doesn't exist."
                    )
                if destination.fifo != source.fifo:
                    raise InvalidParameterValue("The source queue and destination queue must be of the same queue type.")
            for task in await db.tasks_for_source(tx, source.arn, 10):
                if task.status == "RUNNING":
                    raise InvalidParameterValue(
                        "There is already a task running. Only one active task is allowed for a source queue arn "
                        "at a given time."
                    )
            to_move, last_row = await db.task_stats(tx, source.id, 2**62)
            task = db.MoveTask(
                id=str(uuid.uuid4()),
                source_arn=source.arn,
                source_queue_id=source.id,
                destination_arn=destination_arn,
                rate=rate,
                status="RUNNING",
                moved=0,
                to_move=to_move,
                last_row=last_row,
                started_ms=now,
                failure=None,
            )
            await db.insert_task(tx, task)
            await self.timers.schedule(tx, MOVE_TIMER, task.id, now, {"task": task.id})
        return {"TaskHandle": model.task_handle(task.id, source.arn)}

    async def cancel_message_move_task(
        self, ctx: RequestContext, request: CancelMessageMoveTaskRequest
    ) -> CancelMessageMoveTaskResult:
        task_id = model.parse_task_handle(request["TaskHandle"])
        if task_id is None:  # not a handle at all, as AWS tells apart from a task it does not know
            raise InvalidParameterValue("Value for parameter TaskHandle is invalid.")
        async with self.store.transaction() as tx:
            task = await db.get_task(tx, task_id, lock=True)
            if task is None:
                raise ResourceNotFoundException("Task does not exist.")
            if task.status != "RUNNING":
                raise UnsupportedOperation(f"Task is in status {task.status} and cannot be cancelled.")
            await db.update_task(tx, task.id, "CANCELLED", task.moved)
            await self.timers.cancel(tx, MOVE_TIMER, task.id)
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    async def list_message_move_tasks(
        self, ctx: RequestContext, request: ListMessageMoveTasksRequest
    ) -> ListMessageMoveTasksResult:
        max_results = request.get("MaxResults", 1)
        model.check_range("MaxResults", max_results, 1, 10)
        async with self.store.transaction() as tx:
            source = await db.get_queue_by_arn(tx, request["SourceArn"])
            if source is None:
                raise ResourceNotFoundException("The resource that you specified for the SourceArn parameter doesn't exist.")
            tasks = await db.tasks_for_source(tx, source.arn, max_results)
        results = []
        for task in tasks:
            entry: dict[str, Any] = {
                "Status": task.status,
                "SourceArn": task.source_arn,
                "ApproximateNumberOfMessagesMoved": task.moved,
                "ApproximateNumberOfMessagesToMove": task.to_move,
                "StartedTimestamp": task.started_ms,
            }
            if task.status == "RUNNING":
                entry["TaskHandle"] = model.task_handle(task.id, task.source_arn)
            if task.destination_arn:
                entry["DestinationArn"] = task.destination_arn
            if task.rate is not None:
                entry["MaxNumberOfMessagesPerSecond"] = task.rate
            if task.failure:
                entry["FailureReason"] = task.failure
            results.append(entry)
        return {"Results": results}


    async def _on_move(self, timer: Timer) -> None:
        async with self.store.transaction() as tx:
            await self._move_tick(tx, timer.key, timer.payload)

    async def _move_tick(self, tx: Tx, key: str, payload: dict[str, Any]) -> None:
        """One tick of a move task: up to one second's worth of messages, then the next tick."""
        task = await db.get_task(tx, key, lock=True)
        if task is None or task.status != "RUNNING":
            return
        now = self.clock.now_ms()
        source = await db.get_queue_by_id(tx, task.source_queue_id)
        if source is None:
            await db.update_task(tx, task.id, "FAILED", task.moved, "The source queue was deleted.")
            return
        batch = await db.movable_messages(tx, source.id, task.last_row, now, task.rate or MOVE_RATE_MAX)
        targets: dict[str, list[int]] = {}
        for row, origin in batch:
            target = task.destination_arn or origin
            if target is None:
                await db.update_task(
                    tx, task.id, "FAILED", task.moved, "A message has no dead-letter source queue to move back to."
                )
                return
            targets.setdefault(target, []).append(row)
        moved = task.moved
        for arn, rows in targets.items():
            target_queue = await db.get_queue_by_arn(tx, arn)
            if target_queue is None:
                await db.update_task(tx, task.id, "FAILED", moved, f"The destination queue {arn} does not exist.")
                return
            delay = target_queue.int_attr("DelaySeconds") * 1000
            await db.move_to_queue(tx, rows, target_queue.id, None, now + delay)
            tx.notify(target_queue.channel)
            moved += len(rows)
        if await db.remaining_to_move(tx, source.id, task.last_row) == 0:
            await db.update_task(tx, task.id, "COMPLETED", moved)
            return
        await db.update_task(tx, task.id, "RUNNING", moved)
        await self.timers.schedule(tx, MOVE_TIMER, task.id, now + MOVE_TICK_MS, payload)
