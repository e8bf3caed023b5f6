"""A plain-Python script of CMICB_Clin086's statuses: the "just write a script" alternative.

For comparison only (benchmarks/audit.py runs it beside the audit); it lives here, never in
the package. It reads a JSONL extract, decides each row's status with the policy's
precedence hand-written (applicability, core criteria, individual funding, clinical trial,
policy statement), answers "undetermined" when a fact it needs is missing, and writes one
JSON line per row. No validation, no clauses checked against the KB, no explanation, no
missing facts: the cheapest honest per-row work. Its answers are not the audit's (it skips
the three-valued reasoning over every completion); only its speed is compared.

    python benchmarks/plain_clin086.py EXTRACT.jsonl [--jobs 2] > out.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys

MINIMUM_AGE = 16
SERIOUS = {"suspected_infection", "suspected_malignancy", "suspected_fracture", "suspected_inflammatory_disease",
           "suspected_cord_compression", "cauda_equina", "serious_neurological_deficit"}
CAUDA_EQUINA = {"cauda_equina", "sphincter_disturbance", "progressive_motor_weakness", "perineal_anaesthesia",
                "bilateral_nerve_root_involvement"}
SPECIALIST = {"mcas", "secondary_care"}


def status(row: dict) -> str:  # type: ignore[type-arg]
    age = row.get("age")
    flags = row.get("red_flags")
    if (age is not None and age < MINIMUM_AGE) or (flags and (SERIOUS.intersection(flags) or CAUDA_EQUINA.intersection(flags))):
        return "outside_policy"
    if age is None or flags is None:
        return "undetermined"
    if row.get("core_criteria"):
        return "commissioned"
    if row.get("ifr_approved"):
        return "commissioned"
    if row.get("clinical_trial_continuation"):
        return "not_commissioned"
    setting = row.get("setting")
    if setting is None:
        return "undetermined"
    if setting == "primary_care" or row.get("facet_joint_rfd_prerequisite"):
        return "not_commissioned"
    if setting == "secondary_care" and row.get("mcas_in_place") is True and row.get("seen_by_mcas") is False and not row.get("emergency_or_inpatient"):
        return "not_commissioned"
    likely = row.get("likely_to_change_management")
    if likely is None:
        return "undetermined"
    return "commissioned" if likely else "not_commissioned"


def decide(lines: list[str]) -> str:
    out = []
    for number, line in lines:  # type: ignore[misc]
        try:
            row = json.loads(line)
            out.append(json.dumps({"row": number, "id": row.get("id"), "status": status(row)}) + "\n")
        except (ValueError, TypeError, AttributeError):
            out.append(json.dumps({"row": number, "error": "bad row"}) + "\n")
    return "".join(out)


def chunks(stream, size: int = 2000):  # type: ignore[no-untyped-def]
    numbered = enumerate(stream, start=1)
    while chunk := list(itertools.islice(numbered, size)):
        yield chunk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("extract")
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()
    with open(arguments.extract, encoding="utf-8") as stream, multiprocessing.Pool(arguments.jobs) as pool:
        for text in pool.imap(decide, chunks(stream)):
            sys.stdout.write(text)


if __name__ == "__main__":
    main()
