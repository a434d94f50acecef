"""The code digest of a Python model: a hash of everything its answer depends on.

A run's fingerprint covers the model's ``code`` key, this digest of the callable
(with the arguments bound to it), so that a checkpoint, a shard partial or a summary
of one model is never taken for another's. It hashes what decides what the callable
computes and nothing of where it lives:

- a function: its bytecode, constants, names, defaults and closure cells, and the
  globals it reads (a module by its name; a function or class of the same module, of
  ``__main__`` or defined locally, by its own digest; one of another module by its
  module and name; any other value by its content). Not its file name, folder or line
  numbers: the same script in two folders has one digest.
- ``functools.partial``: the function, its positional and keyword arguments.
- a bound method: the function and the object it is bound to.
- a callable object: its class (methods included) and its state.
- values: their type and content; a numpy array by its dtype, shape and bytes.

What it cannot see (a file the model reads, a function of another module that
changed) the determinism probe and the job's ``args`` are for.
"""
import functools
import hashlib
import struct
import sys
import types

#: Hex digits of a digest: 128 bits, as a payload's file name too.
LENGTH = 32


def digest(obj):
    """The digest of ``obj`` (a callable, or any value), as hex."""
    h = hashlib.sha256()
    _Hasher(h, _home(obj)).feed(obj)
    return h.hexdigest()[:LENGTH]


def _home(obj):
    """The module whose functions and classes are hashed by content: the model's own."""
    inner = _unwrap(obj)
    if isinstance(inner, (types.FunctionType, type)):
        return inner.__module__
    return type(inner).__module__


def globals_read(function):
    """The names of the globals a function reads (those defined), sorted: what a
    message names when its digest differs between processes."""
    function = _unwrap(function)
    code = getattr(function, "__code__", None)
    scope = getattr(function, "__globals__", None)
    if code is None or scope is None:
        return []
    return sorted(n for n in _names(code) if n in scope)


def _unwrap(obj):
    while True:
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif isinstance(obj, types.MethodType):
            obj = obj.__func__
        else:
            return obj


def _names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


_CODE_FIELDS = (
    "co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_flags",
    "co_code", "co_names", "co_varnames", "co_freevars", "co_cellvars", "co_name",
    "co_exceptiontable",
)


# Class attributes that say nothing of what the class computes: Python's own
# bookkeeping, line numbers, and caches that fill in as the class is used (pickle's
# __slotnames__, the ABC registry's caches).
_CLASS_SKIP = frozenset({
    "__dict__", "__weakref__", "__module__", "__doc__", "__qualname__", "__slotnames__",
    "_abc_impl", "__firstlineno__", "__static_attributes__",
})


