"""Print the browser's navigation timings of the main pages, as the role walk recorded them (issue 15).

The browser test ``tests/browser/test_role_walk.py`` opens each main page as the role who uses it and writes
the Navigation Timing API's figures to ``test-output/browser_timings.json``: milliseconds from the start of the
navigation to DOMContentLoaded and to the load event. This prints them as a table against the goal (under 300 ms
to the page being usable). It is a record, not a timed test: run the walk first::

    .venv/bin/pytest tests/browser/test_role_walk.py
    .venv/bin/python bench/bench_browser_timings.py [path/to/browser_timings.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GOAL_MS = 300


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path("test-output") / "browser_timings.json"
    if not path.exists():
        print(f"{path} is missing: run tests/browser/test_role_walk.py first", file=sys.stderr)
        return 1
    timings = json.loads(path.read_text(encoding="utf-8"))
    print(f"| Page (role: page) | Path | DOMContentLoaded (ms) | load (ms) | under {GOAL_MS} ms |")
    print("|---|---|---:|---:|---|")
    for name, t in timings.items():
        dcl, load = t.get("dom_content_loaded", 0.0), t.get("load", 0.0)
        print(f"| {name} | {t.get('path', '')} | {dcl:.0f} | {load:.0f} | {'yes' if dcl < GOAL_MS else 'no'} |")
    over = [n for n, t in timings.items() if t.get("dom_content_loaded", 0.0) >= GOAL_MS]
    print(f"\n{len(timings) - len(over)} of {len(timings)} pages usable in under {GOAL_MS} ms"
          + (f"; over: {', '.join(over)}" if over else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
