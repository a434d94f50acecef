"""carlo's exceptions.

- ``ConfigError`` (a ``ValueError``): bad input, such as a config key, a keyword
  argument, or a checkpoint of another job. The message names the key or argument.
- ``ChunkError`` (a ``RuntimeError``): a chunk failed: the model raised (the message
  carries its traceback) or returned samples carlo cannot use. ``.chunk`` is its index.
- ``CarloError`` (a ``RuntimeError``): anything else that stopped a run.
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
