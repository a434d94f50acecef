"""carlo: Monte Carlo whose answer does not depend on where it ran.

- ``carlo.run(config, **overrides)`` runs a carlo config (a TOML path, or a dict of
  its tables) with carlo's built-in models or a ``type = "python"`` model, and gives
  the bits ``carlo run`` gives for the same config and seed.
- ``carlo.run_model(simulate, quantities, samples=..., seed=...)`` runs your own
  function ``simulate(rng, n)`` under carlo: it is called once per block of at most
  4096 samples, block ``b`` drawing from its own carlo stream alone, and the blocks'
  statistics merge exactly, so the estimate has the same bits on every backend
  (sequential, threads, processes), worker count and chunk size, and across
  interruptions (``checkpoint=``). Any callable works: a function, a lambda, a
  closure, a ``functools.partial``, a bound method, a callable object, a function of
  a notebook cell.
- ``with carlo.Pool(workers=4) as pool: pool.run_model(...)`` keeps the worker
  processes warm between runs.
- ``carlo.verify(path)`` recomputes a summary written by ``Summary.to_csv(path)``
  (or ``carlo run``) and compares it bit for bit.

Runs release the GIL and return a :class:`Summary`. carlo's warnings are Python
warnings (:class:`CarloWarning`, also logged on the ``carlo`` logger); what a model
prints in a worker process is shown here, prefixed with its block.
"""
# Light on purpose: every worker process imports this package, and its start is part of
# every cold call. What only the calling process needs is imported where it is used.
import os
import sys

from . import _carlo
from ._carlo import DERIVATION, Rng
from ._errors import (
    CarloError,
    CarloWarning,
    ChunkError,
    ConfigError,
    DeterminismError,
    Terminated,
)
from ._summary import Summary

