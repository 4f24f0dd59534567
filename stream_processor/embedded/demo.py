"""The built-in demo scenario: a few topics, realistic posts, and a scripted negative spike (no I/O)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DEMO_TOPICS: dict[str, str] = {
    "Acme Air": '"acme air" OR #acmeair OR @acmeair -hiring',
    "Nimbus Phone": '"nimbus phone" OR #nimbusphone OR $NMBS OR @nimbus',
    "City Transit": '"city transit" OR #citytransit OR (bus AND (late OR delayed OR cancelled))',
}

_NAMES = {
    "Acme Air": ["Acme Air", "@AcmeAir", "#AcmeAir", "acme air"],
    "Nimbus Phone": ["Nimbus Phone", "the #NimbusPhone", "my Nimbus phone", "@nimbus"],
    "City Transit": ["City Transit", "#CityTransit", "city transit"],
}
_TEXTS = {
    "positive": [
        "Great flight with {n} today, friendly crew and we landed early. Thank you!",
        "Really love {n}, best purchase I made this year",
        "Shout out to {n} for the quick help, amazing service",
        "{n} just made my day, everything worked perfectly",
        "Honestly impressed by {n}. Smooth, fast and pleasant.",
        "Thanks {n}! Wonderful experience, would recommend",
    ],
    "neutral": [
        "Anyone know what time {n} opens the new route?",
        "Reading the {n} announcement from this morning",
        "{n} updated its app today. Version 4.2 is out.",
        "Is {n} running on the holiday schedule tomorrow?",
        "Comparing prices for {n} and two others for next week",
        "Just saw an ad for {n} on the train",
    ],
    "negative": [
        "Terrible service from {n}, never again",
        "{n} is the worst. Waited an hour and nobody helped.",
        "So frustrated with {n}, this is awful and broken",
        "Really disappointed in {n}, what a waste of money",
        "{n} ruined my whole day, horrible experience",
        "Ugh {n} failed again. Hate this.",
    ],
}
_SPIKE = [
    "{n} website is down and I can't check in, absolutely awful",
    "Stuck at the gate for three hours, {n} won't tell us anything. Disgusting.",
    "{n} cancelled my flight with no explanation, furious",
    "Worst day ever thanks to {n}, lost my bag and missed my connection",
    "Is anyone else's {n} booking broken? Terrible, just terrible",
    "{n} outage is a disaster, hundreds of angry people here",
]
_NOISE = [
    "Coffee first, then everything else",
    "What a beautiful morning for a run",
    "Watching the game tonight with friends",
    "Can't believe it's already Friday",
    "New recipe turned out pretty well",
    "Traffic on the bridge is slow again",
]
_MIX = {"positive": 0.35, "neutral": 0.4, "negative": 0.25}


@dataclass(frozen=True)
class DemoScenario:
    """Posts arrive at `rate` per second; every `spike_every` seconds Acme Air has an outage spike."""

    rate: float = 6.0
    spike_start: float = 90.0
    spike_length: float = 210.0
    spike_every: float = 900.0
    spike_factor: float = 4.0
    seed: int = 7

    def in_spike(self, t: float) -> bool:
        return t >= self.spike_start and (t - self.spike_start) % self.spike_every < self.spike_length

    def arrivals(self, run_id: str) -> Iterator[tuple[float, dict[str, Any]]]:
        """Endless (seconds since start, post fields) pairs; the caller sleeps and stamps created_at."""
        rng = random.Random(self.seed)
        t, count = 0.0, 0
        while True:
            # Acme Air gets about a quarter of the usual traffic; a spike multiplies that by spike_factor.
            extra = self.rate * 0.25 * (self.spike_factor - 1) if self.in_spike(t) else 0.0
            t += rng.expovariate(self.rate + extra)
            count += 1
            spike_post = rng.random() < extra / (self.rate + extra)
            yield t, {"source": "demo", "id": f"{run_id}-{count}", "text": self._text(rng, spike_post),
                      "author": f"user{rng.randrange(5000)}", "lang": "en"}  # fmt: skip

    def history(self, run_id: str, minutes: int) -> Iterator[tuple[float, dict[str, Any]]]:
        """The `minutes` before the start at the usual rate and mix, no spike: (seconds before the start,
        post fields). A demo that starts with this behind it has a baseline, so its spike can alert
        at once instead of after the detector's warm-up."""
        rng = random.Random(self.seed + 1)
        t, count, span = 0.0, 0, minutes * 60.0
        while True:
            t += rng.expovariate(self.rate)
            if t >= span:
                return
            count += 1
            yield span - t, {"source": "demo", "id": f"{run_id}-h{count}", "text": self._text(rng, False),
                             "author": f"user{rng.randrange(5000)}", "lang": "en"}  # fmt: skip

    def _text(self, rng: random.Random, spike_post: bool) -> str:
        if spike_post:
            return rng.choice(_SPIKE).format(n=rng.choice(_NAMES["Acme Air"]))
        if rng.random() < 0.25:
            return rng.choice(_NOISE)
        topic = rng.choice(list(_NAMES))
        mood = rng.choices(list(_MIX), weights=list(_MIX.values()))[0]
        return rng.choice(_TEXTS[mood]).format(n=rng.choice(_NAMES[topic]))
