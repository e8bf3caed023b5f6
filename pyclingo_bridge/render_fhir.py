"""The FHIR account of a decision as text: which codes were read, and which were not."""

from __future__ import annotations

from .fhir import FhirFacts


def render_fhir_text(fhir: FhirFacts) -> str:
    """Lines to follow :func:`render_text` for a decision taken from FHIR resources."""
    lines = ["", f"FHIR input ({fhir.order})"]
    for mapped in fhir.mapped:
        coding = mapped.coding
        meaning = f"{mapped.fact} = {mapped.value}" if mapped.fact else f"indication: {mapped.indication}"
        lines.append(f"  + {coding.code} {coding.display or ''} ({coding.resource}) => {meaning}  [{mapped.source}]")
    for coding in fhir.unmapped:
        code = coding.code or "(no code)"
        lines.append(f"  ? {code} {coding.display or ''} ({coding.resource}, {coding.system or 'no system'}) => unmapped")
    lines += [f"  - ignored: {reason}" for reason in fhir.ignored]
    lines += [f"  ! {note}" for note in fhir.notes]
    return "\n".join(line.rstrip() for line in lines) + "\n"
