"""Deduplication (pure): which entries are the same document, and why.

`keys` computes each document's keys; `decide` turns the keys of a batch
and what the store already holds into one verdict per entry. The store only
looks rows up and carries the verdicts out; the unique indexes on identity
and content key are the referee when two writers race. Near-duplicates (one
story, several outlets): `signature` signs a batch's bodies, leaving out what
`boilerplate` finds in it.
"""

from newswatch.dedup.keys import DedupKeys, keys_of, sha256_hex

__all__ = ["DedupKeys", "keys_of", "sha256_hex"]
