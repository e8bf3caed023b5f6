"""Time the audit's CSV reading alone: open the extract, cut its records into chunks.

Usage (from the repository root, in the venv):

    python benchmarks/csv_reader.py                 # 200,000 records, 7 runs
    python benchmarks/csv_reader.py --rows 1000000 --repeat 3
    python benchmarks/csv_reader.py --rows 100000 --write big.csv   # an extract to audit, then exit

This is the part of a CSV audit that runs in the parent process (the workers parse and
decide), so a per-record check here is paid once per row on one core. Run it in two
checkouts to compare code: it imports the package of the checkout it is in.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyclingo_bridge import engine_for
from pyclingo_bridge.audit.reader import open_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", type=Path, default=None, help="write a varied extract (seeded) to audit, and exit")
    arguments = parser.parse_args()
    if arguments.write is not None:
        arguments.write.write_text(varied_extract(arguments.rows))
        return
    vocabulary = engine_for("CMICB_Clin086").vocabulary
    text = "id,age,setting,red_flags,sciatica\n" + "".join(
        f"r{row},{row % 90},mcas,cauda_equina;suspected_fracture,true\n" for row in range(arguments.rows)
    )
    times = []
    for _ in range(arguments.repeat):
        started = time.perf_counter()
        rows = sum(len(chunk) for chunk in open_source(io.StringIO(text), "csv", vocabulary, 2_000).chunks)
        times.append(time.perf_counter() - started)
    print(
        f"{rows:,} records read and chunked: median {statistics.median(times):.3f} s, "
        f"fastest {min(times):.3f} s ({min(times) / rows * 1e9:.0f} ns a record), {arguments.repeat} runs"
    )


def varied_extract(rows: int) -> str:
    """Random ages, settings, flags and booleans (some left empty), the same for every run."""
    draw = random.Random(1)
    lines = ["id,age,setting,red_flags,sciatica,likely_to_change_management"]
    for row in range(rows):
        setting = draw.choice(["mcas", "primary_care", "secondary_care", ""])
        flags = draw.choice(["[]", "cauda_equina", ""])
        booleans = [draw.choice(["true", "false", ""]) for _ in range(2)]
        lines.append(",".join([f"r{row}", str(draw.randint(0, 130)), setting, flags, *booleans]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
