"""Pi's hit counts per block for seed 42 under `xoshiro256++/lanes-v1`, computed
independently of carlo: the published SplitMix64 seeding, xoshiro256++ step and jump
polynomial, rand's 53-bit uniform `(x >> 11) * 2^-53`, and the lanes method as
docs/design.md defines it (block b, lane l: stream 8 b + l; sample k of a block: lane
k % 8, its (k / 8)-th point, two consecutive words x then y).

    python3 tests/data/lanes_pi.py      # prints the HITS table of tests/known_answer.rs
"""

MASK = (1 << 64) - 1
JUMP = [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C]


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    def __init__(self, seed):
        s, st = [], seed
        for _ in range(4):
            st, z = splitmix64(st)
            s.append(z)
        self.s = s

    def next(self):
        s = self.s
        out = (rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return out

    def jump(self):
        acc = [0, 0, 0, 0]
        for word in JUMP:
            for b in range(64):
                if (word >> b) & 1:
                    acc = [a ^ x for a, x in zip(acc, self.s)]
                self.next()
        self.s = acc


def hits(seed, block, samples):
    lanes = []
    for lane in range(8):
        g = Xoshiro(seed)
        for _ in range(8 * block + lane):
            g.jump()
        lanes.append(g)
    count = 0
    for k in range(samples):
        g = lanes[k % 8]
        x = (g.next() >> 11) * 2.0**-53
        y = (g.next() >> 11) * 2.0**-53
        count += x * x + y * y < 1.0
    return count


if __name__ == "__main__":
    print([hits(42, b, n) for b, n in [(0, 4096), (1, 4096), (2, 4096), (3, 1000)]])