__version__ = _carlo.VERSION
__all__ = [
    "run",
    "run_model",
    "verify",
    "Pool",
    "Summary",
    "Rng",
    "CarloError",
    "CarloWarning",
    "ChunkError",
    "ConfigError",
    "DeterminismError",
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
_EXECUTION = ("backend", "workers", "chunk_timeout")
_I64_MAX = 2**63 - 1


def run(config, *, checkpoint=None, checkpoint_interval=None, progress=False, quiet=False,
        probe=True, retries=0, **overrides):
    """Run a carlo config and return its :class:`Summary`.

    ``config`` is a path to a TOML config, or a dict of its tables
    (``{"simulation": {...}, "model": {...}}``). Each keyword argument overrides one
    key, exactly as ``carlo run --set`` does, with the file's validation:
    ``samples``, ``seed``, ``chunk_size``, ``confidence``, ``target_rel_error``,
    ``target_abs_error``, ``check_every`` and ``name`` are ``[simulation]`` keys,
    ``backend``, ``workers`` and ``chunk_timeout`` ``[execution]`` keys, a dotted
    name (``**{"model.strike": 95}``) is that key, and any other name is a
    ``[model]`` key (``strike=95``).

    ``checkpoint`` is a file that keeps the run's progress (saved every
    ``checkpoint_interval`` seconds, default 5, and when the run stops): a run
    interrupted with Ctrl-C (``KeyboardInterrupt``), SIGTERM or SIGHUP, or killed,
    resumes from it when called again, with the same bits. ``progress`` shows the
    run's progress (tqdm when installed); ``quiet`` silences notes (such as a backend
    a model cannot use being replaced). ``probe`` and ``retries`` are as for
    :func:`run_model` (for ``type = "python"`` models).

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
    return _run(config, sets, seed, checkpoint=checkpoint,
                checkpoint_interval=checkpoint_interval, progress=progress, quiet=quiet,
                probe=probe, retries=retries)


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
    checkpoint_interval=None,
    chunk_timeout=None,
    retries=0,
    probe=True,
    sweep=None,
    name=None,
    progress=False,
    quiet=False,
):
    """Run ``simulate`` under carlo and return its :class:`Summary`.

    ``simulate(rng, n, **args)`` returns the ``n`` samples of one block (``n`` is
    4096, or fewer for the run's last block): a numpy array of shape ``(n,)`` for one
    quantity or ``(n, k)`` for the ``k`` names in ``quantities`` (floats, integers or
    bools), or a dict of ``(n,)`` arrays keyed by those names. It must draw every
    random number from ``rng``, the block's own carlo stream (:class:`Rng`: numpy's
    names, ``random``, ``uniform``, ``normal``, ``poisson``, ...), and compute the
    block from ``rng``, ``n`` and its arguments alone: then the result has the same
    bits on every backend, worker count and chunk size.

    ``simulate`` may be any callable: a function of a module is imported by the
    workers; anything else (a function of the script being run or of a notebook, a
    lambda, a closure, a ``functools.partial``, a bound method, a callable object) is
    sent to them pickled by cloudpickle, with the globals it reads. What the answer
    depends on (its code, the globals it reads, bound arguments and ``args``) is in
    the job's fingerprint; the folder it lives in is not.

    - ``samples``, ``seed``: the run (``samples`` is the maximum with a target).
    - ``chunk_size`` (default 65536): samples a worker takes at a time (rounded up
      to whole blocks of 4096); a scheduling knob that changes no result.
    - ``backend``: ``"processes"`` (default: one Python worker process per core, or
      ``workers``), ``"threads"`` or ``"sequential"`` (in this process; threads
      overlap only where numpy or carlo release the GIL).
    - ``confidence`` (0.95), ``target_abs_error``, ``target_rel_error``: stop once
      the first quantity's interval is that narrow, checked every ``check_every``
      samples (a whole number of blocks of 4096).
    - ``references``: ``{quantity: value}`` for the ``reference`` column.
    - ``args``: keyword arguments for ``simulate``. Config values (numbers, strings,
      lists, dicts) are in the job as they are; others (numpy arrays, objects) are
      bound to the function and shipped with it, their content in its digest.
    - ``checkpoint``, ``checkpoint_interval``, ``progress``, ``quiet``: as for
      :func:`run`.
    - ``chunk_timeout``: seconds a chunk may run before its worker is taken for stuck
      and replaced (a hard limit; also how long a worker may take to start).
    - ``retries`` (0): times a block whose call raised ``MemoryError`` or ``OSError``
      (``TimeoutError``, ``ConnectionError``, file errors) is computed again, from
      its stream's start; other exceptions end the run at once.
    - ``probe`` (True): the determinism probe computes the first block each process
      runs twice, and with worker processes the first ``workers + 1`` blocks again in
      this process, and raises :class:`DeterminismError` if two results differ: a
      model that draws from its own generator, keeps state between calls or reads
      state that differs between processes. It costs about two blocks per worker.
    - ``sweep``: ``{argument: [values]}`` runs every point of the grid of these keyword
      arguments (the first outermost) in one pass on common random numbers: each
      point's call for a block gets the block's stream, so differences between points are precise.
      One row per quantity and point, with a column per swept argument, as the CLI's
      ``--sweep`` (at most 64 points).
    - ``name``: the ``name`` column (default: the function's name).
    """
    return _run_model(None, simulate, quantities, samples=samples, seed=seed,
                      chunk_size=chunk_size, backend=backend, workers=workers,
                      confidence=confidence, target_abs_error=target_abs_error,
                      target_rel_error=target_rel_error, check_every=check_every,
                      references=references, args=args, checkpoint=checkpoint,
                      checkpoint_interval=checkpoint_interval, chunk_timeout=chunk_timeout,
                      retries=retries, probe=probe, sweep=sweep, name=name, progress=progress,
                      quiet=quiet)


def _run_model(pool, simulate, quantities, *, samples, seed, chunk_size, backend, workers,
               confidence, target_abs_error, target_rel_error, check_every, references, args,
               checkpoint, checkpoint_interval, chunk_timeout, retries, probe, sweep, name,
               progress, quiet):
    if isinstance(quantities, str):
        quantities = [quantities]
    if args is not None and not isinstance(args, dict):
        raise TypeError(f"args must be a dict of keyword arguments, found {type(args).__name__}")
    from . import _entry

    shipment = _entry.ship(simulate, args)
    if pool is not None:
        backend, workers = pool.backend, pool.workers
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
        ("execution.chunk_timeout", "chunk_timeout", chunk_timeout),
        ("model.entry", "simulate", shipment.entry),
        ("model.quantities", "quantities", list(quantities)),
        ("model.references", "references", references),
        ("model.args", "args", shipment.args or None),
        ("model.code", "simulate", shipment.code),
        ("model.by_value", "simulate", True if shipment.by_value else None),
    ]
    if sweep is not None:
        if not isinstance(sweep, dict) or not sweep:
            raise TypeError("sweep must be a dict of {argument: [values]}")
        for key, values in sweep.items():
            given.append((f"sweep.args.{key}", "sweep", list(values)))
    seed_given = None
    if isinstance(seed, int) and not isinstance(seed, bool) and seed > _I64_MAX:
        seed_given = seed
        seed = 0
    given.insert(2, ("simulation.seed", "seed", seed))
    sets = [(key, shown, value) for key, shown, value in given if value is not None]
    config = {"model": {"type": "python"}}
    return _run(
        config,
        sets,
        seed_given,
        shipment=shipment,
        checkpoint=checkpoint,
        checkpoint_interval=checkpoint_interval,
        progress=progress,
        quiet=quiet,
        probe=probe,
        retries=retries,
        pool=pool,
    )


def _name(function):
    import functools

    while isinstance(function, functools.partial):
        function = function.func
    name = getattr(function, "__name__", None) or type(function).__name__
    return name if name.isidentifier() and name != "<lambda>" else "model"


def _run(config, sets, seed, *, shipment=None, checkpoint=None, checkpoint_interval=None,
         progress=False, quiet=False, probe=True, retries=0, pool=None):
    import contextlib

    from . import _worker

    if _worker.ACTIVE:
        raise RuntimeError(
            "carlo was asked to start a run inside one of its worker processes, while it "
            "imported the script that defines the model: put the script's top-level "
            "code under `if __name__ == \"__main__\":`, as multiprocessing asks"
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 1000:
        raise ConfigError(f"retries={retries!r}: must be a whole number from 0 to 1000")
    if pool is not None and pool.closed:
        raise CarloError("this carlo.Pool was closed")
    with contextlib.ExitStack() as stack:
        folder = pool._folder if pool is not None else _private_folder(stack)
        if shipment is not None:
            in_workers = (pool.backend if pool is not None else
                          next((v for k, _, v in sets if k == "execution.backend"), None))
            _prepare(shipment, folder, probe, retries, in_workers == "processes")
        messages = os.path.join(folder, "messages")
        display = None
        if progress:
            display = _progress_display(progress, sets)
            stack.callback(display.close)
        function = shipment.function if shipment is not None else None
        try:
            data = _carlo.run(
                config,
                sets,
                _worker.command([folder]),
                _signals(),
                function=function,
                checkpoint=checkpoint,
                checkpoint_interval=checkpoint_interval,
                seed=seed,
                progress=display,
                tick=lambda lines: _tick(lines, messages),
                quiet=quiet,
                probe=probe,
                retries=retries,
                pool=pool._pool if pool is not None else None,
            )
        except Terminated as stopped:
            _terminate(stopped)
    return Summary(data, shipment)


def _private_folder(stack):
    """A folder of this run's own, removed when it ends: its workers find the model
    shipped by value and the options there, and leave their output there."""
    folder = _new_folder("carlo-")
    stack.callback(_remove_folder, folder)
    return folder


_FOLDERS = [0]


def _new_folder(prefix):
    """A new private folder in the temporary directory. (Not tempfile.mkdtemp: that
    module's import is a noticeable part of a cold call's start.)"""
    base = os.environ.get("TMPDIR") or "/tmp"
    while True:
        _FOLDERS[0] += 1
        folder = os.path.join(base, f"{prefix}{os.getpid()}-{_FOLDERS[0]}-{os.urandom(4).hex()}")
        try:
            os.mkdir(folder, 0o700)
            return folder
        except FileExistsError:
            continue


def _remove_folder(folder):
    """Removes a folder of ours (files and folders a level or two deep)."""
    for root, folders, files in os.walk(folder, topdown=False):
        for name in files:
            try:
                os.remove(os.path.join(root, name))
            except OSError:
                pass
        for name in folders:
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _prepare(shipment, folder, probe, retries, in_workers):
    """Puts what the workers need for this model in ``folder``: its pickle when it
    travels by value (and a copy in the cache, for ``carlo verify``), and the run's
    options. A model that cannot be pickled runs in this process all the same."""
    from . import _entry

    if shipment.by_value:
        try:
            payload = shipment.payload()
        except TypeError:
            if in_workers:
                raise
            payload = None
        if payload is not None:
            if _entry.store(shipment.code, payload, folder) is None:
                raise CarloError(f"cannot write the model's pickle in {folder}")
            _entry.store(shipment.code, payload, _entry.cache_dir())
    path = os.path.join(folder, f"{shipment.code}.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'{{"probe": {"true" if probe else "false"}, "retries": {int(retries)}}}')


def _progress_display(progress, sets):
    from ._progress import Display

    if callable(progress):
        return _Callback(progress)
    name = next((v for k, _, v in sets if k == "simulation.name"), "carlo")
    return Display(name)


class _Callback:
    """A caller's progress function, called with ``(done, total, quantity, estimate,
    std_error)``."""

    def __init__(self, function):
        self.function = function

    def __call__(self, *progress):
        self.function(*progress)

    def close(self):
        pass


def _tick(lines, messages):
    """Shows what carlo said since the last call (``warning:`` lines as
    :class:`CarloWarning`, the rest on ``sys.stderr``; both on the ``carlo`` logger
    when it has handlers) and what workers printed or logged."""
    from . import _worker

    # A program that has not imported logging has no handlers for it. (Imported again
    # when it is there: another thread may be in the middle of importing it.)
    log = None
    if "logging" in sys.modules:
        import logging

        log = logging.getLogger("carlo")
    logged = log is not None and log.hasHandlers()
    for line in lines:
        if line.startswith("warning: "):
            text = line[len("warning: "):]
            if logged:
                log.warning(text)
            import warnings

            warnings.warn(text, CarloWarning, stacklevel=_caller_level())
        else:
            if logged:
                log.info(line)
            if sys.stderr is not None:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
    _worker.forward(messages)


def _caller_level():
    """The ``stacklevel`` of a warning that points at the caller's code: the first
    frame outside this package, counted from ``warnings.warn``'s caller."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "carlo":
        frame, level = frame.f_back, level + 1
    return level


def _signals():
    """The signals a run takes over: those whose handlers are Python's defaults, in
    the main thread (a handler of the caller's is left alone, and runs between
    chunks)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return []
    taken = []
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        taken.append(int(signal.SIGINT))
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) == signal.SIG_DFL:
            taken.append(int(number))
    return taken


def _terminate(stopped):
    """After a run stopped by SIGTERM or SIGHUP (its checkpoint saved): says so, then
    lets the signal end the process, as it would have without carlo (a scheduler sees
    the status it expects)."""
    import signal

    if sys.stderr is not None:
        sys.stderr.write(f"{stopped}\n")
        sys.stderr.flush()
    signal.signal(stopped.signal, signal.SIG_DFL)
    os.kill(os.getpid(), stopped.signal)
    raise SystemExit(128 + stopped.signal)


class Pool:
    """Worker processes (or threads) kept warm between runs::

        with carlo.Pool(workers=4) as pool:
            for p in (0.1, 0.2, 0.3):
                summary = pool.run_model(simulate, "x", samples=10**6, seed=1, args={"p": p})

    Each run has the bits ``carlo.run_model`` gives; the workers keep their
    interpreter and the modules they imported, so a call after the first costs the
    chunks alone (tens of milliseconds less than starting workers). ``backend`` is
    ``"processes"`` (the default) or ``"threads"``. A run stopped early (a target met,
    Ctrl-C, an error) restarts the workers at the next call. :meth:`close` (or the end
    of the ``with`` block) stops them.
    """

    def __init__(self, workers=0, backend="processes"):
        from . import _worker

        self._folder = _new_folder("carlo-pool-")
        self._pool = _carlo.Pool(backend, workers, _worker.command([self._folder]))

    @property
    def backend(self):
        return self._pool.backend

    @property
    def workers(self):
        return self._pool.workers

    def pids(self):
        """Process ids of the live workers (empty before the first run)."""
        return self._pool.pids()

    def run_model(self, simulate, quantities, *, samples, seed, chunk_size=None,
                  confidence=None, target_abs_error=None, target_rel_error=None,
                  check_every=None, references=None, args=None, checkpoint=None,
                  checkpoint_interval=None, chunk_timeout=None, retries=0, probe=True,
                  sweep=None, name=None, progress=False, quiet=False):
        """:func:`run_model` on this pool's workers (the same keywords, without
        ``backend`` and ``workers``)."""
        return _run_model(self, simulate, quantities, samples=samples, seed=seed,
                          chunk_size=chunk_size, backend=None, workers=None,
                          confidence=confidence, target_abs_error=target_abs_error,
                          target_rel_error=target_rel_error, check_every=check_every,
                          references=references, args=args, checkpoint=checkpoint,
                          checkpoint_interval=checkpoint_interval,
                          chunk_timeout=chunk_timeout, retries=retries, probe=probe, sweep=sweep,
                          name=name, progress=progress, quiet=quiet)

    def close(self):
        """Stops the workers; the pool cannot run again."""
        self._pool.close()
        _remove_folder(self._folder)

    @property
    def closed(self):
        return self._pool.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def verify(path, *, backend=None, workers=None, quiet=False):
    """Recomputes the job of the summary at ``path`` (a CSV summary with its job file
    and chunk digests beside it, as ``Summary.to_csv(path)`` and ``carlo run --out``
    write them, or a JSON summary) and compares the result bit for bit. Returns the
    job's fingerprint; raises :class:`CarloError` naming every value that differs.
    A model shipped by value is found beside the summary or in the cache.
    ``backend`` and ``workers`` choose where to recompute (default: the job's)."""
    import contextlib

    from . import _worker

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    with contextlib.ExitStack() as stack:
        own = _private_folder(stack)
        fingerprint, differ = _carlo.verify(
            path, [own, folder], _worker.command([own, folder]), backend=backend,
            workers=workers
        )
        _worker.forward(os.path.join(own, "messages"))
    if differ:
        lines = [f"  {q} {c}: {a} in the summary, recomputed {b}" for q, c, a, b in differ]
        raise CarloError(f"{path} does not reproduce:\n" + "\n".join(lines))
    if not quiet and sys.stderr is not None:
        sys.stderr.write(f"verified {path}: job {fingerprint}, every compared value the same\n")
    return fingerprint
