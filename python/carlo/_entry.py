"""How a Python model reaches worker processes: by reference or by value.

A function defined at the top level of an importable module travels **by reference**:
its entry ``package.module:function`` (or ``path/to/file.py:function`` in a config),
which a worker imports. Anything else (a function defined in the script being run, in
a notebook cell or with ``python -c``; a lambda, a closure, a ``functools.partial``, a
bound method, a callable object; or a function given ``args`` that are not config
values, such as numpy arrays) travels **by value**: pickled with cloudpickle, with the
globals it reads, into a file named by its code digest, which workers find in the
folders of :func:`payload_dirs`.

Either way the job's ``code`` key is the callable's digest (:mod:`carlo._digest`), so
the fingerprint covers what the answer depends on and not the folder the code lives
in, and a worker that imports a function by reference checks that it is the very
function the job was made with.
"""
import os
import sys

# Other modules are imported where they are used: workers import this one, and their
# start is part of every cold call.

MAIN = "__carlo_main__"

#: The variable naming more folders to find by-value models in (``os.pathsep``
#: separated), for ``carlo verify`` of a summary made elsewhere.
FUNCTIONS_VAR = "CARLO_FUNCTIONS"

_I64 = 2**63


class Shipment:
    """What a model becomes in a job: ``entry`` (a name, importable when not
    ``by_value``), ``code`` (the digest) and ``args`` (the config values among the
    keyword arguments); ``function`` is the callable the parent runs, the arguments
    that are not config values bound; ``payload()`` its pickle, when ``by_value``."""

    def __init__(self, entry, code, by_value, args, function):
        self.entry = entry
        self.code = code
        self.by_value = by_value
        self.args = args
        self.function = function
        self._payload = None

    def payload(self):
        """The pickle of a by-value model (made once); raises ``TypeError`` when
        cloudpickle cannot pickle it."""
        if self._payload is None:
            self._payload = _pickle(self.function)
        return self._payload


def ship(function, args=None):
    """The :class:`Shipment` of ``function`` called with keyword arguments ``args``."""
    import functools

    if not callable(function):
        raise TypeError(f"the model must be callable, found {type(function).__name__}")
    config, bound = {}, {}
    for key, value in (args or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"args: keys are argument names (strings), found {key!r}")
        plain = _config_value(value)
        if plain is _NOT_CONFIG:
            bound[key] = value
        else:
            config[key] = plain
    target = functools.partial(function, **bound) if bound else function
    from . import _digest

    code = _digest.digest(target)
    entry = reference(target)
    if entry is not None:
        return Shipment(entry, code, False, config, target)
    return Shipment(label(target), code, True, config, target)


def _pickle(target):
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ImportError("shipping a model by value needs cloudpickle: pip install cloudpickle")
    try:
        return cloudpickle.dumps(target, protocol=4)
    except Exception as e:
        raise TypeError(
            f"{label(target)} cannot be sent to worker processes: cloudpickle cannot pickle "
            f"it ({type(e).__name__}: {e}); define it at the top level of a module, or use "
            "backend='threads'"
        ) from None


_NOT_CONFIG = object()


def _config_value(value):
    """``value`` as a config value (bool, int, float, str, and lists and string-keyed
    dicts of those), or ``_NOT_CONFIG``: what a config's ``args`` table can hold."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        import math

        return float(value) if math.isfinite(value) else _NOT_CONFIG
    if isinstance(value, int):
        return int(value) if -_I64 <= value < _I64 else _NOT_CONFIG
    if isinstance(value, (list, tuple)):
        items = [_config_value(v) for v in value]
        return _NOT_CONFIG if any(i is _NOT_CONFIG for i in items) else items
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return _NOT_CONFIG
        items = {k: _config_value(v) for k, v in value.items()}
        return _NOT_CONFIG if any(i is _NOT_CONFIG for i in items.values()) else items
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic) and value.ndim == 0:
        if isinstance(value, numpy.bool_):
            return bool(value)
        if isinstance(value, numpy.integer):
            return _config_value(int(value))
        if isinstance(value, numpy.floating):
            return _config_value(float(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value) if isinstance(os.fspath(value), str) else _NOT_CONFIG
    return _NOT_CONFIG


def reference(target):
    """``module:qualname`` of a function workers can import and find as this very
    object, else ``None``. A function of the script run as ``python -m pkg.mod`` is
    ``pkg.mod:f``; one of a script run as ``python script.py`` is not importable (its
    globals may have been set under ``if __name__ == "__main__":``)."""
    import types

    if type(target) is not types.FunctionType or "<" in target.__qualname__:
        return None
    module = target.__module__
    if module == "__main__":
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        if spec is None or not spec.name or spec.name == "__main__":
            return None
        module = spec.name
    elif sys.modules.get(module) is None or module == MAIN:
        return None
    else:
        found = sys.modules[module]
        for part in target.__qualname__.split("."):
            found = getattr(found, part, None)
        if found is not target:
            return None
    return f"{module}:{target.__qualname__}"


def label(target):
    """A readable ``module:name`` for a callable shipped by value, in messages and
    the job's ``entry``."""
    import functools
    import types

    inner = target
    while isinstance(inner, functools.partial):
        inner = inner.func
    if isinstance(inner, types.MethodType):
        inner = inner.__func__
    if not isinstance(inner, (types.FunctionType, types.BuiltinFunctionType, type)):
        inner = type(inner)
    module = getattr(inner, "__module__", None) or "__main__"
    qualname = getattr(inner, "__qualname__", None) or getattr(inner, "__name__", "function")
    name = qualname.replace("<locals>.", "").replace("<lambda>", "lambda")
    name = ".".join(p if p.isidentifier() else "function" for p in name.split("."))
    module = ".".join(p if p.isidentifier() else "module" for p in module.split("."))
    return f"{module}:{name}"


