"""Which tokens some key of one of the pre-screen's maps (names, phrases) holds, without
keeping them.

The pre-screen looks up every run of up to eight tokens of a text as a name or a phrase,
and most runs start with, or soon reach, a token that no name or phrase holds ("the",
"novel", a reversed word): no key can contain the run, so the walk can stop there. This
is a one-hash Bloom filter over the tokens of the keys, a bit per slot: a token of a key
always passes, another one passes by chance at about the filter's load (kept under 1 in
8), which costs only the lookups that were made before. At a million targets one holds
some 2 to 4 bytes per target.

Bits are only set, never cleared: a removed key leaves its bits, which only lets more runs
through, and the filter is built again from the live keys once many were removed or it
is too full.
"""

from __future__ import annotations

from collections.abc import Iterable

FIRST_BITS = 1 << 16
MAX_LOAD = 1 / 8  # share of set bits over which the filter grows


class KeyTokens:
    """A set of tokens that may answer yes wrongly (rarely), never no wrongly."""

    __slots__ = ("_bits", "_mask", "_set", "_stale")

    def __init__(self, bits: int = FIRST_BITS):
        self._bits = bytearray(bits // 8)
        self._mask = bits - 1
        self._set = 0  # bits set
        self._stale = 0  # keys removed since the filter was built

    def copy(self) -> KeyTokens:
        other = KeyTokens.__new__(KeyTokens)
        other._bits, other._mask = bytearray(self._bits), self._mask
        other._set, other._stale = self._set, self._stale
        return other

    def add(self, key_tokens: Iterable[str]) -> None:
        """File the tokens of a key new to the maps."""
        bits, mask = self._bits, self._mask
        for token in key_tokens:
            slot = hash(token) & mask
            byte, bit = slot >> 3, 1 << (slot & 7)
            if not bits[byte] & bit:
                bits[byte] |= bit
                self._set += 1

    def removed(self) -> None:
        """Note that a key left the maps (its bits stay until the next build)."""
        self._stale += 1

    def __contains__(self, token: str) -> bool:
        slot = hash(token) & self._mask
        return bool(self._bits[slot >> 3] & (1 << (slot & 7)))

    def each(self, tokens: list[str]) -> list[bool]:
        """``token in self`` for each of ``tokens``, in one call (a text's every token)."""
        bits, mask = self._bits, self._mask
        return [bool(bits[(slot := hash(t) & mask) >> 3] & (1 << (slot & 7))) for t in tokens]

    def worn(self, live_keys: int) -> bool:
        """Whether to build it again: too full, or many removed keys' bits left behind."""
        return self._set > MAX_LOAD * (self._mask + 1) or self._stale > max(1024, live_keys)

    @classmethod
    def of(cls, keys: Iterable[str], count: int) -> KeyTokens:
        """A filter over ``count`` space-joined keys (the maps' own), sized for them."""
        keys = list(keys)
        bits = FIRST_BITS
        while bits * MAX_LOAD < count:
            bits *= 2
        while True:
            made = cls(bits)
            for key in keys:
                made.add(key.split(" "))
            if made._set <= MAX_LOAD * bits:
                return made
            bits *= 2
