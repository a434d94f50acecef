"""Finding a Python model by name, as worker processes must.

An entry is ``package.module:function`` or ``path/to/file.py:function`` (``function``
may be dotted, ``Class.method``). A file is imported under the module name
``__carlo_main__``, so that its ``if __name__ == "__main__":`` block does not run; this
is how a function defined in the script a user runs (multiprocessing's spawn does the
same) reaches worker processes.
"""
import importlib
import importlib.util
import inspect
import os
import sys

MAIN = "__carlo_main__"


def describe(function):
    """``(entry, None)`` for a function workers can import, else ``(entry, why)``.

    The entry of a function defined in a script run as ``python script.py`` is the
    script's absolute path; one defined in an interactive session, a notebook, a
    lambda or a nested function cannot be imported elsewhere.
    """
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    if not isinstance(qualname, str):
        return "__main__:function", "it has no __qualname__; pass a function"
    why = None
    if inspect.ismethod(function):
        why = (
            f"{qualname} is a bound method, whose object worker processes cannot rebuild; "
            "pass a function defined at the top level of a module"
        )
    elif "<" in qualname:
        why = (
            f"{qualname} is a lambda or a nested function, which worker processes cannot "
            "import; define it at the top level of a module"
        )
    name = qualname.replace("<locals>.", "").replace("<lambda>", "lambda")
    name = ".".join(part if part.isidentifier() else "function" for part in name.split("."))
    if module == "__main__":
        main = sys.modules.get("__main__")
        spec = getattr(main, "__spec__", None)
        path = getattr(main, "__file__", None)
        if spec is not None and spec.name and spec.name != "__main__":
            module = spec.name  # run as python -m package.module
        elif path and path.endswith(".py") and os.path.isfile(path):
            module = os.path.abspath(path)
        elif path and os.path.isfile(path):
            why = why or (
                f"{qualname} is defined in the script {path}, whose name does not end in "
                ".py, so worker processes cannot import it; rename it, or use "
                "backend='threads'"
            )
        else:
            why = why or (
                f"{qualname} is defined in an interactive session (a notebook, the REPL "
                "or python -c), which worker processes cannot import; put it in a .py "
                "file and import it, or use backend='threads'"
            )
    elif not module:
        module = "__main__"
        why = why or f"{qualname} has no __module__"
    return f"{module}:{name}", why


def load(entry):
    """The function ``entry`` names, importing its module or file."""
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
