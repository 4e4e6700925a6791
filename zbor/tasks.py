"""Background tasks: django-tasks' API, run by huey.

Code defines tasks with ``django_tasks.task`` and queues them with ``.enqueue()`` inside
``transaction.on_commit``. ``HueyBackend`` hands each one to huey, which stores the queue in
SQLite (embedded, ``$ZBOR_DATA_DIR/tasks.sqlite3``) or Redis (``REDIS_URL``) and runs it in the
worker (``zbor run_huey``) with retries. Tests run tasks at once (huey's immediate mode).

Tasks are thin: they take ids, load what they need, and are safe to run twice.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id
from huey.contrib.djhuey import task as huey_task

log = logging.getLogger(__name__)

_T = TypeVar("_T")

RETRIES = 5


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
        _run(path, list(args), dict(kwargs))
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
