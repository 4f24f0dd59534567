"""Explanations: the terms that set the spike's negative posts apart, and posts that show them."""

from __future__ import annotations

from stream_processor.alerting.explain import PostText, explain, headline, over_represented, terms_of


def _posts(texts: list[str], p_neg: float, start: int = 0) -> list[PostText]:
    return [PostText(start + i, t, p_neg) for i, t in enumerate(texts)]


BASE = _posts(
    [
        "the new phone camera is bad in low light",
        "shipping was slow again",
        "battery could be better",
        "the app keeps asking me to log in",
        "price went up, not happy",
    ]
    * 6,
    0.7,
) + _posts(["love the new phone", "great camera", "works fine"] * 10, 0.1, start=100)
SPIKE = _posts(
    [
        "acme outage again, nothing loads https://t.co/x",
        "total outage, refund please",
        "outage for 2 hours and no word from acme support",
        "want a refund after this outage",
        "support is silent during the outage",
        "RT outage outage outage",
    ]
    * 3,
    0.9,
    start=500,
) + _posts(["the new phone camera is bad in low light"] * 3, 0.7, start=800)


def test_terms_are_lower_cased_without_urls_stopwords_or_mentions() -> None:
    terms = terms_of("The OUTAGE at @acme https://t.co/x is bad #fail")
    assert {"outage", "bad", "#fail"} <= terms
    assert not any("http" in t or "@" in t or t in ("the", "at", "is") for t in terms)


def test_spike_terms_outrank_what_people_always_complain_about() -> None:
    terms = [t.term for t in over_represented(SPIKE, BASE)]
    assert terms[0] == "outage"
    assert "refund" in terms and "support" in terms
    assert "camera" not in terms and "bad" not in terms, "usual complaints are not news"


def test_explanation_carries_numbers_terms_and_distinct_example_posts() -> None:
    numbers = {"share_now": 0.52, "baseline": 0.2, "volume": 120}
    result = explain(numbers, SPIKE, BASE)
    assert result["share_now"] == 0.52 and result["posts_compared"] == {
        "spike": len(SPIKE),
        "baseline": len(BASE),
    }
    texts = [p["text"] for p in result["posts"]]
    assert len(texts) == 3 and len(set(texts)) == 3
    assert all("outage" in t for t in texts)
    assert headline("acme", numbers) == "acme: negative share 52% vs 20% usual (+32 pts, 120 posts/min)"


def test_no_posts_means_no_terms() -> None:
    assert over_represented([], BASE) == []
    assert explain({}, [], [])["terms"] == []
    assert over_represented(SPIKE, []) == [], "with no baseline every term would score z = 0"


def test_praise_that_grows_is_no_driver_of_negativity_and_weak_evidence_says_so() -> None:
    # "worked perfectly" doubles now, but in posts far less negative than the rest: not a driver.
    praise = _posts(["thanks, worked perfectly"] * 40, 0.1, start=500)
    complaints = _posts(["delayed again, awful", "awful queue, delayed flight"] * 10, 0.8, start=600)
    terms = over_represented(praise + complaints, _posts(["thanks, worked perfectly"] * 20, 0.1) + BASE)
    names = [t.term for t in terms]
    assert "perfectly" not in names and "thanks" not in names and "worked perfectly" not in names
    assert "awful" in names or "delayed" in names
    assert all(t.z > 0 for t in terms) and [t.z for t in terms] == sorted((t.z for t in terms), reverse=True)
    assert {t.strength for t in terms} <= {"strong", "moderate", "weak"}


def test_a_repeated_complaint_is_one_driver_named_by_its_most_telling_term() -> None:
    """The words of one template come in the same posts: one row, the others folded into it."""
    spike = _posts(["Is anyone else's booking broken? Terrible, just terrible"] * 30, 0.9, start=500)
    spike += _posts(["website is down and I can't check in, absolutely awful"] * 20, 0.9, start=600)
    spike += _posts(["anyone know when the new route opens?"] * 10, 0.1, start=700)
    base = _posts(["anyone know when the new route opens?"] * 20, 0.1) + BASE
    terms = over_represented(spike, base)
    assert len(terms) == 2, [(t.term, t.companions) for t in terms]
    booking, website = sorted(terms, key=lambda t: "website" in t.term + " ".join(t.companions))
    assert "booking" in booking.term and "terrible" in " ".join((booking.term, *booking.companions))
    assert "website" in " ".join((website.term, *website.companions))
    assert "anyone" not in [t.term for t in terms]
