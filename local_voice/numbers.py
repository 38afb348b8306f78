"""English number words: the one table, and conversions both ways.

Speech output spells numbers out, transcripts are compared with numbers as digits,
and the conversation agent checks that a number was said; all use these words.
"""

ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)  # ONES[n] says n, below twenty
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
HUNDRED = "hundred"

ONES_VALUES = {word: value for value, word in enumerate(ONES)}
TENS_VALUES = {word: value * 10 for value, word in enumerate(TENS) if word}


def number_to_words(value: int) -> str:
    """English words for a non-negative integer: 1200 -> 'one thousand two hundred'."""
    if value < 20:
        return ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return TENS[tens] + (" " + ONES[ones] if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{ONES[hundreds]} {HUNDRED}" + (" " + number_to_words(rest) if rest else "")
    for scale, name in SCALES:
        if value >= scale:
            high, rest = divmod(value, scale)
            return (
                number_to_words(high) + f" {name}" + (" " + number_to_words(rest) if rest else "")
            )
    raise AssertionError("unreachable")


def words_to_digits(words: list[str]) -> list[str]:
    """The words with number words as digits: ['forty', 'two', 'percent'] -> ['42', 'percent'].

    A tens word takes a following unit ('forty two'), and 'hundred' multiplies the number
    before it ('two hundred' -> '200'); every other word is kept as it is.
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in TENS_VALUES:
            value = TENS_VALUES[word]
            if i + 1 < len(words) and 0 < ONES_VALUES.get(words[i + 1], 0) < 10:
                value += ONES_VALUES[words[i + 1]]
                i += 1
            out.append(str(value))
        elif word in ONES_VALUES:
            out.append(str(ONES_VALUES[word]))
        elif word == HUNDRED and out and out[-1].isdigit():
            out[-1] = str(int(out[-1]) * 100)
        else:
            out.append(word)
        i += 1
    return out
