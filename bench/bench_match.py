"""Matcher speed and size with 100, 10,000 and 100,000 watch aliases.

Documents are ~3 KB of real news text cut from the feed corpus; the watch
lists are generated multi-word names (name + one alias per person) plus the
seed watches (Trump, Kosachev, NATO, a Ukraine query...) so that documents do
match. Prints compile time, live memory of the compiled matcher (RSS delta)
and time per document; rerun with

    .venv/bin/python bench/bench_match.py [--documents 250] [--repeat 5]

`--corpus` instead matches every document of the feed corpus (parsed as a
worker parses it, `documents_of(work, None)`, 6,565 documents) against two
watch lists: the example config's (config/newswatch.yaml) and a synthetic one
of 2,000 people and 500 topics (`many`). `--digest FILE` writes, per list and
document, a SHA-256 of every Match (watch, kind, hits with offsets and text,
rule, named) and of every Rejection of `examine(explain=True)`; identical files
from two builds prove identical results. Without `--digest` it prints the CPU
seconds of matching all documents, `--repeat` passes, median, with the load
average. Run it with another build's interpreter to compare builds:

    .venv/bin/python bench/bench_match.py --corpus --digest /tmp/after.txt
    ../before-X/.venv/bin/python bench/bench_match.py --corpus --digest /tmp/before.txt
    .venv/bin/python bench/bench_match.py --corpus --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import html
import random
import re
import statistics
import time
import tracemalloc
from pathlib import Path

import feedparser

from corpus import CORPUS
from newswatch.config import Person, Topic
from newswatch.match import Matcher, compile_watches

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_4aedde6dc7f46a07.txt"
DOC_SIZE = 3000
SIZES = (100, 10_000, 100_000)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    """
    James John Robert Michael William David Richard Joseph Thomas Charles Mary Patricia
    Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Olga Irina Natalia Sergei
    Dmitry Alexei Mikhail Ivan Ahmed Mohammed Omar Fatima Aisha Layla Hassan Ali Wei
    Jing Li Ming Hiroshi Yuki Kenji Akira Juan Carlos Maria José Luis Ana Sofia Lucia
    Pierre Jean Marie Claire François Hans Klaus Ingrid Sven Lars Astrid Giovanni
    Giuseppe Marco Francesca Chiara Rajesh Priya Amit Sunita Kwame Amara Chinedu Ngozi
    Mehmet Ayşe Emre Zeynep Piotr Katarzyna Tomasz Agnieszka Lukas Emma Noah Olivia Liam
    Ava Mateo Camila
    """
)
LAST = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
    Lopez Gonzalez Wilson Anderson Taylor Moore Jackson Martin Lee Perez Thompson White
    Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott
    Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell
    Carter Roberts Ivanov Petrov Smirnov Kuznetsov Popov Volkov Sokolov Lebedev Kozlov
    Novikov Morozov Al-Sayed Haddad Khalil Mansour Nasser Rahman Hussein Wang Zhang Liu
    Chen Yang Huang Zhao Tanaka Suzuki Watanabe Sato Yamamoto Müller Schmidt Schneider
    Fischer Weber Meyer Wagner Becker Rossi Russo Ferrari Esposito Bianchi Romano Dubois
    Lefebvre Moreau Laurent Kowalski Nowak Wiśniewski Yılmaz Kaya Demir Şahin Singh
    Kumar Sharma Patel Okafor Mensah Mwangi Diallo Traoré Silva Santos Oliveira Souza
    Pereira Costa Almeida
    """
)
INITIALS = "ABCDEFGHJKLMNPRSTW"


NEWS = re.compile(
    r"washingtonpost|abcnews|aljazeera|dj\.com|bbci|ndtv|npr|dw\.com|nytimes|time\.com/world|abc\.net|boston|cbsnews"
)


def news_feeds() -> list[Path]:
    """The news outlets of the corpus (world news, as the daemon will mostly read)."""
    rows = (line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:])
    return [CORPUS / row[0] for row in rows if NEWS.search(row[3])]


