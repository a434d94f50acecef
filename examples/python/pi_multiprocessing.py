"""Pi the way the multiprocessing tutorials do it, for comparison with pi.py.

Its pitfalls, which carlo's version does not have:

- The result changes from run to run: since Python 3.7 each forked worker reseeds the
  standard library's `random` from the operating system (os.urandom), so the workers
  draw different points, but nothing fixes which. (numpy's legacy `np.random` is the
  opposite trap: its state is copied into every forked worker unchanged, so the workers
  would draw the *same* points, four workers doing the work of one.)
- Seeded by hand instead (`random.seed(i)` in worker `i`), the result changes with the
  worker count and the chunking. A careful Pool can be reproducible: one
  `numpy.random.SeedSequence(seed).spawn(n_chunks)` stream per chunk and `pool.map`,
  which keeps the chunks' order (benches/compare/python_api.py does that).
- Either way there is no error bar, no checkpoint, no target error, and a worker that
  dies can leave `pool.map` waiting forever (CPython gh-66587).

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
