#!/usr/bin/env python3
"""Data and reference values for carlo's `qmc` module, from scipy and from first principles.

    python3 src/qmc/generate.py data [DIMS]   # rewrites src/qmc/joe-kuo-6.21201.txt
    python3 src/qmc/generate.py reference      # prints the values pinned in the Rust tests

Needs numpy and scipy (tested with scipy 1.17.1, numpy 2.4.6); run it from any directory.

Source of the direction numbers: S. Joe and F. Y. Kuo, "Constructing Sobol sequences with
better two-dimensional projections", SIAM J. Sci. Comput. 30 (2008) 2635-2654, set
`new-joe-kuo-6.21201` (https://web.maths.unsw.edu.au/~fkuo/sobol/). scipy ships exactly that
set as `scipy/stats/_sobol_direction_numbers.npz`: `poly[d]` is the primitive polynomial of
dimension d+1 with its leading and constant terms (so Joe & Kuo's `s` is its degree and their
`a` is the bits in between), `vinit[d, :s]` are the initial direction numbers m_1..m_s. The
`data` command writes the first DIMS dimensions back in Joe & Kuo's own text format (one
space between fields), so `diff -w` against the published file shows a plain prefix.

The `reference` command prints, for the Rust tests:
  * sha256 of scipy's 64-bit direction vectors (`Sobol(d, scramble=False, bits=64)._sv`),
  * sha256 of scipy's first 1024 unscrambled points (`random(1024)`, the f64 values),
  * a few points at indices up to 2^64 - 1, from scipy's direction vectors and the
    Gray-code definition of Joe & Kuo's sobol.cc (X_n = XOR of V_k over the bits of
    n ^ (n >> 1)), in Python integers,
  * the first scrambled points of `sobol-jk21201/lms-shift-v1`, from an independent
    Python implementation of xoshiro256++ (SplitMix64 seeding, jump, long jump) and of the
    linear matrix scramble, so that the Rust derivation can never change silently,
  * QuantLib's Brownian bridge (construction order, and the increments it makes of fixed
    normals), when the QuantLib package is installed (tested with QuantLib 1.44).
"""

import hashlib
import os
import struct
import sys
from pathlib import Path

import numpy as np
import scipy
import scipy.stats
from scipy.stats import qmc

HERE = Path(__file__).resolve().parent
DATA = HERE / "joe-kuo-6.21201.txt"
MASK = (1 << 64) - 1

# The first rows of `new-joe-kuo-6.21201` as published (header, then d s a m_i), copied
# from the file's text: the extraction below must reproduce them.
PUBLISHED = """\
2 1 0 1
3 2 1 1 3
4 3 1 1 3 1
5 3 2 1 1 1
6 4 1 1 1 3 3
7 4 4 1 3 5 13
8 5 2 1 1 5 5 17
9 5 4 1 1 5 5 5
10 5 7 1 1 7 11 19
"""

LICENCE = """\
# Licence pertaining to sobol.cc and the accompanying sets of direction numbers
# Copyright (c) 2008, Frances Y. Kuo and Stephen Joe
# All rights reserved.
#
# Redistribution and use in source and binary forms, with or without
# modification, are permitted provided that the following conditions are met:
#
#     * Redistributions of source code must retain the above copyright
#       notice, this list of conditions and the following disclaimer.
#
#     * Redistributions in binary form must reproduce the above copyright
#       notice, this list of conditions and the following disclaimer in the
#       documentation and/or other materials provided with the distribution.
#
#     * Neither the names of the copyright holders nor the names of the
#       University of New South Wales and the University of Waikato
#       and its contributors may be used to endorse or promote products derived
#       from this software without specific prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS ``AS IS'' AND ANY
# EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
# WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
# DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDERS BE LIABLE FOR ANY
# DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
# (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
# LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
# ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
# (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
# SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def joe_kuo_rows(dims):
    """Rows `d s a m_1 .. m_s` for dimensions 2..=dims, from scipy's arrays."""
    npz = np.load(Path(scipy.stats.__file__).parent / "_sobol_direction_numbers.npz")
    poly, vinit = npz["poly"], npz["vinit"]
    assert poly.shape == (21201,) and vinit.shape == (21201, 18)
    # Dimension 1 is van der Corput: no polynomial, all m_k = 1.
    assert int(poly[0]) == 1 and list(vinit[0, :1]) == [1]
    rows = []
    for i in range(1, dims):
        p = int(poly[i])
        s = p.bit_length() - 1
        assert p & 1 == 1, "a primitive polynomial has a constant term"
        a = (p >> 1) & ((1 << (s - 1)) - 1)
        m = [int(x) for x in vinit[i, :s]]
        assert all(x % 2 == 1 and x < (1 << (k + 1)) for k, x in enumerate(m)), (i, m)
        assert all(int(x) == 0 for x in vinit[i, s:]), i
        rows.append((i + 1, s, a, m))
    return rows


