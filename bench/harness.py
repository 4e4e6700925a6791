"""What the benches need around Zbor: nginx, wrk, granian processes, PostgreSQL databases.

Everything runs on this machine, on free ports, in a temporary directory; every process is
stopped when the bench ends. nginx and wrk come from Debian (installed if missing and root).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = "postgres://postgres@127.0.0.1:5432"


def wsgi_call(app, method: str, path: str, body: bytes = b"", cookie: str = "") -> tuple[str, list, bytes]:
    """One request through a WSGI ``app`` in this process (no server, no network): the status
    line, the headers and the body."""
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_COOKIE": cookie,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.errors": sys.stderr,
    }
    content = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], content


def need_tools() -> None:
    missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"make bench needs {', '.join(missing)}: apt-get install nginx-light wrk")
    print(f"installing {', '.join(missing)} from Debian…", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light", "wrk"], check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local URL
                response.read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(url: str, data: bytes | None = None, headers: dict | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - a local URL
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.read()


class Processes:
    """Started processes, all stopped on exit (even on an error)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)


def granian(
    procs: Processes, name: str, port: int, env: dict[str, str], workers: int = 1, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    return procs.start(
        name,
        [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            "16",
            "--no-ws",
            *extra,
            "config.wsgi:application",
        ],
        env,
    )


NGINX = """
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000;
  types {{ text/html html; application/json json; text/css css; }}
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fcgi;
  uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  proxy_cache_path {dir}/cache levels=1:2 keys_zone=pages:10m max_size=100m inactive=10m use_temp_path=off;
  map "$request_method:$cookie_sessionid$cookie_csrftoken$cookie_messages$http_authorization" $zbor_skip_cache {{
    "GET:" 0; "HEAD:" 0; default 1;
  }}
  map $upstream_http_cache_control $zbor_not_public {{
    "~*(^|[ ,])(private|no-store|no-cache)([ ,=]|$)" 1; "~*(^|[ ,])public([ ,]|$)" 0; default 1;
  }}
  upstream app {{ {upstreams} keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    # The yardstick: the same bytes, served as files.
    location /files/ {{ root {dir}; }}
    # The cache rules of deploy/nginx.conf: public pages from a one-second cache, the rest passed on.
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host;
      # As deploy/nginx.conf: a refused connection (an app server restarting) goes to the other.
      proxy_next_upstream error timeout; proxy_next_upstream_tries 2; proxy_connect_timeout 2s;
      proxy_cache pages; proxy_cache_key $scheme$host$request_uri;
      proxy_cache_valid 200 1s; proxy_cache_lock on; proxy_cache_background_update off;
      proxy_cache_use_stale updating error timeout http_500 http_502 http_503;
      proxy_cache_bypass $zbor_skip_cache; proxy_no_cache $zbor_skip_cache $zbor_not_public;
    }}
  }}
}}
"""


def nginx(
    procs: Processes, workdir: Path, port: int, upstream_ports: list[int], workers: str = "auto"
) -> subprocess.Popen:
    directory = workdir / "nginx"
    (directory / "files").mkdir(parents=True, exist_ok=True)
    # nginx's workers drop root for nobody: they must reach the files and write the cache.
    workdir.chmod(0o755)
    for sub in ("", "files", "cache", "body", "proxy"):
        (directory / sub).mkdir(exist_ok=True)
        (directory / sub).chmod(0o777)
    conf = directory / "nginx.conf"
    # As deploy/nginx.conf: three failures take a server out for ten seconds.
    upstreams = " ".join(f"server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in upstream_ports)
    conf.write_text(NGINX.format(workers=workers, dir=directory, port=port, upstreams=upstreams))
    return procs.start(
        "nginx", ["nginx", "-c", str(conf), "-p", str(directory), "-g", "daemon off;"], dict(os.environ)
    )


def put_file(workdir: Path, name: str, body: bytes) -> str:
    path = workdir / "nginx" / "files" / name
    path.write_bytes(body)
    return f"/files/{name}"


@dataclass
class Load:
    rps: float
    p99_ms: float
    errors: int

    def __str__(self) -> str:
        return f"{self.rps:9.0f} req/s  p99 {self.p99_ms:7.1f} ms" + (
            f"  ({self.errors} errors)" if self.errors else ""
        )


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:  # wrk prints "-nan" when nothing came back
        return float("inf")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, seconds: float = 5, connections: int = 32, script: Path | None = None) -> Load:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    if script:
        args[1:1] = ["-s", str(script)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The distribution's own line: "99%" also ends the latency line's spread ("93.99%").
    distribution = re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M)  # absent when nothing came back (wrk pads "1.11s ")
    p99 = _ms(distribution.group(1)) if distribution else float("inf")
    if p99 == float("inf") or not rps:
        print(f"    wrk {url}: nothing came back\n{out}", flush=True)
    errors = sum(
        int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|Socket errors: .*?timeout)\s*:?\s*(\d+)", out)
    )
    return Load(rps, p99, errors)


def fresh_database(name: str) -> str:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return f"{PG}/{name}"


def zbor(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([str(BIN / "zbor"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"zbor {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout
