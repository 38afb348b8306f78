"""Making text speakable: markup and emoji removed, numbers, times and units in words.

Assistants answer with markdown, emoji and the odd SSML-like tag, and state
values as "21.5 °C" or "7:30". Markup is stripped for every language; numbers,
times and units are spelt out in English for English voices (other languages
keep their digits for the phonemizer, which reads them in that language).
"""

import re
import unicodedata

from local_voice.numbers import ONES, number_to_words

_MINUS = "-\u2212"  # hyphen-minus and the minus sign
_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

# Units after a number, longest first; the value's plural is used unless it is exactly 1.
_UNITS = {
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "℃": ("degree Celsius", "degrees Celsius"),
    "℉": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "%": ("percent", "percent"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "kW": ("kilowatt", "kilowatts"),
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "hPa": ("hectopascal", "hectopascals"),
    "mm": ("millimeter", "millimeters"),
    "cm": ("centimeter", "centimeters"),
    "km": ("kilometer", "kilometers"),
    "kg": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "ms": ("millisecond", "milliseconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "s": ("second", "seconds"),
}
_CURRENCIES = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds")}

_SSML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(\s[^<>]*)?/?>")
_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~|`)(?=\S)(.+?)(?<=\S)\1")
_LINE_MARK = re.compile(r"^\s*(#{1,6}\s+|[-*+•]\s+|>\s*|\d+[.)]\s+)", re.MULTILINE)
_STRAY_MARKS = re.compile(r"[*_`#|~<>{}\[\]\\^]+")
_URL = re.compile(r"https?://\S+")

_UNIT_NAMES = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_NUMBER = rf"[{_MINUS}]?\d[\d,]*(?:\.\d+)?"
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(\s*[AaPp]\.?[Mm]\.?\b)?")
_MONEY = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d{1,2})?)")
_WITH_UNIT = re.compile(rf"({_NUMBER})\s?({_UNIT_NAMES})(?![A-Za-z])")
_DOTTED = re.compile(r"\b\d+(?:\.\d+){2,}\b")  # versions, IP addresses
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_BARE_NUMBER = re.compile(rf"(?<![\w.]){_NUMBER}")


def speakable(text: str, language: str = "en") -> str:
    """The text with what can't be spoken removed and (for English) numbers in words."""
    text = strip_markup(text)
    if language.lower().startswith("en"):
        text = spell_numbers(text)
    return re.sub(r"[ \t]+", " ", text).strip()


def strip_markup(text: str) -> str:
    """Remove SSML-like tags, markdown, URLs and emoji, keeping the words."""
    text = _SSML_TAG.sub(" ", text)
    text = _CODE_BLOCK.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    for _ in range(2):  # nested emphasis: ***bold italic*** or **_x_**
        text = _EMPHASIS.sub(r"\2", text)
    text = _LINE_MARK.sub("", text)
    text = _STRAY_MARKS.sub(" ", text)
    return "".join(ch for ch in text if _speakable_char(ch))


def _speakable_char(ch: str) -> bool:
    if ch in "°℃℉%$€£\n":
        return True
    category = unicodedata.category(ch)
    # Symbols (emoji, dingbats), format marks (zero-width joiners), private use, controls.
    return not (category in ("So", "Sk", "Cf", "Co", "Cs") or (category == "Cc" and ch != "\t"))


def spell_numbers(text: str) -> str:
    """English words for times, money, numbers with units, ordinals and plain numbers."""
    text = _TIME.sub(_time_words, text)
    text = _MONEY.sub(_money_words, text)
    text = _WITH_UNIT.sub(_unit_words, text)
    text = _DOTTED.sub(
        lambda m: " point ".join(number_words(p) for p in m.group().split(".")), text
    )
    text = _ORDINAL.sub(lambda m: ordinal_words(int(m.group(1))), text)
    return _BARE_NUMBER.sub(lambda m: number_words(m.group()), text)


def _time_words(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    suffix = (match.group(3) or "").strip().replace(".", "").lower()
    words = number_to_words(hour)
    if minute == 0:
        words += " o'clock" if not suffix else ""
    elif minute < 10:
        words += " oh " + number_to_words(minute)
    else:
        words += " " + number_to_words(minute)
    if suffix:
        words += " a m" if suffix == "am" else " p m"
    return words


def _money_words(match: re.Match[str]) -> str:
    singular, plural = _CURRENCIES[match.group(1)]
    whole, _, cents = match.group(2).replace(",", "").partition(".")
    words = f"{number_to_words(int(whole))} {singular if int(whole) == 1 else plural}"
    if cents and int(cents):
        words += f" {number_to_words(int(cents.ljust(2, '0')))} cents"
    return words


def _unit_words(match: re.Match[str]) -> str:
    value, unit = match.group(1), match.group(2)
    singular, plural = _UNITS[unit]
    one = value.replace(",", "").lstrip(_MINUS) == "1"
    return f"{number_words(value)} {singular if one else plural}"


def number_words(number: str) -> str:
    """'-21.5' -> 'minus twenty one point five'; '1,200' -> 'one thousand two hundred'."""
    sign = ""
    if number[0] in _MINUS:
        sign, number = "minus ", number[1:]
    whole, _, fraction = number.replace(",", "").partition(".")
    words = number_to_words(int(whole)) if whole else "zero"
    if fraction:
        words += " point " + " ".join(ONES[int(digit)] for digit in fraction)
    return sign + words


def ordinal_words(value: int) -> str:
    """'first', 'twenty second', 'one hundredth'."""
    words = number_to_words(value).split()
    last = words[-1]
    if last in _ORDINALS:
        words[-1] = _ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)