# Where by-value models are kept: workers look in these folders for CODE.pkl.


def cache_dir():
    """The user's cache of by-value models: ``$XDG_CACHE_HOME/carlo/functions``, else
    ``~/.cache/carlo/functions``. ``carlo verify`` finds a summary's model there."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "carlo", "functions")


def payload_dirs(extra=()):
    """The folders a worker searches for a by-value model, in order: ``extra``
    (the calling process's own), ``$CARLO_FUNCTIONS``, the cache."""
    dirs = list(extra)
    dirs += [d for d in os.environ.get(FUNCTIONS_VAR, "").split(os.pathsep) if d]
    dirs.append(cache_dir())
    return dirs


def store(code, payload, folder):
    """Writes ``payload`` as ``folder/CODE.pkl`` (atomically; kept if there); returns
    the path, or ``None`` when the folder cannot be written."""
    import tempfile

    path = os.path.join(folder, f"{code}.pkl")
    try:
        if os.path.exists(path):
            return path
        os.makedirs(folder, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".carlo-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(temporary, path)
        return path
    except OSError:
        return None


_loaded = {}


def resolve(entry, code=None, by_value=False, dirs=()):
    """The callable of a job's model: its pickle when ``by_value`` (found by ``code``
    in ``payload_dirs(dirs)``), else the function ``entry`` names, checked against
    ``code`` when given."""
    if by_value:
        if code in _loaded:
            return _loaded[code]
        searched = payload_dirs(dirs)
        for folder in searched:
            path = os.path.join(folder, f"{code}.pkl")
            if os.path.isfile(path):
                import pickle

                with open(path, "rb") as f:
                    function = pickle.load(f)
                _loaded[code] = function
                return function
        raise LookupError(
            f"{entry} was shipped by value (it is not importable by name: defined in a "
            "script's __main__, a notebook or python -c, or a lambda, closure, partial, "
            f"method or callable object), and its pickle {code}.pkl is in none of "
            f"{', '.join(searched)}; run it again from Python, or point {FUNCTIONS_VAR} "
            "at the folder of the summary it came with"
        )
    function = load(entry)
    if code is not None:
        from . import _digest

        found = _digest.digest(function)
        if found != code:
            read = _digest.globals_read(function)
            names = f" ({', '.join(read)})" if read else ""
            raise LookupError(
                f"{entry} here is not the function the job was made with (code digest "
                f"{found}, the job's {code}): its code changed since, or a global it reads"
                f"{names} has another value in this process, such as one set under "
                "`if __name__ == \"__main__\":` or changed after import; pass such values "
                "in args=, or start a new run (and checkpoint) for the new code"
            )
    return function


def load(entry):
    """The function ``entry`` names, importing its module or file."""
    import importlib

    module_name, _, qualname = entry.rpartition(":")
    if module_name.endswith(".py"):
        module = _load_file(module_name)
    else:
        module = importlib.import_module(module_name)
    target = module
    for part in qualname.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AttributeError(f"{module_name} has no {qualname}") from None
    if not callable(target):
        raise TypeError(f"{entry} is a {type(target).__name__}, not a function")
    return target


def _load_file(path):
    import importlib.util

    path = os.path.abspath(path)
    loaded = sys.modules.get(MAIN)
    if loaded is not None and getattr(loaded, "__file__", None) == path:
        return loaded
    if not os.path.isfile(path):
        raise ImportError(f"no file {path}")
    spec = importlib.util.spec_from_file_location(MAIN, path)
    module = importlib.util.module_from_spec(spec)
    # As when run as a script: its folder first on the path, for its own imports.
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[MAIN] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[MAIN]
        raise
    return module


def complete(entry, code=None, by_value=False, dirs=()):
    """The code digest of a job's model: ``code`` checked when given (the model is
    resolved as a worker would resolve it), else computed."""
    function = resolve(entry, code, by_value, dirs)
    if code is not None:
        return code
    from . import _digest

    return _digest.digest(function)


def cli(argv):
    """``python -c 'import carlo._entry as e, sys; e.cli(sys.argv[1:])' ENTRY CODE
    BY_VALUE``: what the ``carlo`` program runs before a python model's job is made.
    Prints the model's code digest; on failure one line on stderr and exit code 2."""
    entry, code, by_value = argv[0], argv[1] or None, argv[2] == "1"
    try:
        code = complete(entry, code, by_value)
    except BaseException as e:  # noqa: BLE001 - every failure is the model's input
        line = str(e).splitlines()[0] if str(e) else ""
        kind = type(e).__name__
        print(f"cannot load {entry}: {kind}: {line}" if line else f"cannot load {entry}: {kind}",
              file=sys.stderr)
        sys.exit(2)
    print(code)
