"""`make quality`: Zbor's public pages judged from outside, by Lighthouse 12 and axe-core.

The demo is served the way `make run` serves it (SQLite, one granian process, DEBUG off), on
a free port in a temporary directory. Then, for the home page, the campaign list, the demo's
flagship campaign and its donate page, in each language:

- Lighthouse (pinned in bench/quality/package-lock.json; `npm ci` there when node_modules is
  missing) in Debian's Chromium, mobile (its default: a phone, slow 4G and a 4× slower CPU,
  simulated) and desktop (its desktop preset): performance, accessibility, best practices and
  SEO, each at least 0.95;
- axe-core (pinned likewise) inside the page through Playwright, on a phone's and a desktop's
  viewport: no violation of serious or critical impact.

Prints a table, then every audit or rule that keeps a page below its mark, and exits 1 when a
score is under 0.95 or axe finds a serious or critical violation. A bench, not a test: it needs
npm the first time and takes a few minutes (`--langs en` for a quick look).

    make quality
    .venv/bin/python bench/quality.py --langs en,ru --forms mobile
    .venv/bin/python bench/quality.py --url http://127.0.0.1:8000   # a server already running
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.harness import ROOT, Processes  # noqa: E402

HERE = ROOT / "bench" / "quality"
CHROMIUM = os.environ.get("ZBOR_CHROMIUM", "/usr/bin/chromium")
DEMO = "from-prison-to-family"
PAGES = {
    "home": "/{lang}/",
    "list": "/{lang}/campaigns/",
    "campaign": f"/{{lang}}/campaigns/{DEMO}/",
    "donate": f"/{{lang}}/campaigns/{DEMO}/donate/",
}
CATEGORIES = {"performance": "perf", "accessibility": "a11y", "best-practices": "bp", "seo": "seo"}
TARGET = 0.95
VIEWPORTS = {"phone": {"width": 360, "height": 800}, "desktop": {"width": 1350, "height": 940}}
SERIOUS = ("serious", "critical")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--mute-audio",
]


def npm_ci() -> None:
    if (HERE / "node_modules" / "lighthouse").is_dir() and (HERE / "node_modules" / "axe-core").is_dir():
        return
    if not shutil.which("npm"):
        sys.exit("make quality needs Node.js 18.16 or newer and npm (apt-get install nodejs npm)")
    print("npm ci in bench/quality (Lighthouse and axe-core, pinned)…", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


def serve_demo(procs: Processes, work: Path) -> str:
    """The demo as `make run` serves it, with DEBUG off as in production; returns its URL."""
    from bench.run import base_env

    env = base_env(work / "embedded", DJANGO_SETTINGS_MODULE="config.settings.dev")
    harness.zbor(["migrate", "--no-input"], env)
    harness.zbor(["load_demo"], env)
    port = harness.free_port()
    # Cover images from the data directory with an hour's cache, as deploy/nginx.conf serves
    # them (Django serves /media/ only with DEBUG on).
    media = ("--static-path-route", "/media", "--static-path-mount", str(work / "embedded" / "media"))
    harness.granian(procs, "granian", port, env, extra=(*media, "--static-path-expires", "3600"))
    url = f"http://127.0.0.1:{port}"
    harness.wait_for(url + "/en/")
    return url


def chromium(procs: Processes, work: Path) -> int:
    """Chromium with its DevTools port open, for Lighthouse; returns the port."""
    port = harness.free_port()
    procs.start(
        "chromium",
        [CHROMIUM, *CHROMIUM_FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={work / 'chromium'}"],
        dict(os.environ),
    )
    harness.wait_for(f"http://127.0.0.1:{port}/json/version")
    return port


def lighthouse_runs(port: int, jobs: list[dict], runs: int) -> list[dict]:
    """Each job measured once, and again (up to ``runs`` times in all) while a category is below
    the mark; the best run kept. Only performance moves between runs: it is timed on a machine
    other work may share (simulated throttling multiplies what was observed)."""
    best = {
        (job["url"], job["form"]): {**result, "tries": [result["scores"]["performance"]], "errors": []}
        for job, result in zip(jobs, lighthouse(port, jobs), strict=True)
    }
    for _again in range(runs - 1):
        low = [job for job in jobs if _below(best[(job["url"], job["form"])])]
        if not low:
            break
        for result in lighthouse(port, low):
            key = (result["url"], result["form"])
            tries = [*best[key]["tries"], result["scores"]["performance"]]
            errors = [*best[key]["errors"], best[key]["runtimeError"]]
            if _total(result) > _total(best[key]):
                best[key] = result
            best[key].update(tries=tries, errors=[e for e in errors if e and e != best[key]["runtimeError"]])
    return list(best.values())


def _below(result: dict) -> bool:
    return any(score is None or score < TARGET for score in result["scores"].values())


def _total(result: dict) -> float:
    return sum(score or 0 for score in result["scores"].values())


def _score(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def lighthouse(port: int, jobs: list[dict]) -> list[dict]:
    print(f"Lighthouse: {len(jobs)} runs ", end="", flush=True)
    out = subprocess.run(
        ["node", "lighthouse.mjs", str(port)],
        cwd=HERE,
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=False,
    )
    print(flush=True)
    if out.returncode != 0:
        sys.exit(f"Lighthouse failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def axe(urls: list[str]) -> dict:
    """axe-core's violations of each page at each viewport (JavaScript on, the page's CSP set
    aside for axe's own script only)."""
    from playwright.sync_api import sync_playwright

    script = (HERE / "node_modules" / "axe-core" / "axe.min.js").read_text()
    found: dict = {}
    print(f"axe-core: {len(urls) * len(VIEWPORTS)} pages", flush=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS[1:])
        for viewport, size in VIEWPORTS.items():
            context = browser.new_context(viewport=size, bypass_csp=True)
            page = context.new_page()
            for url in urls:
                page.goto(url, wait_until="load")
                page.add_script_tag(content=script)
                result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
                found["version"] = result["testEngine"]["version"]
                found[(url, viewport)] = [
                    {
                        "id": v["id"],
                        "impact": v["impact"],
                        "help": v["help"],
                        "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]][:5],
                    }
                    for v in result["violations"]
                ]
            context.close()
        browser.close()
    return found


