"""The step between two dumps of sitecustomize.py (set-up dump, exit dump) of one server, per
request (``SAVEPOINT request``) and per stored message::

    .venv/bin/python bench/pgtrace/diff.py /tmp/trace.first /tmp/trace.PID
"""

from __future__ import annotations

import re
import sys

LINE = re.compile(r"\s*(\d+)\s+([\d.]+)ms\s+\d+us\s+(.*)")


def load(path: str) -> dict[str, tuple[int, float]]:
    rows = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            match = LINE.match(line.rstrip("\n"))
            if match:
                rows[match.group(3)] = (int(match.group(1)), float(match.group(2)))
    return rows


def main() -> None:
    before, after = load(sys.argv[1]), load(sys.argv[2])
    step = {k: (n - before.get(k, (0, 0.0))[0], t - before.get(k, (0, 0.0))[1]) for k, (n, t) in after.items()}
    requests = max(1, step.get("SAVEPOINT request", (0, 0.0))[0])
    messages = max(1, sum(n for k, (n, _) in step.items() if k.startswith("INSERT INTO messages")))
    print(f"requests {requests}, messages {messages}, batches {step.get('COMMIT', (0, 0.0))[0]}")
    waited = 0.0
    for key in sorted(k for k in step if k.startswith("~LOOP")):
        n, ms = step[key]
        waited += ms
        print(f"  {key}: {n} ({n / requests:.2f} a request, {n / messages:.2f} a message), {ms:.0f} ms")
    print(f"  the loop in psycopg: {waited:.0f} ms, {waited / messages * 1000:.0f} us a message")


if __name__ == "__main__":
    main()
