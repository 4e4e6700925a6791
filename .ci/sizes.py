"""Fail when a module or a function has grown past what one person reads at once.

- a function of radon cyclomatic complexity D or worse (more than 20 paths), tests and
  migrations excluded: split it;
- a module over 400 lines, migrations excluded (tests included): split it by job.

Run by ``make lint``; ``python .ci/sizes.py [path ...]`` checks other paths (default: zbor,
config, tests, bench). Prints one line per finding and exits 1 if there is any.
"""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
WORST_RANK = "C"
DEFAULT_PATHS = ("zbor", "config", "tests", "bench")


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py"


def findings(paths: list[Path]) -> list[str]:
    found = []
    for top in paths:
        for path in sorted(top.rglob("*.py") if top.is_dir() else [top]):
            if "migrations" in path.parts:
                continue
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            source = path.read_text(encoding="utf-8")
            lines = source.count("\n") + (not source.endswith("\n") and bool(source))
            if lines > MAX_LINES:
                found.append(f"{name}: {lines} lines (at most {MAX_LINES}): split the module by job")
            if _is_test(path):
                continue
            for block in cc_visit(source):
                if cc_rank(block.complexity) > WORST_RANK:
                    found.append(
                        f"{name}:{block.lineno} {block.fullname}: complexity {block.complexity} "
                        f"({cc_rank(block.complexity)}, at most {WORST_RANK}): split the function"
                    )
    return found


def main(argv: list[str]) -> int:
    paths = [Path(p).resolve() for p in argv] or [ROOT / p for p in DEFAULT_PATHS]
    found = findings(paths)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
