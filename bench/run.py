"""Run every benchmark in this folder, one process each (`make bench`).

Each benchmark is a script that runs alone (`python bench/NAME.py`), sets up its own
throw-away database, and prints its figures as ratios against a baseline measured in the
same run (the machine is shared and noisy; absolute numbers drift, ratios less so).
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in {"run.py"} and not p.name.startswith("_"))
    failed = 0
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
