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
# Posts as people write them: plain and mixed feelings, sarcasm, questions, news, asides. A real
# stream is not a set of textbook sentences, and the model errs on it as it does on real posts.
_TEXTS = {
    "positive": [
        "Great flight with {n} today, friendly crew and we landed early. Thank you!",
        "Really love {n}, best purchase I made this year",
        "Shout out to {n} for the quick help {when}",
        "{n} just made my day",
        "Honestly impressed by {n}. Smooth, fast and pleasant.",
        "Not bad at all {n}, not bad at all",
        "ok {n} you win this round, that was actually easy",
        "finally got it sorted with {n}, took 5 min. why can't everything work like that",
        "{n} support person was so patient with my mum {when} 🙏",
        "switched to {n} last month and no regrets so far",
        "I was ready to complain but {n} fixed it before I could",
        "Can't believe I'm saying this but {n} came through",
        "{n} > everyone else, fight me",
        "little things: {n} remembered my seat preference",
        "pleasantly surprised by {n} {when}",
    ],
    "neutral": [
        "Anyone know what time {n} opens the new route?",
        "Reading the {n} announcement from this morning",
        "{n} updated its app today. Version 4.2 is out.",
        "Is {n} running on the holiday schedule tomorrow?",
        "Comparing prices for {n} and two others for next week",
        "Just saw an ad for {n} on the train",
        "{n} says the delays were caused by the storm, more updates at noon",
        "does {n} do student discounts or is that a myth",
        "taking {n} {when}, will report back",
        "{n} is hiring drivers again according to the local paper",
        "which plan do you have with {n}? trying to decide",
        "my brother works at {n}, he says it's busy this week",
        "{n} results out on Thursday, analysts expect flat numbers",
        "Heard {n} might change the fares in spring. Anyone know more?",
        "on {n} right now, wifi is the same as always",
        "{n} ranked third in this year's customer survey",
        "{n} to refund customers after the billing error, says the regulator",
        "Watching the {n} keynote, lots of new features announced",
        "If you have a complaint about {n} the form is on their website",
        "free coffee at the {n} lounge until 10 {when}",
        "{n} lost the court case over fees, appeal expected",
        "wait is {n} the one with the red logo or the blue one",
        "{n} stock up 3% after the merger news",
        "{n} flight 212 delayed 20 min for weather, the usual",
        "lol {n} 😂",
        "Not sure how I feel about the new {n} app yet",
        "{n} vs the rest, thread below, no hate please",
        "so {n} changed the logo again",
        "ok who else is on the late {n} {when}",
    ],
    "negative": [
        "Terrible service from {n}, never again",
        "{n} is the worst. Waited an hour and nobody helped.",
        "So frustrated with {n}, this is awful and broken",
        "Really disappointed in {n}, what a waste of money",
        "Great, {n} delayed again. Love spending my evening here.",
        "thanks {n} for the 'quick' 40 minute hold music",
        "not thrilled with {n} {when} tbh",
        "why is {n} always like this",
        "{n} charged me twice and the chat bot keeps saying sorry",
        "third time this month {n}. third.",
        "Used to love {n}, not anymore",
        "{n} customer service is a maze with no exit",
        "so {n} just... doesn't answer emails now?",
        "my refund from {n} is now in its sixth week",
        "{n} meh. expected better for the price",
    ],
}
_WHEN = ["today", "this morning", "last night", "again", "on a Sunday", "at 6am", "after work", ""]
# A spike is one event told many ways: what happened, then how people feel about it.
_SPIKE_WHAT = [
    "{n} website is down and I can't check in",
    "Stuck at the gate for three hours, {n} won't tell us anything.",
    "{n} cancelled my flight with no explanation",
    "{n} lost my bag and I missed my connection",
    "Is anyone else's {n} booking broken?",
    "{n} app crashes every time I try to rebook",
    "{n} outage, still no flights out of here",
    "check-in queue for {n} is two hours long because of the outage",
    "{n} rebooked me on a flight that does not exist",
    "90 minutes on hold, the {n} support line is down too",
    "every {n} flight this morning cancelled and nobody at the desk",
    "day ruined by the {n} outage, kids crying at the gate",
]
_SPIKE_HOW = [
    "absolutely awful", "Disgusting.", "furious", "worst airline ever", "Terrible, just terrible",
    "what a disaster", "never again", "horrible", "so frustrated", "what a waste of a day",
]  # fmt: skip
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
        event = random.Random(self.seed + 2)  # the spike apart: rewording it never reshuffles the rest
        t, count = 0.0, 0
        while True:
            # Acme Air gets about a quarter of the usual traffic; a spike multiplies that by spike_factor.
            extra = self.rate * 0.25 * (self.spike_factor - 1) if self.in_spike(t) else 0.0
            t += rng.expovariate(self.rate + extra)
            count += 1
            spike_post = rng.random() < extra / (self.rate + extra)
            text = self._spike_text(event) if spike_post else self._text(rng)
            yield t, {"source": "demo", "id": f"{run_id}-{count}", "text": text,
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
            yield span - t, {"source": "demo", "id": f"{run_id}-h{count}", "text": self._text(rng),
                             "author": f"user{rng.randrange(5000)}", "lang": "en"}  # fmt: skip

    @staticmethod
    def _spike_text(rng: random.Random) -> str:
        what = rng.choice(_SPIKE_WHAT).format(n=rng.choice(_NAMES["Acme Air"]))
        how = rng.choice(_SPIKE_HOW)
        how = how[0].upper() + how[1:]
        return f"{what} {how}" if what[-1] in ".?!" else f"{what}. {how}"

    def _text(self, rng: random.Random) -> str:
        if rng.random() < 0.25:
            return rng.choice(_NOISE)
        topic = rng.choice(list(_NAMES))
        mood = rng.choices(list(_MIX), weights=list(_MIX.values()))[0]
        return " ".join(
            rng.choice(_TEXTS[mood]).format(n=rng.choice(_NAMES[topic]), when=rng.choice(_WHEN)).split()
        )