def documents(count: int) -> list[str]:
    """~3 KB passages of news feed text, entries of one feed run together like an article."""
    passages: list[str] = []
    for path in news_feeds():
        parsed = feedparser.parse(
            path.read_bytes(), sanitize_html=False, resolve_relative_uris=False
        )
        text = " ".join(_entry_text(entry) for entry in parsed.entries)
        for start in range(0, len(text) - DOC_SIZE, DOC_SIZE):
            passages.append(text[start : start + DOC_SIZE])
        if len(passages) >= count * 3:
            break
    random.Random(7).shuffle(passages)
    return passages[:count]


def _entry_text(entry: dict[str, object]) -> str:
    parts = [str(entry.get("title", "")), str(entry.get("summary", ""))]
    for content in entry.get("content", []) or []:
        parts.append(str(content.get("value", "")))
    text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(parts)))
    return " ".join(text.split())


def seed_watches() -> tuple[list[Person], list[Topic]]:
    people = [
        Person(name="Donald Trump", aliases=("Trump",), exclude=("Trump Tower",)),
        Person(name="Konstantin Kosachev", aliases=("Kosachev",)),
        Person(name="Joe Biden", aliases=("Biden",)),
        Person(name="Vladimir Putin", aliases=("Putin",)),
    ]
    topics = [
        Topic(name="NATO", any=("NATO", "North Atlantic Treaty Organization")),
        Topic(name="China", any=("China", "Beijing")),
        Topic(name="Iran", any=("Iran",), none=("Iran-Contra",)),
        Topic(name="Ukraine peace deal", query='(ceasefire OR "peace deal") AND Ukraine'),
        Topic(name="sanctions", query="sanction* NEAR/5 (Russia OR Iran)"),
    ]
    return people, topics


def generated_people(aliases: int) -> list[Person]:
    """`aliases` terms: people named "First Last" (or a double surname) + "First M. Last"."""
    rnd = random.Random(aliases)
    people: dict[str, Person] = {}
    while 2 * len(people) < aliases:
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        if rnd.random() < 0.5:
            last = (
                f"{last}-{rnd.choice(LAST)}" if rnd.random() < 0.5 else f"{rnd.choice(LAST)} {last}"
            )
        name = f"{first} {last}"
        alias = f"{first} {rnd.choice(INITIALS)}. {last}"
        people.setdefault(name, Person(name=name, aliases=(alias,)))
    return list(people.values())


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(aliases: int, docs: list[str], repeat: int) -> dict[str, float]:
    people, topics = seed_watches()
    people += generated_people(aliases)
    gc.collect()
    before = rss_bytes()
    started = time.process_time()
    matcher = compile_watches(people, topics)
    compiled = time.process_time() - started
    gc.collect()
    memory = rss_bytes() - before
    per_doc, matches = time_documents(matcher, docs, repeat)
    del matcher
    return {
        "aliases": aliases,
        "watches": len(people) + len(topics),
        "compile_s": compiled,
        "rss_mb": memory / 2**20,
        "live_mb": live_bytes(people, topics) / 2**20,
        "doc_ms": per_doc * 1000,
        "matches_per_doc": matches / len(docs),
    }


