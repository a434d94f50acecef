"""Pi the way the multiprocessing tutorials do it, for comparison with pi.py.

Its pitfalls, which carlo's version does not have:

- With the fork start method (Linux's default before Python 3.14), every worker
  inherits the parent's `random` state, so the workers draw the *same* points: four
  workers do the work of four and the accuracy of one.
- Seeded by hand instead (`random.seed(i)`), the result changes with the worker count.
- There is no error bar, and a worker that dies can leave `pool.map` waiting forever.

    python examples/python/pi_multiprocessing.py
"""
import random
from multiprocessing import Pool


def count_inside(n):
    inside = 0
    for _ in range(n):
        x, y = random.random(), random.random()
        if x * x + y * y < 1.0:
            inside += 1
    return inside


if __name__ == "__main__":
    samples, workers = 4_000_000, 4
    with Pool(workers) as pool:
        counts = pool.map(count_inside, [samples // workers] * workers)
    print(4 * sum(counts) / samples)
