#!/usr/bin/env python3
"""Writes bucketing.json: the bucketing algorithm and test vectors for every Attune SDK.

The values are computed by this second, independent implementation of the algorithm (Python's own
UTF-8 encoder and arbitrary-precision integers), so the TypeScript code in
packages/core/src/decisions/bucketing.ts is checked against it, not against itself.
Run: python3 packages/core/spec/bucketing.gen.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def utf8(text):
    # An unpaired surrogate (possible in JavaScript strings) encodes as U+FFFD, as TextEncoder does.
    fixed = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return fixed.encode("utf-8")


def fnv1a32(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) % 2**32
    return h


def hashes(seed, ident):
    h1 = fnv1a32(utf8(seed + ":" + ident))
    h2 = fnv1a32(str(h1).encode("ascii"))
    return h1, h2


def hash_unit(seed, ident):
    return hashes(seed, ident)[1] / 2**32


def bucket_of(seed, ident):
    # Integer arithmetic, not the float: the spec says both agree.
    return (hashes(seed, ident)[1] * 10000) >> 32


def allocate(seed, ident, coverage, weights):
    unit = hash_unit(seed, ident)
    total = 0.0
    for w in weights:
        total += w
    if total == 0:
        return None, unit
    start = 0.0
    for i, w in enumerate(weights):
        share = w / total
        if start <= unit < start + coverage * share:
            return i, unit
        start += share
    return None, unit


ALGORITHM = {
    "summary": (
        "unit = FNV-1a-32(decimal(FNV-1a-32(UTF-8(seed + ':' + id)))) / 2^32; bucket = floor(unit * 10000). "
        "Allocation ranges start at the cumulative share of the previous variants and span coverage * share."
    ),
    "bytes": (
        "The UTF-8 encoding of seed + ':' + id (the seed, one colon, the id). An unpaired UTF-16 surrogate, which "
        "only JavaScript strings can hold, encodes as U+FFFD (bytes EF BF BD), as TextEncoder does."
    ),
    "vectors": (
        "Each vector gives seed, id, h1, h2, unit and bucket. A vector whose id holds an unpaired surrogate gives it as "
        "idUtf16, the list of its UTF-16 code units, because many JSON parsers reject such a string."
    ),
    "fnv1a32": "h = 0x811c9dc5 (2166136261); for each byte: h = ((h XOR byte) * 0x01000193) mod 2^32 (prime 16777619).",
    "h1": "FNV-1a-32 over the bytes.",
    "h2": "FNV-1a-32 over the ASCII decimal digits of h1 as an unsigned integer (no sign, no leading zeros, '0' for zero).",
    "unit": "h2 / 2^32, a float in [0, 1); exact in an IEEE-754 double.",
    "bucket": (
        "floor(unit * 10000), an integer in [0, 10000). Equal to (h2 * 10000) >> 32 in 64-bit integer arithmetic: "
        "h2 * 10000 / 2^32 is an integer or at least 2^-28 from one, more than the rounding error of the double product."
    ),
    "allocation": (
        "Given coverage c in [0, 1] and weights w_i >= 0 (control first): total = w_0 + w_1 + ... summed left to "
        "right in doubles; if total = 0 no id is allocated. share_i = w_i / total; start_0 = 0, start_(i+1) = start_i + "
        "share_i; end_i = start_i + c * share_i. The variant is the first i with start_i <= unit(seed, id) < end_i, "
        "otherwise none (outside the experiment's traffic). A variant's start does not depend on c, so raising c never "
        "moves an id that already has a variant, and fixed weights keep every id where it is."
    ),
    "namespace": (
        "Mutually exclusive layers: an id is in the part [start, end) of layer L when start <= unit('layer:' + L, id) < end. "
        "Experiments of one layer with disjoint parts never share an id."
    ),
    "holdout": (
        "An id is held out when unit(seed, id) * 100 < percent (percent from 0 to 100). The engine uses the global "
        "holdout seed, or '<experiment seed>:holdout' for an experiment's own holdout, never the experiment's seed."
    ),
}

SEEDS = ["", "exp-1", "checkout-test", "attune-global-holdout", "layer:checkout", "exp-1:holdout", "🚀 launch"]
IDS = [
    "",
    "a",
    "visitor-1",
    "visitor-2",
    "user@example.com",
    "Ünïcödé-ид",
    "0123456789abcdef0123456789abcdef",
    "😀",
    "北京-用户-42",
    "e\u0301",  # e + combining acute accent: not normalized, hashed as given
]
SPECIAL = [
    ("exp-1", "x" * 300),
    ("exp-1", "a:b"),  # a colon in the id is hashed like any other byte
    ("exp-1:a", "b"),  # ... so this pair has the same bytes as the one above
    ("exp-1", "\ud800x"),  # an unpaired surrogate: hashed as U+FFFD
    ("exp-1", "\ufffdx"),  # ... so this vector equals the one above
    ("", "\u0000"),
    ("Ωmega", "ß"),
]

vectors = []
for seed, ident in [(s, i) for s in SEEDS for i in IDS] + SPECIAL:
    h1, h2 = hashes(seed, ident)
    unit = h2 / 2**32
    if any(0xD800 <= ord(c) <= 0xDFFF for c in ident):
        # Many JSON parsers reject a lone surrogate escape: give such an id as UTF-16 code units.
        units = list(ident.encode("utf-16-le", "surrogatepass"))
        key = {"idUtf16": [units[i] | units[i + 1] << 8 for i in range(0, len(units), 2)]}
    else:
        key = {"id": ident}
    vectors.append({"seed": seed, **key, "h1": h1, "h2": h2, "unit": unit, "bucket": bucket_of(seed, ident)})
    assert int(unit * 10000) == bucket_of(seed, ident)

ALLOC_SETUPS = [
    ("ab-test", 1.0, [1, 1]),
    ("ab-test", 0.5, [1, 1]),
    ("ab-test", 0.1, [1, 1]),
    ("ab-test", 0.0, [1, 1]),
    ("three-way", 1.0, [1, 2, 1]),
    ("three-way", 0.2, [1, 2, 1]),
    ("skewed", 1.0, [10, 90]),
    ("skewed", 0.75, [0.3, 0.3, 0.4]),
    ("five", 1.0, [1, 2, 3, 2, 2]),
    ("zero-control", 1.0, [0, 1]),
    ("all-zero", 1.0, [0, 0]),
]
allocations = []
for seed, coverage, weights in ALLOC_SETUPS:
    for n in range(6):
        ident = f"visitor-{n}"
        variant, unit = allocate(seed, ident, coverage, weights)
        allocations.append({"seed": seed, "id": ident, "coverage": coverage, "weights": weights, "variant": variant, "unit": unit})

namespaces = []
for layer, rng in [("checkout", [0, 0.5]), ("checkout", [0.5, 1]), ("home", [0.25, 0.3]), ("home", [0, 1])]:
    for n in range(4):
        ident = f"visitor-{n}"
        u = hash_unit("layer:" + layer, ident)
        namespaces.append({"id": ident, "namespace": {"id": layer, "range": rng}, "unit": u, "in": rng[0] <= u < rng[1]})

holdouts = []
for seed, percent in [("attune-global-holdout", 5), ("attune-global-holdout", 50), ("exp-1:holdout", 10), ("exp-1:holdout", 0), ("exp-1:holdout", 100)]:
    for n in range(4):
        ident = f"visitor-{n}"
        u = hash_unit(seed, ident)
        holdouts.append({"id": ident, "holdout": {"seed": seed, "percent": percent}, "unit": u, "in": u * 100 < percent})

text = json.dumps(
    {
        "description": "Attune's deterministic bucketing. Written by bucketing.gen.py; every SDK must reproduce these values exactly.",
        "algorithm": ALGORITHM,
        "vectors": vectors,
        "allocations": allocations,
        "namespaces": namespaces,
        "holdouts": holdouts,
    },
    indent=1,
    ensure_ascii=False,
)
with open(os.path.join(HERE, "bucketing.json"), "w", encoding="utf-8") as f:
    f.write(text + "\n")
print(f"{len(vectors)} vectors, {len(allocations)} allocations, {len(namespaces)} namespace and {len(holdouts)} holdout cases")
