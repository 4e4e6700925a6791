"""Background tasks: huey, one task system for queued and periodic tasks.

Code defines queued tasks with ``zbor.tasks.task`` (huey's ``db_task`` with Zbor's retries)
and periodic ones with huey's ``db_periodic_task``, and queues with ``enqueue_on_commit``
after the transaction commits. huey stores the queue in SQLite (embedded,
``$ZBOR_DATA_DIR/tasks.sqlite3``) or Redis (``REDIS_URL``) and runs it in the worker
(``zbor run_huey``) with retries. Tests run tasks at once (huey's immediate mode). Why huey
alone and not django-tasks in front of it: docs/decisions/0008-framework-public-api.md.

Tasks are thin: they take ids, load what they need, and are safe to run twice.

The queue's broker (Redis, or the SQLite file) can be down when a donation commits: the
donation must still succeed. ``enqueue_on_commit`` queues after the commit and never raises
into the request: a task the broker did not take is logged (one warning per outage, the task's
name only) and left to a sweep that finds the work still undone, such as
``zbor.donations.tasks.send_unsent_receipts``. Work that matters is therefore always findable
in the database, never only in the queue.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC

from django.conf import settings
from django.db import transaction
from huey.api import TaskWrapper
from huey.contrib.djhuey import HUEY, db_task

from zbor import metrics

log = logging.getLogger(__name__)

RETRIES = 5


class TaskNotQueued(Exception):
    """The queue's broker did not take the task (it is down or unreachable). Never reaches a
    user: ``enqueue_on_commit`` logs it, and a sweep does the work later."""


def task(func: Callable) -> TaskWrapper:
    """A queued task named by its module and function, retried ``RETRIES`` times."""
    return db_task(retries=RETRIES, retry_delay=settings.ZBOR_TASK_RETRY_DELAY, name=_name(func))(func)


def _name(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


class _QueueOutage:
    """One warning when the broker stops taking tasks, one line when it takes them again."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down = False

    def failed(self, task_name: str, error: TaskNotQueued) -> None:
        with self.lock:
            first, self.down = not self.down, True
        if first:
            # The task's name and the error's class: never its arguments or the broker's URL.
            log.warning(
                "The task queue did not take %s (%s); tasks are not queued until it does. "
                "Receipts are sent by the sweep once it works again.",
                task_name,
                type(error.__cause__).__name__,
            )

    def worked(self) -> None:
        if self.down:
            with self.lock:
                was, self.down = self.down, False
            if was:
                log.info("The task queue takes tasks again.")


_queue_outage = _QueueOutage()


def enqueue_on_commit(queued: TaskWrapper, *args) -> None:
    """Queue ``queued(*args)`` once the current transaction commits (at once outside one).

    Never raises: a broker that is down must not turn committed work into an error page. The
    caller's work must be findable by a sweep (a row saying what is still to do)."""

    def queue() -> None:
        try:
            try:
                # huey's own task id, written so that it also says when the task was queued.
                queued(*args, id=stamped_id())
            except Exception as exc:  # whatever the broker's client raises: Redis, SQLite, a socket
                raise TaskNotQueued(f"{queued.name}: {type(exc).__name__}") from exc
        except TaskNotQueued as error:
            _queue_outage.failed(queued.name, error)
        else:
            _queue_outage.worked()

    transaction.on_commit(queue)


# ---------------------------------------------------------------------------------------------
# How long the queue is, and how long its oldest task has waited (zbor/metrics.py).
#
# huey records no time a task was queued. The tasks Zbor queues (``enqueue_on_commit``) get a
# time-ordered id instead of huey's random one: a UUID version 7 (RFC 9562), whose first 48 bits
# are the milliseconds since 1970 when it was made. A task waiting for a retry has its ``eta``
# (when it may run); it waits in the queue from the later of the two. Periodic tasks (queued by
# the worker's own scheduler, with huey's random ids) are counted but have no age.

#: Queued tasks read to find the oldest with an age (a few periodic ones may come first).
OLDEST_SCAN = 20


def stamped_id(now: float | None = None) -> str:
    """A random UUID version 7 made at ``now`` (seconds since 1970; default: now)."""
    ms = int((time.time() if now is None else now) * 1000) & (2**48 - 1)
    value = ms << 80 | 0x7 << 76 | secrets.randbits(12) << 64 | 0b10 << 62 | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def queued_at(task_id: str) -> float | None:
    """When a task with a ``stamped_id`` was queued (seconds since 1970), None for another id."""
    try:
        parsed = uuid.UUID(task_id)
    except ValueError:
        return None
    return (parsed.int >> 80) / 1000 if parsed.version == 7 else None


def _waiting_since(task) -> float | None:
    since = queued_at(str(task.id))
    if since is None or task.eta is None:
        return since
    eta = task.eta if task.eta.tzinfo else task.eta.replace(tzinfo=UTC)  # huey's utc=True: naive UTC
    return max(since, eta.timestamp())


def queue_metrics(now: float | None = None) -> Iterator[metrics.Gauge]:
    """Tasks queued (ready to run) and scheduled (a retry or a delay waiting for its time), and
    the age of the oldest queued task Zbor queued. Nothing to report in immediate mode."""
    if settings.HUEY.get("immediate"):
        return
    now = time.time() if now is None else now
    counts: dict[tuple[str, ...], float] = {
        ("queued",): float(HUEY.pending_count()),
        ("scheduled",): float(HUEY.scheduled_count()),
    }
    yield metrics.Gauge("zbor_task_queue_tasks", "Tasks in the queue, by state.", counts, ("state",))
    ages = [since for task in HUEY.pending(limit=OLDEST_SCAN) if (since := _waiting_since(task)) is not None]
    yield metrics.Gauge(
        "zbor_task_queue_oldest_age_seconds",
        "Seconds the oldest queued task (of those the site queues) has waited for a worker; 0 when none waits.",
        {(): max(0.0, now - min(ages)) if ages else 0.0},
    )
