"""Word error rate with the normalisation speech-to-text comparisons need.

"Set it to forty percent." and "set it to 40%" count as the same words:
case and punctuation are dropped, and number words become digits.
"""

import re

from local_voice.numbers import words_to_digits

_SYMBOLS = {"%": " percent ", "°": " degrees ", "&": " and ", "-": " "}
_SPELLINGS = {"nevermind": "never mind", "okay": "ok", "alright": "all right"}


def normalize(text: str) -> list[str]:
    """Lower-case words with punctuation removed and numbers as digits."""
    text = text.lower()
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = re.sub(r"(\d)\s*(?=[a-z])", r"\1 ", text)
    text = re.sub(r"(?<=\d):(?=\d)", " ", text)
    text = re.sub(r"[^\w' ]+", " ", text).replace("'", "")
    for spelling, canonical in _SPELLINGS.items():
        text = re.sub(rf"\b{spelling}\b", canonical, text)
    return words_to_digits(text.split())


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
            )
        previous = current
    return previous[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(errors, reference word count) after normalisation."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    return edit_distance(ref, hyp), len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    errors, words = word_errors(reference, hypothesis)
    return errors / max(words, 1)
