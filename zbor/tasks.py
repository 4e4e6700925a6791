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
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from huey.api import TaskWrapper
from huey.contrib.djhuey import db_task

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
                queued(*args)
            except Exception as exc:  # whatever the broker's client raises: Redis, SQLite, a socket
                raise TaskNotQueued(f"{queued.name}: {type(exc).__name__}") from exc
        except TaskNotQueued as error:
            _queue_outage.failed(queued.name, error)
        else:
            _queue_outage.worked()

    transaction.on_commit(queue)
