"""Run by tests/test_settings.py in a process of its own, on a SQLite file: sixteen threads
write at once through zbor.sqlite_backend. Prints what it saw."""

import json
import threading
import time

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from zbor.sqlite_backend.base import WRITER  # noqa: E402

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS writes (thread INTEGER, n INTEGER)")
seen = {"inside": [], "after": [], "errors": [], "most_at_once": 0}
inside = 0
count_lock = threading.Lock()


def write(thread: int) -> None:
    global inside
    try:
        for n in range(40):
            with transaction.atomic():
                with count_lock:
                    inside += 1
                    seen["most_at_once"] = max(seen["most_at_once"], inside)
                seen["inside"].append(connection.holds_writer)
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO writes VALUES (%s, %s)", [thread, n])
                time.sleep(0.0005)
                with count_lock:
                    inside -= 1
            seen["after"].append(connection.holds_writer)
        try:
            with transaction.atomic():
                raise ValueError("rolled back")
        except ValueError:
            seen["after"].append(connection.holds_writer)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        seen["errors"].append(repr(exc))
    finally:
        connection.close()


threads = [threading.Thread(target=write, args=(t,)) for t in range(16)]
started = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT COUNT(*) FROM writes")
    rows = cursor.fetchone()[0]
free = WRITER.acquire(blocking=False)
print(json.dumps({
    "rows": rows, "errors": seen["errors"], "most_at_once": seen["most_at_once"],
    "held_inside": all(seen["inside"]), "held_after": any(seen["after"]), "free_at_end": free,
    "seconds": time.perf_counter() - started,
}))
