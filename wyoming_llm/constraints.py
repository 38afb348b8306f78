"""Grammars (GBNF, embedded model) and JSON schemas (remote servers) for model output.

Both allow only the known intents with their slots and types. With a home
context, `name` is limited to the names and aliases of entities the intent can
act on, and `area`/`floor` to the home's areas and floors.
"""

import json
from typing import Any

from .home import Home
from .intents import ALL_DOMAINS, SAY, SPECS, UNKNOWN, IntentSpec, SlotKind
from .output import MAX_LINES, MAX_TEXT_CHARS

_FREE_NAME = r"[^;=\n]{1,60}"
_TERMINALS = f"""
pct ::= "100" | [1-9]? [0-9]
number ::= "-"? [0-9] [0-9]? [0-9]? ("." [0-9])?
count ::= [1-9] [0-9]? [0-9]? [0-9]?
word ::= [a-zA-Z] [a-zA-Z _-]{{0,30}}
text ::= [^\\n]{{1,{MAX_TEXT_CHARS}}}
"""


def _literal(value: str) -> str:
    return json.dumps(value)  # JSON string escapes are valid GBNF literal escapes


def _choice(values: list[str]) -> str:
    return "(" + " | ".join(_literal(v) for v in values) + ")"


def _rule_name(spec: IntentSpec) -> str:
    return spec.verb.lower()


class _GrammarBuilder:
    def __init__(self, home: Home | None) -> None:
        self.home = home
        self.rules: dict[str, str] = {}
        if home is None:
            self.rules["area"] = _FREE_NAME
            self.rules["floor"] = _FREE_NAME
        else:
            self.rules["area"] = _choice(home.area_names.spoken) if home.areas else ""
            self.rules["floor"] = _choice(home.floor_names.spoken) if home.floors else ""

    def _names(self, spec: IntentSpec) -> str | None:
        """The rule for this intent's `name` slot, or None when no entity fits."""
        rule = f"name-{_rule_name(spec)}"
        if self.home is None:
            self.rules[rule] = _FREE_NAME
        else:
            names = self.home.names_for(spec.domains)
            if not names:
                return None
            self.rules[rule] = _choice(names)
        return rule

    def _target(self, spec: IntentSpec) -> str:
        """X (a name) | area=Y[;domain=D] | floor=Y[;domain=D] | domain=D[;area=Y]."""
        domains = sorted(spec.domains & ALL_DOMAINS)
        domain = f"domain-{_rule_name(spec)}"
        self.rules[domain] = _choice(domains)
        options = []
        if (names := self._names(spec)) is not None:
            options.append(names)
        has_domain = spec.slot("domain") is not None
        with_domain = f' (";domain=" {domain})?' if has_domain else ""
        for place in ("area", "floor"):
            if self.rules[place] and spec.slot(place) is not None:
                options.append(f'"{place}=" {place}{with_domain}')
        if has_domain:
            area = ' (";area=" area)?' if self.rules["area"] else ""
            options.append(f'"domain=" {domain}{area}')
        rule = f"target-{_rule_name(spec)}"
        self.rules[rule] = " | ".join(f"({option})" for option in options) or '"domain=light"'
        return rule

    def command(self, spec: IntentSpec) -> str:
        verb = _literal(spec.verb)
        extras = [s for s in spec.slots if s.kind in (SlotKind.PERCENT, SlotKind.NUMBER)]
        if spec.name == "HassStartTimer":
            body = (
                f'{verb} " " dur (";" dur)* (";name=" word)?\n'
                'dur ::= ("hours" | "minutes" | "seconds") "=" count'
            )
        elif spec.name in ("HassCancelTimer", "HassTimerStatus"):
            body = f'{verb} (" name=" word)?'
        elif spec.targets_entities:
            target = self._target(spec)
            if spec.name == "HassLightSet":
                tail = '(";brightness=" pct (";color=" word)? | ";color=" word)'
                body = f'{verb} " " {target} {tail}'
            elif spec.name == "HassGetState":
                body = f'{verb} " " {target} (";state=" word)?'
            elif extras:
                slot = extras[0]
                value = "pct" if slot.kind is SlotKind.PERCENT else "number"
                optional = spec.name != "HassSetPosition"
                target_part = f'({target} ";")?' if optional else f'{target} ";"'
                body = f'{verb} " " {target_part} "{slot.name}=" {value}'
            else:
                body = (
                    f'{verb} (" " {target})?'
                    if spec.name.startswith(("HassMedia", "HassClimateGet", "HassGetWeather"))
                    else f'{verb} " " {target}'
                )
        else:
            body = verb
        return f"{_rule_name(spec)} ::= {body}"


def grammar(home: Home | None) -> str:
    """A GBNF grammar for the compact output format."""
    builder = _GrammarBuilder(home)
    commands = [builder.command(spec) for spec in SPECS]
    rules = [
        f'root ::= "{SAY} " text | "{UNKNOWN} " text | cmd ("\\n" cmd){{0,{MAX_LINES - 1}}}',
        "cmd ::= " + " | ".join(_rule_name(spec) for spec in SPECS),
        *commands,
        *(f"{name} ::= {body}" for name, body in builder.rules.items() if body),
    ]
    return "\n".join(rules) + _TERMINALS


def _slot_schema(kind: SlotKind, names: list[str] | None, home: Home | None) -> dict[str, Any]:
    if kind is SlotKind.NAME:
        return {"enum": names} if names is not None else {"type": "string", "maxLength": 60}
    if kind in (SlotKind.AREA, SlotKind.FLOOR) and home is not None:
        lexicon = home.area_names if kind is SlotKind.AREA else home.floor_names
        return {"enum": lexicon.spoken}
    if kind is SlotKind.PERCENT:
        return {"type": "integer", "minimum": 0, "maximum": 100}
    if kind is SlotKind.COUNT:
        return {"type": "integer", "minimum": 0, "maximum": 9999}
    if kind is SlotKind.NUMBER:
        return {"type": "number"}
    return {"type": "string", "maxLength": 60}


def json_schema(home: Home | None) -> dict[str, Any]:
    """A JSON schema for the JSON output format."""
    variants: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"intent": {"const": kind}, "text": {"type": "string"}},
            "required": ["intent", "text"],
            "additionalProperties": False,
        }
        for kind in (SAY, UNKNOWN)
    ]
    for spec in SPECS:
        names = home.names_for(spec.domains) if home is not None else None
        properties: dict[str, Any] = {"intent": {"const": spec.written}}
        for slot in spec.slots:
            if slot.kind is SlotKind.NAME and names == []:
                continue
            if slot.kind is SlotKind.AREA and home is not None and not home.areas:
                continue
            if slot.kind is SlotKind.FLOOR and home is not None and not home.floors:
                continue
            if slot.kind is SlotKind.DOMAIN:
                properties[slot.name] = {"enum": sorted(spec.domains)}
            else:
                properties[slot.name] = _slot_schema(slot.kind, names, home)
        required = ["intent", *spec.required[:1]] if len(spec.required) == 1 else ["intent"]
        variants.append(
            {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            }
        )
    return {
        "type": "object",
        "properties": {
            "commands": {
                "type": "array",
                "items": {"anyOf": variants},
                "minItems": 1,
                "maxItems": MAX_LINES,
            }
        },
        "required": ["commands"],
        "additionalProperties": False,
    }
