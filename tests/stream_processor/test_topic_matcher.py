"""Topic matching: word boundaries, sigils, Unicode, several topics per post, and speed at scale."""

import random
import time

from stream_processor.matcher import TopicMatcher


def _m(**rules: str) -> TopicMatcher:
    return TopicMatcher.from_rules({int(k[1:]): v for k, v in rules.items()})


def test_keywords_match_on_word_boundaries_only() -> None:
    m = _m(t1="acme")
    assert m.match("I like Acme.") == [1]
    assert m.match("acme's new phone") == [1]
    assert m.match("ACME-corp") == [1]
    assert m.match("acmecorp and subacme") == []


def test_keyword_also_matches_inside_hashtags_and_handles_but_sigils_are_strict() -> None:
    m = _m(t1="acme", t2="#acme", t3="@acme", t4="$acme")
    assert m.match("#Acme rocks") == [1, 2]
    assert m.match("thanks @acme!") == [1, 3]
    assert m.match("$ACME up 5%") == [1, 4]
    assert m.match("foo#acme") == [1]  # not a hashtag: "#" inside a word


def test_handles_do_not_match_longer_handles() -> None:
    m = _m(t1="@alice")
    assert m.match("cc @alice.bsky.social") == []
    assert m.match("cc @alice@mastodon.social") == []
    assert m.match("thanks @alice. bye") == [1]


def test_phrases_ignore_case_and_spacing() -> None:
    m = _m(t1='"acme corp"')
    assert m.match("ACME   Corp\nrocks") == [1]
    assert m.match("acme corporation") == []


def test_unicode_words_and_unspaced_scripts() -> None:
    m = _m(t1="café", t2="東京", t3="straße", t4="naïve")
    assert m.match("Un CAFÉ noir") == [1]
    assert m.match("cafés") == []
    assert m.match("我爱東京塔") == [2]
    assert m.match("STRASSE gesperrt") == [3]
    assert m.match("a naïveté") == []


def test_post_matches_several_topics_and_exclusions_apply_per_topic() -> None:
    m = _m(t1='#acme OR "acme corp" -hiring', t2="acme AND (outage OR down)", t3="phone")
    assert m.match("Acme Corp outage, phone lines down") == [1, 2, 3]
    assert m.match("#acme is hiring, phone us") == [3]


def test_bad_rules_are_reported_and_skipped() -> None:
    m = TopicMatcher.from_rules({1: "acme", 2: "(broken"})
    assert m.topic_ids == [1]
    assert "never closed" in m.errors[2]
    assert m.match("acme (broken") == [1]


def test_empty_matcher_matches_nothing() -> None:
    assert TopicMatcher().match("anything") == []


def test_hundreds_of_topics_and_thousands_of_terms_stay_fast() -> None:
    rng = random.Random(7)
    words = [f"w{i:05d}" for i in range(20000)]
    rules = {t: " OR ".join(rng.sample(words, 10)) + f" -{rng.choice(words)}" for t in range(1, 501)}
    m = TopicMatcher.from_rules(rules)
    assert m.pattern_count > 4000
    texts = [" ".join(rng.sample(words, 30)) for _ in range(2000)]
    started = time.perf_counter()
    results = [m.match(t) for t in texts]
    elapsed = time.perf_counter() - started
    # Cross-check a sample against the plain definition of the rules.
    for text, got in list(zip(texts, results, strict=True))[:200]:
        present = set(text.split())
        want = [t for t, r in rules.items() if _plain(r, present)]
        assert got == want
    assert elapsed < 2.0, f"2000 posts against 500 topics took {elapsed:.2f}s"


def _plain(rule: str, present: set[str]) -> bool:
    anys, excluded = rule.split(" -")
    return any(w in present for w in anys.split(" OR ")) and excluded not in present