class _Hasher:
    """Feeds a canonical, tagged encoding of values into a hash. Objects already seen
    are fed as a back reference, so cycles (a function that reads itself) end."""

    def __init__(self, h, home):
        self.h = h
        self.home = home
        self.seen = {}
        self.keep = []

    def tag(self, text):
        data = text.encode("utf-8", "surrogatepass")
        self.h.update(struct.pack("<Q", len(data)))
        self.h.update(data)

    def raw(self, data):
        self.h.update(struct.pack("<Q", len(data)))
        self.h.update(data)

    def feed(self, obj):
        kind = type(obj)
        if obj is None or obj is Ellipsis or obj is NotImplemented:
            self.tag(repr(obj))
            return
        if kind is bool:
            self.tag("bool" if obj else "!bool")
            return
        if kind is int:
            self.tag("int")
            self.tag(str(obj))
            return
        if kind is float:
            self.tag("float")
            self.raw(struct.pack("<d", obj))
            return
        if kind is complex:
            self.tag("complex")
            self.raw(struct.pack("<dd", obj.real, obj.imag))
            return
        if kind is str:
            self.tag("str")
            self.tag(obj)
            return
        if kind in (bytes, bytearray):
            self.tag(kind.__name__)
            self.raw(bytes(obj))
            return
        key = id(obj)
        if key in self.seen:
            self.tag("ref")
            self.tag(str(self.seen[key]))
            return
        self.seen[key] = len(self.seen)
        self.keep.append(obj)
        if kind in (tuple, list):
            self.tag(kind.__name__)
            self.tag(str(len(obj)))
            for item in obj:
                self.feed(item)
        elif kind is dict:
            self.tag("dict")
            self.tag(str(len(obj)))
            for k, v in obj.items():
                self.feed(k)
                self.feed(v)
        elif kind in (set, frozenset):
            self.tag(kind.__name__)
            self.tag(str(len(obj)))
            for item in sorted(digest(item) for item in obj):
                self.tag(item)
        elif kind is types.CodeType:
            self.code(obj)
        elif kind is types.FunctionType:
            self.function(obj)
        elif kind is functools.partial:
            self.tag("partial")
            self.feed(obj.func)
            self.feed(obj.args)
            self.feed(obj.keywords)
        elif kind is types.MethodType:
            self.tag("method")
            self.feed(obj.__func__)
            self.feed(obj.__self__)
        elif kind is types.ModuleType:
            self.tag("module")
            self.tag(obj.__name__)
        elif kind in (staticmethod, classmethod):
            self.tag(kind.__name__)
            self.feed(obj.__func__)
        elif kind is property:
            self.tag("property")
            self.feed((obj.fget, obj.fset, obj.fdel))
        elif kind is types.BuiltinFunctionType:
            self.tag("builtin")
            self.tag(f"{getattr(obj, '__module__', None)}.{obj.__qualname__}")
            self_ = getattr(obj, "__self__", None)
            if self_ is not None and not isinstance(self_, types.ModuleType):
                self.feed(self_)
        elif isinstance(obj, type):
            self.cls(obj)
        elif _is_array(obj):
            self.array(obj)
        else:
            self.instance(obj)

    def code(self, code):
        self.tag("code")
        for field in _CODE_FIELDS:
            value = getattr(code, field, None)
            self.feed(value)
        self.tag(str(len(code.co_consts)))
        for const in code.co_consts:
            self.feed(const)

    def function(self, f):
        if not self.own(f):
            self.tag("function-ref")
            self.tag(f"{f.__module__}:{f.__qualname__}")
            return
        self.tag("function")
        self.code(f.__code__)
        self.feed(f.__defaults__)
        self.feed(f.__kwdefaults__)
        cells = f.__closure__ or ()
        self.tag(str(len(cells)))
        for cell in cells:
            try:
                self.feed(cell.cell_contents)
            except ValueError:  # an empty cell
                self.tag("empty-cell")
        scope = f.__globals__
        read = sorted(n for n in _names(f.__code__) if n in scope)
        self.tag(str(len(read)))
        for name in read:
            self.tag(name)
            self.feed(scope[name])

    def own(self, obj):
        """Whether a function or class is hashed by content: it belongs to the model's
        module, to ``__main__``, or cannot be found by name (a local or a lambda)."""
        module = getattr(obj, "__module__", None)
        if module in (self.home, "__main__", "__carlo_main__", None):
            return True
        qualname = getattr(obj, "__qualname__", "")
        if "<" in qualname:
            return True
        found = sys.modules.get(module)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        return found is not obj

    def cls(self, cls):
        if not self.own(cls) or cls.__module__ == "builtins":
            self.tag("class-ref")
            self.tag(f"{cls.__module__}:{cls.__qualname__}")
            return
        self.tag("class")
        self.tag(cls.__qualname__)
        self.feed(cls.__bases__)
        items = [(k, v) for k, v in cls.__dict__.items() if k not in _CLASS_SKIP]
        self.tag(str(len(items)))
        for k, v in sorted(items, key=lambda kv: kv[0]):
            self.tag(k)
            self.feed(v)

    def array(self, a):
        import numpy as np

        self.tag("ndarray")
        self.tag(a.dtype.str if a.dtype.fields is None else repr(a.dtype.descr))
        self.tag(repr(tuple(a.shape)))
        if a.dtype.hasobject:
            for item in a.ravel(order="C").tolist():
                self.feed(item)
        else:
            self.raw(np.ascontiguousarray(a).tobytes())

    def instance(self, obj):
        self.tag("object")
        self.feed(type(obj))
        try:
            reduced = obj.__reduce_ex__(4)
        except Exception:
            reduced = None
        if isinstance(reduced, tuple):
            # (constructor, arguments, state, list items, dict items): iterators are
            # made lists, so that they are hashed by content.
            parts = list(reduced[:3])
            for extra in reduced[3:5]:
                parts.append(None if extra is None else list(extra))
            self.feed(parts)
        elif isinstance(reduced, str):
            self.tag(reduced)  # a global's name, such as a numpy ufunc's
        else:
            state = getattr(obj, "__dict__", None)
            if state is not None:
                self.feed(state)
            else:
                self.tag(repr(obj))


def _is_array(obj):
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(obj, (numpy.ndarray, numpy.generic))
