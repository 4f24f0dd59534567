"""Why an alert fired, in words and numbers: pure functions over the posts of the spike and before it.

Terms: weighted log-odds ratios with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
"Fightin' Words"), comparing the negative side of the spike posts with the negative side of the
baseline posts. Each post counts a term once, weighted by its calibrated negative probability, so
one spammy post cannot dominate and a neutral mention weighs little. Representative posts: the most
negative spike posts that carry the most of those terms, near-duplicates (retweets) folded together.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_URL = re.compile(r"https?://\S+|www\.\S+")
_TOKEN = re.compile(r"[#@]?[^\W\d_][\w'’-]*", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each few for from further had hadn't has hasn't have haven't having he her here hers
    herself him himself his how i i'm i've if in into is isn't it it's its itself just let's me more
    most my myself no nor not now of off on once only or other ought our ours ourselves out over own rt
    same she should so some such than that that's the their theirs them themselves then there there's
    these they they're this those through to too under until up very via was wasn't we we're were
    weren't what when where which while who whom why will with won't would wouldn't you you're your
    yours yourself yourselves amp get got im like just also one really still even anyone anybody else
    anything everyone everybody someone somebody something thing things every""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class PostText:
    """The little an explanation needs of a post."""

    id: int | str
    text: str
    p_neg: float
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    z: float  # log-odds ratio over its standard error: how sure the over-representation is
    log_odds: float
    spike_weight: float  # summed negative probability of the spike posts using it
    base_weight: float
    companions: tuple[str, ...] = ()  # terms found in (nearly) the same posts, folded into this one

    @property
    def strength(self) -> str:
        return strength(self.z)


def strength(z: float) -> str:
    """How sure an over-representation is, in words: strong (z >= 3), moderate (>= 2) or weak."""
    return "strong" if z >= 3 else "moderate" if z >= 2 else "weak"


def term_list(terms: Iterable[dict[str, Any]], markdown: bool = False) -> str:
    """Stored explanation terms for people: 'outage (strong), refund (weak)'."""
    shown = []
    for t in terms:
        name = f"**{t['term']}**" if markdown else t["term"]
        shown.append(f"{name} ({strength(float(t.get('z', 0.0)))})")
    return ", ".join(shown)


def terms_of(text: str) -> set[str]:
    """Distinct unigrams and adjacent-word bigrams of a post, lower-cased, without stopwords or URLs."""
    words = [w.strip("'’-").lower() for w in _TOKEN.findall(_URL.sub(" ", text))]
    words = [w for w in words if len(w) > 1 and not w.startswith("@")]
    kept = {w for w in words if w not in STOPWORDS}
    bigrams = {f"{a} {b}" for a, b in itertools.pairwise(words) if a not in STOPWORDS and b not in STOPWORDS}
    return kept | bigrams


def negative_term_weights(
    posts: Iterable[PostText], uses: defaultdict[str, list[int]] | None = None
) -> tuple[defaultdict[str, float], float]:
    """Per term, the summed negative probability of posts using it; and the total of all posts.
    `uses`, when given, lists the positions of the posts using each term."""
    weights: defaultdict[str, float] = defaultdict(float)
    total = 0.0
    for i, post in enumerate(posts):
        p = min(max(post.p_neg, 0.0), 1.0)
        total += p
        for term in terms_of(post.text):
            weights[term] += p
            if uses is not None:
                uses[term].append(i)
    return weights, total


def over_represented(
    spike: Sequence[PostText], base: Sequence[PostText], top: int = 8, prior: float = 100.0,
    min_weight: float = 1.5,
) -> list[Term]:  # fmt: skip
    """Terms most over-represented in the spike's negative posts compared with the baseline's.

    `prior` is the total pseudo-count of the Dirichlet prior, spread in proportion to each term's
    pooled frequency, so rare terms shrink toward no difference instead of topping the list."""
    uses: defaultdict[str, list[int]] = defaultdict(list)
    spike_w, spike_total = negative_term_weights(spike, uses)
    mean_neg = spike_total / len(spike) if spike else 0.0
    base_w, _base_total = negative_term_weights(base)
    pooled = {t: spike_w.get(t, 0.0) + base_w.get(t, 0.0) for t in spike_w.keys() | base_w.keys()}
    pooled_total = sum(pooled.values())
    if not pooled_total or not spike_total or not base:
        return []  # no baseline, no comparison: every term would score z = 0
    spike_sum, base_sum = sum(spike_w.values()), sum(base_w.values())
    terms = []
    for term, weight in spike_w.items():
        if weight < min_weight or weight / len(uses[term]) < mean_neg - 1e-9:
            continue  # too rare, or its posts are less negative than the rest: not a driver
        a = prior * pooled[term] / pooled_total
        y_i, y_j = weight, base_w.get(term, 0.0)
        delta = math.log((y_i + a) / (spike_sum + prior - y_i - a)) - math.log(
            (y_j + a) / (base_sum + prior - y_j - a)
        )
        z = delta / math.sqrt(1.0 / (y_i + a) + 1.0 / (y_j + a))
        if z > 0:
            terms.append(Term(term, round(z, 3), round(delta, 4), round(y_i, 2), round(y_j, 2)))
    terms.sort(key=lambda t: (-t.z, t.term))
    weights = [min(max(p.p_neg, 0.0), 1.0) for p in spike]
    return _fold_together(_drop_contained(terms), uses, weights)[:top]


def _fold_together(
    terms: list[Term], uses: dict[str, list[int]], weights: list[float], overlap: float = 0.8
) -> list[Term]:
    """One row per group of terms that come in (nearly) the same negative posts: a repeated complaint
    ("is anyone else's booking broken?") is one driver, not five. Overlap is weighted by each post's
    negative probability; the group is named by its most negative, most specific term."""
    groups: list[list[Term]] = []
    posts: list[set[int]] = []
    for term in terms:
        mine = set(uses[term.term])
        for members, theirs in zip(groups, posts, strict=True):
            both = sum(weights[i] for i in mine & theirs)
            either = sum(weights[i] for i in mine | theirs)
            if either and both / either >= overlap:
                members.append(term)
                break
        else:
            groups.append([term])
            posts.append(mine)

    def specific(t: Term) -> tuple[float, int, float]:
        return (t.spike_weight / len(uses[t.term]), len(t.term.split()), t.z)

    folded = []
    for members in groups:
        name = max(members, key=specific)
        rest = tuple(t.term for t in members if t is not name)
        top_z = max(t.z for t in members)
        folded.append(Term(name.term, top_z, name.log_odds, name.spike_weight, name.base_weight, rest))
    return folded


def _drop_contained(terms: list[Term]) -> list[Term]:
    """Keep a bigram's words out of the list when the bigram itself scored higher."""
    kept: list[Term] = []
    for term in terms:
        if any(term.term in other.term.split(" ") for other in kept if " " in other.term):
            continue
        kept.append(term)
    return kept


