"""carlo: Monte Carlo whose answer does not depend on where it ran.

Two calls:

- ``carlo.run(config, **overrides)`` runs a carlo config (a TOML path, or a dict of
  its tables) with carlo's built-in models or a ``type = "python"`` model, and gives
  the bits ``carlo run`` gives for the same config and seed.
- ``carlo.run_model(simulate, quantities, samples=..., seed=...)`` runs your own
  numpy function ``simulate(rng, n)`` under carlo: chunk ``i`` draws from carlo's
  stream ``i`` alone and the chunks merge in order, so the estimate has the same
  bits on every backend (sequential, threads, processes) and worker count, and
  across interruptions (``checkpoint=``).

Both release the GIL while they run and return a :class:`Summary`.
"""
import contextlib
import signal
import threading

from . import _carlo, _entry, _worker
from ._carlo import DERIVATION, Rng
from ._errors import CarloError, ChunkError, ConfigError
from ._summary import Summary

__version__ = _carlo.VERSION
__all__ = [
    "run",
    "run_model",
    "Summary",
    "Rng",
    "CarloError",
    "ChunkError",
    "ConfigError",
    "DERIVATION",
]

# Keyword arguments of run() that are not model keys, and their config tables.
_SIMULATION = (
    "name",
    "samples",
    "seed",
    "chunk_size",
    "confidence",
    "target_rel_error",
    "target_abs_error",
    "check_every",
)
_EXECUTION = ("backend", "workers")
_I64_MAX = 2**63 - 1


def run(config, *, checkpoint=None, progress=False, quiet=False, **overrides):
    """Run a carlo config and return its :class:`Summary`.

    ``config`` is a path to a TOML config, or a dict of its tables
    (``{"simulation": {...}, "model": {...}}``). Each keyword argument overrides one
    key, exactly as ``carlo run --set`` does, with the file's validation:
    ``samples``, ``seed``, ``chunk_size``, ``confidence``, ``target_rel_error``,
    ``target_abs_error``, ``check_every`` and ``name`` are ``[simulation]`` keys,
    ``backend`` and ``workers`` ``[execution]`` keys, a dotted name
    (``**{"model.strike": 95}``) is that key, and any other name is a ``[model]`` key
    (``strike=95``).

    ``checkpoint`` is a file that keeps the run's progress: a run interrupted with
    Ctrl-C (``KeyboardInterrupt``) or killed resumes from it when called again, with
    the same bits. ``progress`` shows a progress bar on stderr for long runs;
    ``quiet`` silences notes (such as a backend a model cannot use being replaced).

    The processes backend runs its workers as Python processes of this interpreter.
    """
    sets = []
    seed = None
    for key, value in overrides.items():
        if key == "seed" and isinstance(value, int) and value > _I64_MAX:
            seed = value  # beyond TOML's integers, as carlo run --seed takes it
            continue
        if "." in key:
            dotted = key
        elif key in _SIMULATION:
            dotted = f"simulation.{key}"
        elif key in _EXECUTION:
            dotted = f"execution.{key}"
        else:
            dotted = f"model.{key}"
        sets.append((dotted, key, value))
    return _run(config, sets, seed, checkpoint=checkpoint, progress=progress, quiet=quiet)


def run_model(
    simulate,
    quantities,
    *,
    samples,
    seed,
    chunk_size=None,
    backend="processes",
    workers=0,
    confidence=None,
    target_abs_error=None,
    target_rel_error=None,
    check_every=None,
    references=None,
    args=None,
    checkpoint=None,
    name=None,
    progress=False,
    quiet=False,
):
    """Run ``simulate`` under carlo and return its :class:`Summary`.

    ``simulate(rng, n, **args)`` returns the ``n`` samples of one chunk as a numpy
    float64 array: shape ``(n,)`` for one quantity, ``(n, k)`` for the ``k`` names
    in ``quantities``. It must draw every random number from ``rng``, the chunk's
    carlo stream (:class:`Rng`: ``random``, ``normal``, ``exponential``,
    ``integers``, ``bits``), and from nothing else: then the result has the same bits
    on every backend and worker count.

    - ``samples``, ``seed``: the run (``samples`` is the maximum with a target).
    - ``chunk_size`` (default 65536): samples per call of ``simulate``.
    - ``backend``: ``"processes"`` (default: one Python worker process per core, or
      ``workers``), ``"threads"`` or ``"sequential"`` (in this process; threads
      overlap only where numpy or carlo release the GIL). Worker processes import
      ``simulate`` by module and name, as multiprocessing's spawn does, so it must
      be defined at the top level of a module or of the script being run.
    - ``confidence`` (0.95), ``target_abs_error``, ``target_rel_error`` (stop once the
      first quantity's interval is that narrow, checked every ``check_every`` chunks).
    - ``references``: ``{quantity: value}`` for the ``reference`` column.
    - ``args``: keyword arguments for ``simulate`` (part of the job, as JSON).
    - ``checkpoint``, ``progress``, ``quiet``: as for :func:`run`.
    - ``name``: the ``name`` column (default: the function's name).
    """
    if isinstance(quantities, str):
        quantities = [quantities]
    entry, why = _entry.describe(simulate)
    if backend == "processes" and why:
        raise ConfigError(f"backend='processes': {why}")
    given = [
        ("simulation.name", "name", name if name is not None else _name(simulate)),
        ("simulation.samples", "samples", samples),
        ("simulation.chunk_size", "chunk_size", chunk_size),
        ("simulation.confidence", "confidence", confidence),
        ("simulation.target_abs_error", "target_abs_error", target_abs_error),
        ("simulation.target_rel_error", "target_rel_error", target_rel_error),
        ("simulation.check_every", "check_every", check_every),
        ("execution.backend", "backend", backend),
        ("execution.workers", "workers", workers),
        ("model.entry", "simulate", entry),
        ("model.quantities", "quantities", list(quantities)),
        ("model.references", "references", references),
        ("model.args", "args", args),
    ]
    seed_given = None
    if isinstance(seed, int) and seed > _I64_MAX:
        seed_given = seed
        seed = 0
    given.insert(2, ("simulation.seed", "seed", seed))
    sets = [(key, shown, value) for key, shown, value in given if value is not None]
    config = {"model": {"type": "python"}}
    return _run(
        config,
        sets,
        seed_given,
        function=simulate,
        checkpoint=checkpoint,
        progress=progress,
        quiet=quiet,
    )


def _name(function):
    name = getattr(function, "__name__", "model")
    return name if name.isidentifier() else "model"


def _run(config, sets, seed, **kwargs):
    if _worker.ACTIVE:
        raise RuntimeError(
            "carlo was asked to start a run inside one of its worker processes, while it "
            "imported the script that defines the model: put the script's top-level "
            "code under `if __name__ == \"__main__\":`, as multiprocessing asks"
        )
    with _ctrl_c() as interrupt:
        data = _carlo.run(config, sets, _worker.command(), interrupt, seed=seed, **kwargs)
    return Summary(data)


@contextlib.contextmanager
def _ctrl_c():
    """During a run, the first Ctrl-C asks carlo to stop at the next chunk (and save
    its checkpoint), as the CLI's does; a second raises at once. Only where Python's
    default handler is in place (in the main thread): a handler of the caller's is
    left alone, and carlo runs it between chunks."""
    interrupt = _carlo.Interrupt()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield interrupt
        return
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)