def write_data(dims):
    rows = joe_kuo_rows(dims)
    lines = [f"{d} {s} {a} " + " ".join(map(str, m)) for d, s, a, m in rows]
    assert "\n".join(lines[: PUBLISHED.count("\n")]) + "\n" == PUBLISHED
    header = (
        f"# The first {dims} dimensions of Joe & Kuo's `new-joe-kuo-6.21201` Sobol direction\n"
        "# numbers (S. Joe and F. Y. Kuo, SIAM J. Sci. Comput. 30 (2008) 2635-2654;\n"
        "# https://web.maths.unsw.edu.au/~fkuo/sobol/), in their text format with single spaces.\n"
        "# Dimension 1 (van der Corput, all m = 1) has no row, as in the original.\n"
        f"# Extracted from scipy {scipy.__version__}'s `_sobol_direction_numbers.npz` by\n"
        "# `python3 src/qmc/generate.py data`. Lines starting with '#' are comments.\n"
        "#\n"
    )
    DATA.write_text(header + LICENCE + "d s a m_i\n" + "\n".join(lines) + "\n")
    print(f"wrote {DATA} ({dims} dimensions, {DATA.stat().st_size} bytes)")


# ---------------------------------------------------------------- reference values


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def u64s(values) -> bytes:
    return b"".join(struct.pack("<Q", int(v)) for v in values)


def gray_point(sv_row, n):
    """Point n of one dimension: XOR of the direction vectors over the bits of gray(n)."""
    g = n ^ (n >> 1)
    x = 0
    k = 0
    while g:
        if g & 1:
            x ^= int(sv_row[k])
        g >>= 1
        k += 1
    return x


class Xoshiro256pp:
    """xoshiro256++ (Blackman & Vigna), seeded as rand_xoshiro's `seed_from_u64`."""

    JUMP = [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C]
    LONG_JUMP = [0x76E15D3EFEFDCBBF, 0xC5004E441C522FB3, 0x77710069854EE241, 0x39109BB02ACBE635]

    def __init__(self, seed):
        state = seed & MASK
        s = []
        for _ in range(4):  # SplitMix64
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            s.append(z ^ (z >> 31))
        self.s = s

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self.rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def _jump(self, table):
        acc = [0, 0, 0, 0]
        for word in table:
            for b in range(64):
                if (word >> b) & 1:
                    acc = [a ^ x for a, x in zip(acc, self.s)]
                self.next()
        self.s = acc

    def jump(self):
        self._jump(self.JUMP)

    def long_jump(self):
        self._jump(self.LONG_JUMP)


def check_xoshiro():
    """The pins of carlo's src/random/stream.rs, reproduced: this Python generator is carlo's."""
    def first(seed, long_jumps, jumps):
        g = Xoshiro256pp(seed)
        for _ in range(long_jumps):
            g.long_jump()
        for _ in range(jumps):
            g.jump()
        return [g.next() for _ in range(3)]

    assert first(42, 0, 0) == [15021278609987233951, 5881210131331364753, 18149643915985481100]
    assert first(42, 0, 1) == [13886555598616206053, 6751983904886340403, 635420893945114766]
    assert first(42, 1, 0) == [144566570880908039, 2719862540853148003, 2379150343223650805]


