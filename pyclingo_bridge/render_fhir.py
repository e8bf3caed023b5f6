"""The FHIR account of a decision as text: which codes were read, and which were not."""

from __future__ import annotations

from .fhir import FhirFacts
from .wording import Wording


def render_fhir_text(fhir: FhirFacts, wording: Wording | None = None) -> str:
    """Lines to follow :func:`render_text` for a decision taken from FHIR resources; each
    code's meaning in the KB's words (``wording``), the code's source cited."""
    lines = ["", f"FHIR input ({fhir.order})"]
    for mapped in fhir.mapped:
        coding = mapped.coding
        if mapped.fact and mapped.value is not None and wording is not None:
            meaning = wording.value_sentence(mapped.fact, mapped.value)
        elif mapped.fact:
            meaning = "a patient fact of this policy"
        else:
            meaning = "the condition this policy is about"
        lines.append(f"  + {coding.code} {coding.display or ''} ({coding.resource}): {meaning}  [{mapped.source}]")
    for measured in fhir.observations:
        recorded = " ".join(part for part in (measured.value, measured.unit) if part) or "no value"
        where = f"{measured.resource}, {measured.effective or 'undated'}"
        value = fhir.facts.given.get(measured.key)
        if measured.used and value is not None and wording is not None:
            spec = wording.vocabulary.specs[measured.key]
            meaning = wording.value_sentence(measured.key, str(spec.fact_type.encode(spec)(value)[0]))
        else:
            meaning = recorded
        mark = "+" if measured.used else "?"
        lines.append(f"  {mark} {measured.code} {measured.display or ''} ({where}): {meaning}; {measured.reason}  [{measured.source}]")
    for coding in fhir.unmapped:
        code = coding.code or "(no code)"
        lines.append(f"  ? {code} {coding.display or ''} ({coding.resource}, {coding.system or 'no system'}): not mapped")
    lines += [f"  - ignored: {reason}" for reason in fhir.ignored]
    lines += [f"  ! {note}" for note in fhir.notes]
    return "\n".join(line.rstrip() for line in lines) + "\n"
