"""What the model writes, in two shapes: compact lines (embedded model) and JSON (remote).

Compact, one line per command, the cheapest to generate (a name comes first, keyless):

    TurnOff Kitchen Lights
    Lock Front Door
    LightSet area=Bedroom;domain=light;brightness=40
    Say It is a pleasure.
    Unknown pool heater

JSON, for OpenAI-compatible servers with schema-constrained output:

    {"commands": [{"intent": "HassTurnOff", "name": "Kitchen Lights"}]}
"""

import json
from dataclasses import dataclass, field

from .intents import ACTIONS, BY_VERB, INTENTS, SAY, UNKNOWN, SlotValue

MAX_LINES = 4
MAX_TEXT_CHARS = 300


@dataclass(frozen=True)
class Line:
    """One parsed, not yet validated, line of model output."""

    verb: str  # an intent's verb (TurnOff), Say or Unknown
    slots: dict[str, SlotValue] = field(default_factory=dict)
    text: str = ""  # Say's answer or Unknown's device

    @property
    def intent(self) -> str | None:
        spec = BY_VERB.get(self.verb)
        return spec.name if spec else None


class OutputError(ValueError):
    """Model output that is not in the expected shape."""


# Verbs the small model writes now and then for the ones it was shown.
VERB_ALIASES = {
    "SetTemperature": "ClimateSetTemperature",
    "GetTemperature": "ClimateGetTemperature",
    "Shut": "Close",
    "Raise": "Open",
    "Lower": "Close",
    "SetBrightness": "LightSet",
    "SetColor": "LightSet",
    "Pause": "MediaPause",
    "Unpause": "MediaUnpause",
    "Resume": "MediaUnpause",
    "Next": "MediaNext",
    "Volume": "SetVolume",
    "GetTime": "GetCurrentTime",
    "Weather": "GetWeather",
}
_VERBS = {verb.lower(): verb for verb in [*BY_VERB, *VERB_ALIASES, SAY, UNKNOWN]}


def parse_compact_line(line: str) -> Line:
    line = line.strip()
    verb, _, rest = line.partition(" ")
    verb = _VERBS.get(verb.lower(), verb)
    verb = VERB_ALIASES.get(verb, verb)
    if verb in (SAY, UNKNOWN):
        if not rest.strip():
            raise OutputError(f"{verb} without text")
        return Line(verb, text=rest.strip()[:MAX_TEXT_CHARS])
    if verb not in BY_VERB:
        raise OutputError(f"unknown verb {verb!r}")
    slots: dict[str, SlotValue] = {}
    for index, pair in enumerate(filter(None, (piece.strip() for piece in rest.split(";")))):
        key, sep, value = pair.partition("=")
        if not sep and index == 0:
            slots["name"] = pair  # the name needs no key: two tokens fewer to generate
            continue
        if not sep or not key.strip() or not value.strip():
            raise OutputError(f"bad slot {pair!r}")
        slots[key.strip()] = value.strip()
    return Line(verb, slots)


def render_compact(line: Line) -> str:
    if line.verb in (SAY, UNKNOWN):
        return f"{line.verb} {line.text}"
    pieces = [str(line.slots["name"])] if "name" in line.slots else []
    pieces += [f"{key}={value}" for key, value in line.slots.items() if key != "name"]
    return f"{line.verb} {';'.join(pieces)}" if pieces else line.verb


def parse_json(text: str) -> list[Line]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise OutputError(f"not JSON: {err}") from err
    items = document.get("commands") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        raise OutputError("no 'commands' list")
    lines = []
    for item in items[:MAX_LINES]:
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str):
            raise OutputError(f"bad command {item!r}")
        name = item["intent"]
        if name in (SAY, UNKNOWN):
            lines.append(Line(name, text=str(item.get("text") or "")[:MAX_TEXT_CHARS]))
            continue
        spec = INTENTS.get(name) or ACTIONS.get(name)
        if spec is None:
            raise OutputError(f"unknown intent {name!r}")
        slots = {
            key: value
            for key, value in item.items()
            if key != "intent" and isinstance(value, str | int | float) and value != ""
        }
        lines.append(Line(spec.verb, slots))
    return lines


def render_json(lines: list[Line]) -> str:
    commands: list[dict[str, SlotValue]] = []
    for line in lines:
        if line.verb in (SAY, UNKNOWN):
            commands.append({"intent": line.verb, "text": line.text})
        else:
            spec = BY_VERB.get(line.verb)
            commands.append({"intent": spec.written if spec else line.verb, **line.slots})
    return json.dumps({"commands": commands}, ensure_ascii=False)
