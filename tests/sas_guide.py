"""What the SAS implementation guide says, read from its own files (``tests/fixtures/sas-ig``, unchanged copies of
``../shared/reference/sas-ig``): the example request of its search page and the rules of its FSH profiles
(cardinalities and fixed values), so that the tests check our answers against the guide rather than against rules
typed by hand."""

import re
from dataclasses import dataclass
from pathlib import Path

COPY = Path(__file__).resolve().parent / "fixtures" / "sas-ig"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sas-ig" / "input"
PROFILES = COPY / "profiles"
SEARCH_PAGE = COPY / "pagecontent" / "specifications_techniques-ps-recherche_creneaux.md"


def example_search_request() -> str:
    """The query string of the guide's example search (« Exemple de requête »), as it is written there."""
    line = next(line for line in SEARCH_PAGE.read_text().splitlines() if line.startswith("`get[BASE]/Slot?"))
    return line.strip("`").split("?", 1)[1]


@dataclass(frozen=True)
class Rule:
    profile: str
    path: str
    minimum: int | None = None
    maximum: str | None = None
    fixed: str | None = None


_CARDINALITY = re.compile(r"^\* (?P<path>[\w.\[\]]+) (?P<min>\d+)?\.\.(?P<max>\d+|\*)?\s*$")
_FIXED = re.compile(r"^\* (?P<path>[\w.]+) = (?P<value>\S+)(?: \(exactly\))?\s*$")


def rules(profile: str) -> list[Rule]:
    """The cardinality and fixed-value rules of one profile (the slicing and binding details are left out)."""
    path = next(PROFILES.rglob(f"{profile}.fsh"))
    found = []
    for line in path.read_text().splitlines():
        if match := _CARDINALITY.match(line.strip()):
            found.append(Rule(profile, match["path"], int(match["min"]) if match["min"] else None, match["max"]))
        elif (match := _FIXED.match(line.strip())) and "^" not in line:
            found.append(Rule(profile, match["path"], fixed=match["value"].strip('"')))
    return found


def values_at(resource, path: str) -> list:
    """Every value a dotted FHIR path reaches in a JSON resource (lists are walked through)."""
    current = [resource]
    for part in path.split("."):
        choice = part.endswith("[x]")  # value[x]: valueReference, valueString…
        part = re.sub(r"\[.*\]$", "", part)
        following = []
        for item in current:
            if not isinstance(item, dict):
                continue
            found = [v for key, v in item.items() if key.startswith(part)] if choice else [item.get(part)]
            for value in found:
                if isinstance(value, list):
                    following += value
                elif value is not None:
                    following.append(value)
        current = following
    return current


def fixed_matches(values: list, fixed: str) -> bool:
    """A fixed FSH value (``#code``, ``system#code``, a string) against what a path holds."""
    if fixed.startswith("#"):
        return all(value == fixed[1:] for value in values)
    if "#" in fixed:
        system, code = fixed.split("#", 1)
        codings = [coding for value in values if isinstance(value, dict)
                   for coding in value.get("coding", [value])]  # a concept or a coding
        return bool(codings) and all(c.get("system") == system and c.get("code") == code for c in codings)
    return all(value == fixed for value in values)