def representative(posts: Sequence[PostText], terms: Sequence[Term], top: int = 3) -> list[PostText]:
    """Negative spike posts carrying the most over-represented terms; one per near-duplicate text."""
    scores = {t.term: t.z for t in terms}
    ranked = sorted(
        posts,
        key=lambda p: (-(p.p_neg * (1.0 + sum(scores.get(t, 0.0) for t in terms_of(p.text)))), str(p.id)),
    )
    chosen, seen = [], set()
    for post in ranked:
        key = " ".join(sorted(terms_of(post.text)))[:200]
        if post.p_neg < 0.5 or key in seen:
            continue
        seen.add(key)
        chosen.append(post)
        if len(chosen) == top:
            break
    return chosen


def explain(numbers: dict[str, Any], spike: Sequence[PostText], base: Sequence[PostText]) -> dict[str, Any]:
    """The JSON stored with an alert and sent to people: numbers, terms and example posts."""
    terms = over_represented(spike, base)
    posts = representative(spike, terms)
    return {
        **numbers,
        "terms": [
            {
                "term": t.term,
                "z": t.z,
                "spike": t.spike_weight,
                "baseline": t.base_weight,
                "with": list(t.companions),
            }
            for t in terms
        ],
        "posts": [
            {"id": p.id, "text": p.text[:500], "p_neg": round(p.p_neg, 3), "url": p.url} for p in posts
        ],
        "posts_compared": {"spike": len(spike), "baseline": len(base)},
    }


def headline(topic: str, numbers: dict[str, Any]) -> str:
    """One line a person understands: 'acme: negative share 41% vs 18% usual (+23 pts, 120 posts/min)'."""
    share, base = numbers.get("share_now"), numbers.get("baseline")
    if share is None or base is None:
        return f"{topic}: negative spike"
    volume = numbers.get("volume")
    tail = f", {volume} posts/min" if volume else ""
    return f"{topic}: negative share {share:.0%} vs {base:.0%} usual ({(share - base) * 100:+.0f} pts{tail})"
