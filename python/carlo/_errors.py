"""carlo's exceptions and warnings.

- ``ConfigError`` (a ``ValueError``): bad input, such as a config key, a keyword
  argument, or a checkpoint of another job. The message names the key or argument.
- ``ChunkError`` (a ``RuntimeError``): a chunk failed: the model raised (the message
  carries its traceback) or returned samples carlo cannot use. ``.chunk`` is its index.
- ``DeterminismError`` (a ``ChunkError``): the determinism probe computed a block twice
  and got two answers (``.chunk`` is the chunk of that block): the model draws from something other than its ``rng``, or
  reads state that differs between processes. The message names the rule and the fix.
- ``CarloError`` (a ``RuntimeError``): anything else that stopped a run.
- ``CarloWarning`` (a ``UserWarning``): what carlo warns about while a run goes on
  (a worker that crashed and was replaced, a chunk that seems stuck, an estimate far
  from its reference); also logged on the ``carlo`` logger.
"""


class CarloError(RuntimeError):
    """A run failed."""


class ConfigError(CarloError, ValueError):
    """A config, keyword argument or file given to carlo is invalid."""


class ChunkError(CarloError):
    """Chunk ``chunk`` failed: its model raised, or returned unusable samples."""

    def __init__(self, message, chunk):
        super().__init__(message)
        self.chunk = chunk


class DeterminismError(ChunkError):
    """The model gave two answers for one block (see the message for the rule)."""


class CarloWarning(UserWarning):
    """Something a run recovered from or found suspicious; the result stands."""


class Terminated(BaseException):
    """A run stopped by SIGTERM or SIGHUP, its checkpoint saved: the package says so
    and then lets the signal end the process, as it would have without carlo."""

    def __init__(self, message, signal):
        super().__init__(message)
        self.signal = signal
