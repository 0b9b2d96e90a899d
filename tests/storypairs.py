"""The near-duplicate pair set: hand-written articles and the copies outlets make of them.

Shared by the golden tests (tests/test_stories_golden.py) and bench/README.md's
measurement. Each pair says whether the two texts are one story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COUNCIL = """\
The city council voted 7 to 2 on Tuesday night to approve Mayor Elena Varga's plan to \
turn the disused rail yard on the east bank into 1,200 homes, a school and a riverside park, \
ending a dispute that has stalled the site for nearly a decade.

Under the plan, a third of the homes will be let below market rents, and the developer will \
pay for a new footbridge linking the yard to the old town. Construction is due to begin next \
spring and to last six years.

Opponents, led by councillor Tomas Reiner, argued that the yard should stay in public hands \
and warned that the footbridge alone would not relieve traffic on the ring road. Residents \
packed the chamber for more than four hours of debate, and several were removed after \
interrupting the vote.

Varga said after the meeting that the decision would give young families a reason to stay in \
the city. "We have waited long enough for this land to work for the people who live here," \
she told reporters on the steps of the town hall."""

VARGA_TRIAL = """\
Mayor Elena Varga appeared in court on Tuesday morning as a witness in the fraud trial of a \
former procurement officer accused of steering road maintenance contracts to a company owned \
by his brother-in-law between 2019 and 2022.

Varga, who took office after the contracts were signed, told the court she had ordered an \
internal audit within weeks of her election after noticing that the city paid almost twice \
the regional average for resurfacing. The audit found 37 contracts awarded without a tender.

The defence questioned why the audit took eleven months and suggested that the mayor had used \
it to discredit her predecessor. Varga rejected the claim, saying the auditors had worked \
independently and that she had not seen their findings until they were sent to prosecutors.

The trial, which began last month, is expected to hear from a further twenty witnesses. The \
former officer denies all charges and faces up to eight years in prison if convicted."""

HARBOUR = """\
Dock workers at the northern harbour began a 48-hour strike at dawn on Wednesday over pay and \
the introduction of automated cranes, leaving more than forty container ships waiting at \
anchor outside the breakwater and halting most freight traffic through the port.

The union says the port operator has offered a rise of 2.5 per cent, well below inflation, and \
wants guarantees that no jobs will be lost when the new cranes enter service next year. The \
operator says the cranes will make the port competitive and that staff will be retrained.

Hauliers warned that supermarket deliveries could be disrupted by the weekend if the strike \
is extended. Talks between the two sides are due to resume on Friday under the supervision of \
a government mediator, the labour ministry said in a statement."""

FOOTER = """\
This article is part of our free morning briefing. Sign up to receive the day's most \
important stories from the region in your inbox every weekday at 7am, along with analysis \
from our correspondents, the best of our opinion pages and a weekly roundup of culture and \
sport. You can unsubscribe at any time using the link at the bottom of every email. Our \
journalism is funded by readers like you: support independent local reporting from just \
three euros a month and help us keep our website free for everyone."""

WIRE = """\
Regional rail services between the capital and the coast were suspended on Monday after a \
freight train derailed near Ostrava, the rail operator said; no injuries were reported."""

WIRE_OTHER = """\
Flights at the capital's main airport were delayed by up to three hours on Monday after a \
fault in the air traffic control system, the airport operator said; no cancellations yet."""


@dataclass(frozen=True)
class Pair:
    name: str
    first: str
    second: str
    same_story: bool | None  # None: no verdict required (reported, not asserted)


def changed_words(text: str, share: float, seed: int = 7) -> str:
    """The text with `share` of its words replaced by other words (an outlet's edit)."""
    rng = random.Random(seed)
    words = text.split(" ")
    for index in rng.sample(range(len(words)), round(len(words) * share)):
        words[index] = rng.choice(["reportedly", "also", "local", "new", "major", "said", "big"])
    return " ".join(words)


def with_footer(body: str) -> str:
    return f"{body}\n\n{FOOTER}"


PAIRS = [
    Pair("new headline (body unchanged)", COUNCIL, COUNCIL, True),
    Pair("3% of words changed", COUNCIL, changed_words(COUNCIL, 0.03), True),
    Pair("10% of words changed", COUNCIL, changed_words(COUNCIL, 0.10), True),
    Pair("30% of words changed", COUNCIL, changed_words(COUNCIL, 0.30), None),
    Pair("80-word footer added", COUNCIL, with_footer(COUNCIL), True),
    Pair("footer added to a short article", HARBOUR, with_footer(HARBOUR), True),
    Pair("different articles, same footer", with_footer(COUNCIL), with_footer(HARBOUR), False),
    Pair("same person, same day, other story", COUNCIL, VARGA_TRIAL, False),
    Pair(
        "same person, both with the footer", with_footer(COUNCIL), with_footer(VARGA_TRIAL), False
    ),
    Pair("short wire item re-headlined", WIRE, WIRE, True),
    Pair("short wire items, different news", WIRE, WIRE_OTHER, False),
]
