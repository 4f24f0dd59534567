"""Tokenizer and SemEval-escape behaviour, including hostile inputs."""

from __future__ import annotations

import pytest

from model.text import (
    ALLCAPS,
    ELONG,
    HASHTAG,
    HEART,
    LOL,
    NUMBER,
    REPEAT,
    SAD,
    SMILE,
    URL,
    USER,
    tokenize,
    undo_semeval_escapes,
)


def test_tweet_features_become_marker_tokens():
    toks = tokenize("@Bob SOOOO happy #Blessed http://t.co/abc www.x.org 3.39 :) :( :D <3")
    assert toks == [
        USER,
        ALLCAPS,
        "soo",
        ELONG,
        "happy",
        HASHTAG,
        "blessed",
        URL,
        URL,
        NUMBER,
        SMILE,
        SAD,
        LOL,
        HEART,
    ]


def test_contractions_and_curly_apostrophes_are_one_token():
    assert tokenize("I’m sure you don't") == ["i'm", "sure", "you", "don't"]


def test_repeated_punctuation_is_collapsed_with_a_marker():
    assert tokenize("what?!?!") == ["what", "?", "!", REPEAT]
    assert tokenize("no!!!!") == ["no", "!", REPEAT]


def test_html_entities_and_escapes_are_decoded():
    assert tokenize("fish &amp; chips") == ["fish", "&", "chips"]
    assert tokenize("caf\\u00e9 ok") == ["café", "ok"]


def test_emoji_are_kept_and_skin_tones_dropped():
    assert tokenize("nice 👍🏽😂😂") == ["nice", "👍", "😂", "😂"]


def test_semeval_escapes_and_wrapping_quotes_are_undone():
    raw = '"Why is \\""""Happy Day\\"""" trending? It\\u2019s 14\\u002c not 12"'
    assert undo_semeval_escapes(raw) == 'Why is "Happy Day" trending? It’s 14, not 12'
    assert undo_semeval_escapes("plain text") == "plain text"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\t\n",
        "😂",
        "🤷\u200d♀️",
        "这是中文",
        "текст и ещё",
        "مرحبا بالعالم",
        "\x00\x01",
        "\\u",
        "\\uZZZZ",
        "&#xD800;",
        "\ud800",
        "a" * 100_000,
        ":" * 500,
        "#" * 50,
        "@" * 50,
    ],
)
def test_hostile_inputs_never_crash_and_stay_bounded(text):
    toks = tokenize(text)
    assert isinstance(toks, list)
    assert len(toks) <= 64
    assert all(isinstance(t, str) and t for t in toks)


def test_empty_and_emoji_only_texts():
    assert tokenize("") == []
    assert tokenize("😂") == ["😂"]


def test_length_is_bounded():
    assert len(tokenize("word " * 1000)) == 64
    assert len(tokenize("word " * 1000, max_tokens=10)) == 10
