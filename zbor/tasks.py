"""Background tasks: django-tasks' API, run by huey.

Code defines tasks with ``django_tasks.task`` and queues them with ``.enqueue()`` inside
``transaction.on_commit``. ``HueyBackend`` hands each one to huey, which stores the queue in
SQLite (embedded, ``$ZBOR_DATA_DIR/tasks.sqlite3``) or Redis (``REDIS_URL``) and runs it in the
worker (``zbor run_huey``) with retries. Tests run tasks at once (huey's immediate mode).

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
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id
from huey.contrib.djhuey import task as huey_task

log = logging.getLogger(__name__)

_T = TypeVar("_T")

RETRIES = 5


class TaskNotQueued(Exception):
    """The queue's broker did not take the task (it is down or unreachable). Never reaches a
    user: ``enqueue_on_commit`` logs it, and a sweep does the work later."""


@huey_task(retries=RETRIES, retry_delay=settings.ZBOR_TASK_RETRY_DELAY, name="zbor.run_task")
def _run(path: str, args: list, kwargs: dict):
    target = import_string(path)
    return target.call(*args, **kwargs) if isinstance(target, Task) else target(*args, **kwargs)


class HueyBackend(BaseTaskBackend):
    supports_defer = False
    supports_async_task = False
    supports_get_result = False

    def enqueue(self, task: Task[..., _T], args, kwargs) -> TaskResult[_T]:
        self.validate_task(task)
        path = f"{task.func.__module__}.{task.func.__name__}"
        try:
            _run(path, list(args), dict(kwargs))
        except Exception as exc:  # whatever the broker's client raises: Redis, SQLite, a socket
            raise TaskNotQueued(f"{path}: {type(exc).__name__}") from exc
        result: TaskResult[_T] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        return result


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


def enqueue_on_commit(task: Task, *args) -> None:
    """Queue ``task(*args)`` once the current transaction commits (at once outside one).

    Never raises: a broker that is down must not turn committed work into an error page. The
    caller's work must be findable by a sweep (a row saying what is still to do)."""
    name = f"{task.func.__module__}.{task.func.__name__}"

    def queue() -> None:
        try:
            task.enqueue(*args)
        except TaskNotQueued as error:
            _queue_outage.failed(name, error)
        else:
            _queue_outage.worked()

    transaction.on_commit(queue)
