"""The home's context a client sends with a transcript: entities, areas, floors.

Everything here comes from the client and is treated as data: strings are
cleaned (no newlines, bounded length) and counts are bounded before any of it
reaches a prompt or a grammar.
"""

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_ENTITIES = 300
MAX_AREAS = 100
MAX_ALIASES = 8
MAX_NAME_CHARS = 60
_ARTICLES = re.compile(r"^(the|my|our|a|an)\s+")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f;=\\\"]")  # control characters and output delimiters


class ContextError(ValueError):
    """The transcript's context is not shaped as the contract says."""


def clean_name(value: object) -> str:
    """A name safe to put in a prompt and a grammar: one line, no delimiters; '' if too long."""
    if not isinstance(value, str):
        return ""
    text = " ".join(_UNSAFE.sub(" ", value).split())
    return text if len(text) <= MAX_NAME_CHARS else ""


def normalize(text: str) -> str:
    """Lower-case words without articles, punctuation or a plural 's': for matching."""
    words = re.sub(r"[^\w ]", " ", text.lower()).split()
    text = _ARTICLES.sub("", " ".join(words))
    return " ".join(
        word[:-1] if len(word) > 3 and word.endswith("s") else word for word in text.split()
    )


@dataclass(frozen=True)
class Entity:
    entity_id: str
    name: str
    domain: str
    aliases: tuple[str, ...] = ()
    area: str | None = None
    device_class: str | None = None
    state: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Place:
    """An area or a floor: its name and aliases."""

    name: str
    aliases: tuple[str, ...] = ()


class Lexicon:
    """Canonical names and their aliases, matched exactly, then loosely."""

    def __init__(self, entries: dict[str, tuple[str, ...]]) -> None:
        self.canonical: dict[str, str] = {}
        for name, aliases in entries.items():
            for spoken in (name, *aliases):
                self.canonical.setdefault(normalize(spoken), name)
        self.spoken = sorted({s for name, aliases in entries.items() for s in (name, *aliases)})

    def match(self, value: str) -> str | None:
        """The canonical name for a spoken name or alias, or None."""
        key = normalize(value)
        if key in self.canonical:
            return self.canonical[key]
        close = difflib.get_close_matches(key, list(self.canonical), n=1, cutoff=0.85)
        return self.canonical[close[0]] if close else None


@dataclass
class Home:
    """The exposed entities, areas and floors of the user's home."""

    entities: tuple[Entity, ...]
    areas: tuple[Place, ...]
    floors: tuple[Place, ...]

    def __post_init__(self) -> None:
        self.names = Lexicon({e.name: e.aliases for e in self.entities})
        self.area_names = Lexicon({a.name: a.aliases for a in self.areas})
        self.floor_names = Lexicon({f.name: f.aliases for f in self.floors})
        self.by_name = {entity.name: entity for entity in self.entities}

    @property
    def key(self) -> str:
        """Identifies what the prompt shows of this home (states are not part of it)."""
        static = [
            [[e.name, e.domain, e.area, list(e.aliases)] for e in self.entities],
            [[a.name, list(a.aliases)] for a in self.areas],
            [[f.name, list(f.aliases)] for f in self.floors],
        ]
        return hashlib.sha256(json.dumps(static).encode()).hexdigest()[:16]

    def names_for(self, domains: frozenset[str]) -> list[str]:
        """Entity names and aliases of entities in these domains."""
        return sorted(
            {s for e in self.entities if e.domain in domains for s in (e.name, *e.aliases)}
        )

    def entities_in(self, area: str, domain: str | None = None) -> list[Entity]:
        return [e for e in self.entities if e.area == area and domain in (None, e.domain)]

    @staticmethod
    def from_context(context: object) -> "Home | None":
        """The `home` part of a transcript's context, or None when there is none."""
        if not isinstance(context, dict) or context.get("home") is None:
            return None
        home = context["home"]
        if not isinstance(home, dict):
            raise ContextError("context.home must be an object")
        entities = _entities(home.get("entities") or [])
        areas = _places(home.get("areas") or [], "areas")
        known = {a.name for a in areas}
        areas += tuple(Place(e.area) for e in entities if e.area and e.area not in known)
        areas = tuple({a.name: a for a in areas}.values())[:MAX_AREAS]
        return Home(entities, areas, _places(home.get("floors") or [], "floors"))


def _aliases(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(a for a in map(clean_name, value[:MAX_ALIASES]) if a))


def _places(value: object, what: str) -> tuple[Place, ...]:
    if not isinstance(value, list):
        raise ContextError(f"context.home.{what} must be a list")
    places = []
    for item in value[:MAX_AREAS]:
        if isinstance(item, dict) and (name := clean_name(item.get("name"))):
            places.append(Place(name, _aliases(item.get("aliases"))))
    return tuple(places)


def _entities(value: object) -> tuple[Entity, ...]:
    if not isinstance(value, list):
        raise ContextError("context.home.entities must be a list")
    entities: dict[str, Entity] = {}
    for item in value[:MAX_ENTITIES]:
        if not isinstance(item, dict):
            continue
        entity_id = str(item.get("entity_id") or "")
        domain = str(item.get("domain") or entity_id.partition(".")[0])
        name = clean_name(item.get("name"))
        if not name or not re.fullmatch(r"[a-z_]+", domain) or name in entities:
            continue
        attributes = item.get("attributes")
        entities[name] = Entity(
            entity_id=entity_id,
            name=name,
            domain=domain,
            aliases=_aliases(item.get("aliases")),
            area=clean_name(item.get("area")) or None,
            device_class=clean_name(item.get("device_class")) or None,
            state=clean_name(item.get("state")) or None,
            attributes=attributes if isinstance(attributes, dict) else {},
        )
    return tuple(entities.values())