def lighthouse_cells(where: str, result: dict, problems: list[str]) -> list[str]:
    """One form factor's four scores for the table; what keeps them below the mark goes to
    ``problems`` (indented: an explanation, not counted)."""
    if result["runtimeError"]:
        problems.append(f"{where}: {result['runtimeError']}")
    problems.extend(f"    {where}, a run not kept: {error}" for error in result["errors"])
    cells = []
    for category in CATEGORIES:
        score = result["scores"][category]
        tries = ""
        if category == "performance" and len(result["tries"]) > 1:
            tries = " (runs: " + " ".join(_score(t) for t in result["tries"]) + ")"
        cells.append(_score(score) + tries)
        if score is None or score < TARGET:
            problems.append(f"{where} {category}: {score}")
    for audit in result["failing"]:
        if audit["category"] != "performance" or result["scores"]["performance"] < TARGET:
            problems.append(
                f"    {where} {audit['category']}/{audit['id']} score {audit['score']:.2f} "
                f"(weight {audit['weight']}): {audit['title']} {audit['value']}"
            )
    return cells


def axe_cell(where: str, found: dict[str, list[dict]], problems: list[str]) -> str:
    """The count of serious and critical violations over the viewports; each one, and each of
    lesser impact (not counted), goes to ``problems``."""
    serious = 0
    for viewport, violations in found.items():
        for violation in violations:
            line = (
                f"{where} {viewport} axe {violation['impact']} {violation['id']}: "
                f"{violation['help']} {violation['targets']}"
            )
            if violation["impact"] in SERIOUS:
                serious += 1
                problems.append(line)
            else:
                problems.append("    (not counted) " + line)
    return str(serious)


def report(base: str, langs: list[str], forms: list[str], lh: list[dict], ax: dict) -> bool:
    by_job = {(r["url"], r["form"]): r for r in lh}
    head = ["page", "lang"]
    for form in forms:
        head += [f"{form[:3]} {short}" for short in CATEGORIES.values()]
    head += ["axe serious+critical"]
    rows, problems = [], []
    for name, template in PAGES.items():
        for lang in langs:
            url = base + template.format(lang=lang)
            row = [name, lang]
            for form in forms:
                row += lighthouse_cells(f"{name} {lang} {form}", by_job[(url, form)], problems)
            row.append(axe_cell(f"{name} {lang}", {v: ax[(url, v)] for v in VIEWPORTS}, problems))
            rows.append(row)
    browser = re.search(r"Chrome/[0-9.]+", lh[0]["browser"])
    print(f"\nLighthouse {lh[0]['lighthouse']}, axe-core {ax['version']}, {browser.group(0) if browser else '?'}")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    failed = [p for p in problems if not p.startswith("    ")]
    if problems:
        print("\nBelow the mark (indented lines explain, or are not counted):")
        print("\n".join(problems))
    print(
        f"\n{'FAIL' if failed else 'PASS'}: every Lighthouse category ≥ {TARGET}, no serious or critical axe violation"
    )
    return not failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", default="en,ru,be,pl")
    parser.add_argument("--forms", default="mobile,desktop", help="Lighthouse form factors")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs at most per page (the best kept)")
    parser.add_argument("--url", help="measure a server already running here instead of starting the demo")
    parser.add_argument("--json", type=Path, help="also write every result here")
    args = parser.parse_args()
    langs, forms = args.langs.split(","), args.forms.split(",")
    started = time.monotonic()
    npm_ci()
    with tempfile.TemporaryDirectory(prefix="zbor-quality-") as tmp:
        work = Path(tmp)
        procs = Processes(work)
        try:
            base = args.url.rstrip("/") if args.url else serve_demo(procs, work)
            urls = [base + template.format(lang=lang) for template in PAGES.values() for lang in langs]
            port = chromium(procs, work)
            lh = lighthouse_runs(port, [{"url": url, "form": form} for url in urls for form in forms], args.runs)
            ax = axe(urls)
        finally:
            procs.stop_all()
    if args.json:
        args.json.write_text(
            json.dumps(
                {"lighthouse": lh, "axe": {" ".join(key): found for key, found in ax.items() if key != "version"}},
                indent=1,
            )
        )
    ok = report(base, langs, forms, lh, ax)
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