def live_bytes(people: list[Person], topics: list[Topic]) -> int:
    """Bytes the compiled matcher holds (tracemalloc sees Python and pyahocorasick)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    matcher = compile_watches(people, topics)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del matcher
    return held


def time_documents(matcher: Matcher, docs: list[str], repeat: int) -> tuple[float, int]:
    """Best of `repeat` passes over all documents: CPU seconds per document, matches found.

    CPU time of this process, not wall time: other work on a shared machine
    then inflates the figures less.
    """
    passes = []
    matches = 0
    for _ in range(repeat):
        started = time.process_time()
        matches = sum(len(matcher.match("", doc)) for doc in docs)
        passes.append((time.process_time() - started) / len(docs))
    return min(passes), matches


HEADER = "{:>8} {:>8} {:>10} {:>7} {:>8} {:>7} {:>9}".format(
    "aliases", "watches", "compile s", "RSS MB", "live MB", "ms/doc", "match/doc"
)


CorpusDoc = tuple[str, str, str]  # title, body, source


def corpus_documents() -> list[CorpusDoc]:
    """Every document of the feed corpus, as a parse worker makes it (no matching)."""
    import bench_documents  # the corpus read and parsed as there

    docs: list[CorpusDoc] = []
    for name, body in bench_documents.corpus(CORPUS):
        parsed = bench_documents.run(name, body)
        docs += [(d.title, d.body, d.source) for d in parsed.documents]
    return docs


def example_matcher() -> Matcher:
    from newswatch.config import load_config
    from newswatch.match.watchlist import compile_config

    return compile_config(load_config(ROOT / "config" / "newswatch.yaml"))


TOPIC_WORDS = _words(
    """election inflation tariff wildfire earthquake refugee vaccine drought pipeline
    strike protest ceasefire summit budget pension merger lawsuit verdict hostage
    embargo"""
)


def many_matcher() -> Matcher:
    """2,000 people (generated, with the seed watches) and 500 topics of every kind."""
    people, topics = seed_watches()
    people += generated_people(4_000)
    rnd = random.Random(11)
    for index in range(500):
        word, other = rnd.choice(TOPIC_WORDS), rnd.choice(TOPIC_WORDS)
        place = rnd.choice(LAST + FIRST)
        kind = index % 4
        if kind == 0:
            topic = Topic(name=f"t{index}", any=(word, f"{place} {other}", f"{word.upper()}"))
        elif kind == 1:
            none = (f"{place}-{word}",)
            topic = Topic(name=f"t{index}", all=(place,), any=(word, other), none=none)
        elif kind == 2:
            topic = Topic(name=f"t{index}", query=f'("{word} {other}" OR {place}) AND {word}*')
        else:
            topic = Topic(name=f"t{index}", query=f"{word} NEAR/8 ({place} OR {other.title()})")
        topics.append(topic)
    return compile_watches(people, topics)


def _match_lines(matcher: Matcher, doc: CorpusDoc) -> str:
    matches, rejections = matcher.examine(doc[0], doc[1], doc[2], explain=True)
    plain = matcher.match(doc[0], doc[1], doc[2])
    return repr((plain, matches, rejections))


def corpus_main(args: argparse.Namespace) -> None:
    import hashlib
    import os

    started = time.process_time()
    docs = corpus_documents()
    lists = {"example": example_matcher(), "many": many_matcher()}
    spent = time.process_time() - started
    print(f"{len(docs)} corpus documents, parsed and compiled in {spent:.1f} s")
    if args.digest:
        with open(args.digest, "w") as out:
            for name, matcher in lists.items():
                total = 0
                for index, doc in enumerate(docs):
                    text = _match_lines(matcher, doc)
                    total += text.count("Match(")
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    out.write(f"{name} {index} {digest}\n")
                print(f"{name}: {total} matches and rejections digested")
        return
    for name, matcher in lists.items():
        passes = []
        for _ in range(args.repeat):
            gc.collect()
            started = time.process_time()
            for title, body, source in docs:
                matcher.match(title, body, source)
            passes.append(time.process_time() - started)
        median = statistics.median(passes)
        load = os.getloadavg()[0]
        print(f"{name}: median {median:.3f} s CPU over {len(docs)} documents (load {load:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--corpus", action="store_true", help="the feed corpus, two watch lists")
    parser.add_argument("--digest", help="with --corpus: write a digest of every match here")
    args = parser.parse_args()
    if args.corpus:
        corpus_main(args)
        return
    docs = documents(args.documents)
    mean_size = statistics.mean(len(d.encode()) for d in docs)
    print(f"{len(docs)} documents of {mean_size / 1000:.1f} KB (UTF-8), news feeds in {CORPUS}")
    rows = [measure(size, docs, args.repeat) for size in SIZES]
    print(HEADER)
    for row in rows:
        print(
            f"{row['aliases']:>8,.0f} {row['watches']:>8,.0f} {row['compile_s']:>10.3f} "
            f"{row['rss_mb']:>7.1f} {row['live_mb']:>8.1f} {row['doc_ms']:>7.3f} "
            f"{row['matches_per_doc']:>9.2f}"
        )
    ratio = rows[-1]["doc_ms"] / rows[0]["doc_ms"]
    print(f"ms/doc with {SIZES[-1]:,} aliases / with {SIZES[0]:,}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
