"""Run by tests/test_settings.py in a process of its own, on a SQLite file: sixteen threads
write at once through zbor.sqlite_writers, in transactions and outside them. Prints what it saw."""

import json
import sqlite3
import threading
import time

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from zbor.sqlite_writers import WRITER, WriterConnection  # noqa: E402

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS writes (thread INTEGER, n INTEGER)")


def holds_writer() -> bool:
    return getattr(connection.connection, "holds_writer", False)


seen = {"inside": [], "after": [], "returned": [], "errors": [], "most_at_once": 0}
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
                seen["inside"].append(holds_writer())
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO writes VALUES (%s, %s)", [thread, n])
                time.sleep(0.0005)
                with count_lock:
                    inside -= 1
            seen["after"].append(holds_writer())
            with connection.cursor() as cursor:  # autocommit: the statement is its own transaction
                cursor.execute("INSERT INTO writes VALUES (%s, %s) RETURNING n", [thread, 100 + n])
                seen["returned"].append(cursor.fetchone() == (100 + n,) and cursor.fetchone() is None)
        try:
            with transaction.atomic():
                raise ValueError("rolled back")
        except ValueError:
            seen["after"].append(holds_writer())
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

waited_for_turn = unread = False
connection.ensure_connection()
if isinstance(connection.connection, WriterConnection):  # not with ZBOR_SQLITE_WRITER_QUEUE=off
    # A write outside a transaction waits for the process's turn …
    finished = threading.Event()

    def autocommit_write() -> None:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO writes VALUES (%s, %s)", [99, 0])
        connection.close()
        finished.set()

    with WRITER:
        writer = threading.Thread(target=autocommit_write)
        writer.start()
        waited_for_turn = not finished.wait(0.3)
    writer.join()
    # … and one returning rows gives SQLite's lock back before its turn ends: the rows are read
    # at once, so another connection writes while they are still unread here.
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO writes VALUES (%s, %s) RETURNING thread", [98, 0])
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.1)
        other.execute("INSERT INTO writes VALUES (97, 0)")
        other.commit()
        other.close()
        unread = cursor.fetchall() == [(98,)]
        cursor.execute("INSERT INTO writes VALUES (96, 1), (96, 2), (96, 3), (96, 4) RETURNING n")
        many = cursor.fetchmany(3) + cursor.fetchmany(3) + cursor.fetchmany(3)
        cursor.execute("INSERT INTO writes VALUES (95, 1), (95, 2) RETURNING n")
        unread = unread and sorted(many) == [(1,), (2,), (3,), (4,)] and sorted(cursor) == [(1,), (2,)]
free = WRITER.acquire(blocking=False)
print(
    json.dumps(
        {
            "rows": rows,
            "errors": seen["errors"],
            "returned": all(seen["returned"]) and len(seen["returned"]) == 16 * 40,
            "waited_for_turn": waited_for_turn and finished.is_set(),
            "rows_read_at_once": unread,
            "most_at_once": seen["most_at_once"],
            "held_inside": all(seen["inside"]),
            "held_after": any(seen["after"]),
            "free_at_end": free,
            "seconds": time.perf_counter() - started,
        }
    )
)
