"""Text handling: what is spoken and where sentences are cut."""

import pytest

from wyoming_tts.models import kokoro_language
from wyoming_tts.sentences import SentenceSplitter
from wyoming_tts.text import ordinal_words, speakable


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("It is 21.5 °C.", "It is twenty one point five degrees Celsius."),
        ("-3°C tonight", "minus three degrees Celsius tonight"),
        ("At 7:30.", "At seven thirty."),
        ("At 7:05 pm", "At seven oh five p m"),
        ("At 18:00", "At eighteen o'clock"),
        ("45% and 1 kW", "forty five percent and one kilowatt"),
        ("$5.99", "five dollars ninety nine cents"),
        ("1,200 steps", "one thousand two hundred steps"),
        ("the 22nd", "the twenty second"),
        ("version 2.5.2", "version two point five point two"),
        ("**Bold** and _it_ 👍🏽", "Bold and it"),
        ('<speak>Hi <break time="1s"/> there</speak>', "Hi there"),
        ("[the docs](https://x.y/z) say", "the docs say"),
        ("# Title\n- one item", "Title\none item"),
    ],
)
def test_speakable(text, spoken):
    assert speakable(text) == spoken


def test_other_languages_keep_digits_for_their_phonemizer():
    assert speakable("Il fait 21 °C 😀", "fr") == "Il fait 21 °C"


def test_ordinals():
    assert [ordinal_words(n) for n in (1, 2, 3, 12, 20, 101)] == [
        "first",
        "second",
        "third",
        "twelfth",
        "twentieth",
        "one hundred first",
    ]


def test_sentences_are_released_as_soon_as_they_end():
    splitter = SentenceSplitter()
    out: list[str] = []
    text = "Hello there! Dr. Smith says it is 21.5 degrees. Bye"
    for index, word in enumerate(text.split(" ")):
        out += splitter.add(word if index == 0 else " " + word)
        if word == "there!":
            assert out == []  # the end is certain only once whitespace follows
        if word == "Dr.":
            assert out == ["Hello there!"]
    assert out == ["Hello there!", "Dr. Smith says it is 21.5 degrees."]
    assert list(splitter.finish()) == ["Bye"]


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("Your timer for ten minutes has started.", ["Your timer for ten minutes has started."]),
        (
            "Okay, I turned on the kitchen lights and the porch light. Done.",
            ["Okay,", "I turned on the kitchen lights and the porch light.", "Done."],
        ),
        (
            "I turned off the kitchen lights and locked the front door. Anything else?",
            ["I turned off the kitchen lights", "and locked the front door.", "Anything else?"],
        ),
    ],
)
def test_a_long_first_sentence_is_cut_early_so_speech_starts_sooner(text, pieces):
    splitter = SentenceSplitter()
    assert [*splitter.add(text), *splitter.finish()] == pieces
    streamed = SentenceSplitter()  # the same pieces when the text arrives word by word
    out: list[str] = []
    for index, word in enumerate(text.split(" ")):
        out += streamed.add(word if index == 0 else " " + word)
    assert [*out, *streamed.finish()] == pieces


def test_text_without_sentence_ends_is_cut_into_bounded_pieces():
    splitter = SentenceSplitter(max_chars=300)
    pieces = list(splitter.add("word " * 2000)) + list(splitter.finish())
    assert all(0 < len(piece) <= 300 for piece in pieces)
    assert " ".join(pieces).split() == ["word"] * 2000


def test_kokoro_voice_languages_come_from_the_name():
    assert [kokoro_language(n) for n in ("af_heart", "bm_george", "jf_alpha", "zm_yunxi")] == [
        "en_US",
        "en_GB",
        "ja",
        "zh",
    ]
    assert [kokoro_language(n) for n in ("ef_dora", "ff_siwis", "hf_alpha", "if_sara")] == [
        "es",
        "fr",
        "hi",
        "it",
    ]
    assert kokoro_language("pm_alex") == "pt_BR" and kokoro_language("xx") is None
