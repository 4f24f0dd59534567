"""Which words carry a topic's negativity now compared with its baseline (weighted log-odds)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"[#@]?[^\W\d_][\w'’-]*", re.UNICODE)
_URL = re.compile(r"https?://\S+|www\.\S+")
_STOPWORD_TEXT = """a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves i'm it's don't can't won't isn't
that's there's they're we're you're i've i'll rt amp via get got one also still really"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class Term:
    """A term and how much more of the negative mass it carries now than in the baseline."""

    term: str
    now: float
    baseline: float
    lift: float


def tokens(text: str) -> set[str]:
    """The distinct content words of a post, lower-cased; hashtags and mentions kept as such."""
    words = _TOKEN.findall(_URL.sub(" ", text.lower()))
    return {w.strip("'’-") for w in words if len(w) >= 3 and w not in STOPWORDS}


def negative_mass(posts: Iterable[tuple[str, float]]) -> Counter[str]:
    """Each term weighted by the negative probability of the posts that contain it."""
    mass: Counter[str] = Counter()
    for text, p_neg in posts:
        for term in tokens(text):
            mass[term] += p_neg
    return mass


def driving_terms(
    now: Iterable[tuple[str, float]],
    baseline: Iterable[tuple[str, float]],
    top: int = 10,
    min_mass: float = 1.0,
    prior: float = 0.5,
) -> list[Term]:
    """Terms whose share of negative mass rose most from baseline to now (smoothed log-ratio).

    `now` and `baseline` are (text, negative probability) pairs; a term needs at least
    `min_mass` negative mass now so that one stray post cannot top the list.
    """
    mass_now, mass_base = negative_mass(now), negative_mass(baseline)
    vocab = len(set(mass_now) | set(mass_base)) or 1
    total_now = sum(mass_now.values()) + prior * vocab
    total_base = sum(mass_base.values()) + prior * vocab
    terms = []
    for term, weight in mass_now.items():
        if weight < min_mass:
            continue
        base = mass_base.get(term, 0.0)
        lift = math.log((weight + prior) / total_now) - math.log((base + prior) / total_base)
        if lift > 0:
            terms.append(Term(term, round(weight, 2), round(base, 2), round(lift, 3)))
    terms.sort(key=lambda t: (t.lift, t.now), reverse=True)
    return terms[:top]
