"""`make bench` (`python -m bench`): every benchmark, one after another, each in its own process.

Not part of `make test`. Each script prints its own figures; a script that is not there
(yet) is named and passed over. Exit status 1 when a script that ran failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("screening.py", "classifier.py", "startup.py", "report.py", "imap_poll.py", "throughput.py", "stages.py",
           "push_latency.py", "privacy.py", "web.py")


def main() -> int:
    failed = []
    for name in SCRIPTS:
        script = HERE / name
        print(f"=== bench/{name}", flush=True)
        if not script.exists():
            print(f"(bench/{name} is not there; passed over)\n", flush=True)
            continue
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode
        print(f"--- bench/{name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in "
              f"{time.perf_counter() - started:.0f} s\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