def lms_dimension(g, sv_row):
    """One dimension of `sobol-jk21201/lms-shift-v1`: 64 matrix rows, then the shift."""
    rows = []
    for i in range(64):  # row i gives output digit i + 1, i.e. bit 63 - i
        u = g.next()
        keep = (MASK << (64 - i)) & MASK if i > 0 else 0  # the i digits above it
        rows.append((u & keep) | (1 << (63 - i)))
    shift = g.next()

    def apply(v):
        out = 0
        for i, row in enumerate(rows):
            out |= (bin(row & v).count("1") & 1) << (63 - i)
        return out

    return [apply(int(v)) for v in sv_row], shift


def scrambled_points(seed, replicate, dims, indices):
    sv = qmc.Sobol(d=dims, scramble=False, bits=64)._sv
    g = Xoshiro256pp(seed)
    g.long_jump()
    g.long_jump()
    for _ in range(replicate):
        g.jump()
    out = {n: [] for n in indices}
    for j in range(dims):
        dirs, shift = lms_dimension(g, sv[j])
        for n in indices:
            out[n].append(shift ^ gray_point(dirs, n))
    return out


def reference():
    print(f"// scipy {scipy.__version__}, numpy {np.__version__}")
    dims = 1024
    eng = qmc.Sobol(d=dims, scramble=False, bits=64)
    sv = eng._sv
    assert sv.dtype == np.uint64 and sv.shape == (dims, 64)
    print(f'const SCIPY_DIRECTIONS_SHA256: &str = "{sha(sv.astype("<u8").tobytes())}";')
    pts = eng.random(1024)
    assert pts.dtype == np.float64
    print(f'const SCIPY_FIRST_1024_SHA256: &str = "{sha(pts.astype("<f8").tobytes())}";')
    for j in (0, 1, 2, 251, 1023):
        print(f"// dimension {j + 1}, points 0..8: {[float(x) for x in pts[:8, j]]}")
        print(f'// sha256 of points 0..1024: "{sha(pts[:, j].astype("<f8").tobytes())}"')
    far = [(1 << 32) - 1, 1 << 32, (1 << 40) + 12345, (1 << 63) + 7, MASK]
    print("// (index, dimension, point) beyond scipy's reach, from its direction vectors:")
    for n in far:
        for j in (0, 1, 6, 251, 1023):
            print(f"({n:#x}, {j}, {gray_point(sv[j], n):#018x}),")

    check_xoshiro()
    print("// sobol-jk21201/lms-shift-v1, seed 42: (replicate, index, first 4 dimensions)")
    for replicate in (0, 3):
        pts = scrambled_points(42, replicate, 4, [0, 1, 2, 1000, MASK])
        for n, x in pts.items():
            print(f"({replicate}, {n:#x}, [" + ", ".join(f"{v:#018x}" for v in x) + "]),")
    bridge_reference()


def bridge_reference():
    try:
        import QuantLib as ql
    except ImportError:
        print("// QuantLib not installed: no Brownian bridge reference")
        return
    print(f"// QuantLib {ql.__version__} BrownianBridge")
    order = list(ql.BrownianBridge(252).bridgeIndex())
    print(f"// bridgeIndex(252)[..16] = {order[:16]}")
    print(f'// sha256 of bridgeIndex(252), comma-separated: "{sha(",".join(map(str, order)).encode())}"')
    z = [0.3, -1.2, 0.7, 2.1, -0.4, 0.05, -2.5, 1.1, 0.9, -0.8, 1.7, -0.2]
    cases = [[1.5 * i / 12 for i in range(1, 13)], [0.1, 0.25, 0.5, 0.6, 1.0, 1.7, 2.0]]
    for times in cases:
        bridge = ql.BrownianBridge(times)
        # QuantLib returns the increments divided by sqrt(dt): undo that, and sum.
        y = bridge.transform(z[: len(times)])
        w, prev_t, path = 0.0, 0.0, []
        for t, yi in zip(times, y):
            w += yi * (t - prev_t) ** 0.5
            prev_t = t
            path.append(w)
        print(f"// times {times}")
        print(f"// order {list(bridge.bridgeIndex())}")
        print("// W(t_i): [" + ", ".join(repr(x) for x in path) + "]")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "data":
        write_data(int(sys.argv[2]) if len(sys.argv) > 2 else 1024)
    elif command == "reference":
        reference()
    else:
        sys.exit(__doc__)
