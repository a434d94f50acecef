"""A carlo worker process: ``python -c "from carlo._worker import main; main()"``.

Serves carlo's worker protocol on standard input and output (the ``carlo`` binary
starts these for ``[model] type = "python"``; ``carlo.run``, ``carlo.run_model`` and
``carlo.Pool`` start them for the processes backend). Not for use by hand.

A worker started by the package gets the parent's folder for this run (``dirs[0]``):
by-value models and per-job options are found there, and what a model's call for a
block prints, writes to ``sys.stderr`` or logs is kept (:class:`Capture`) and handed
to the parent, which shows it prefixed with the block.
"""
import io
import os
import sys

# json, logging and threading are imported where they are used: a worker's start is
# part of every cold call, and most models never log.

#: True in a worker process.
ACTIVE = False


def command(dirs=(), executable=None):
    """The command line of a worker started from this process: this interpreter,
    with this process's ``sys.path``, so that it imports what this process can, and
    the folders ``dirs`` (this process's own first)."""
    code = (
        f"import sys; sys.path[:] = {list(sys.path)!r}; "
        f"from carlo._worker import main; main({list(dirs)!r})"
    )
    return [executable or sys.executable, "-c", code]


def main(dirs=()):
    global ACTIVE
    ACTIVE = True
    from carlo import _carlo

    capture = Capture(os.path.join(dirs[0], "messages")) if dirs else None
    try:
        _carlo.serve_worker(list(dirs), capture)
    except OSError as e:
        print(e, file=sys.stderr)
        sys.exit(1)


class _Stream(io.TextIOBase):
    """A text stream that records what is written to it as events."""

    def __init__(self, events, name, original):
        self.events = events
        self.name = name
        self.original = original

    def write(self, text):
        if text:
            self.events.append({"stream": self.name, "text": text})
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def encoding(self):
        return getattr(self.original, "encoding", "utf-8")


def _records(events):
    """A logging handler that records into ``events``."""
    import logging

    class Records(logging.Handler):
        def emit(self, record):
            try:
                message = record.getMessage()
            except Exception:  # a bad format string: show it as it is
                message = str(record.msg)
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            events.append(
                {"stream": "log", "level": record.levelno, "name": record.name, "text": message}
            )

    return Records(logging.NOTSET)


class Capture:
    """Keeps what a call of the model (one block) prints, writes to ``sys.stderr`` or
    logs, in order, and leaves it for the parent as ``FOLDER/PID-SEQUENCE.jsonl`` when
    the call ends (written before the chunk's answer, so the parent finds it with the
    answer)."""

    def __init__(self, folder):
        self.folder = folder
        self.sequence = 0
        self.events = None

    def begin(self):
        self.events = []
        self.saved = (sys.stdout, sys.stderr)
        sys.stdout = _Stream(self.events, "stdout", sys.stdout)
        sys.stderr = _Stream(self.events, "stderr", sys.stderr)
        # The records go to the parent alone: handlers the model configured here
        # would write them to this process's stderr, which nobody reads. A model that
        # has not imported logging logs nothing.
        self.handlers = None
        if "logging" in sys.modules:
            import logging

            root = logging.getLogger()
            self.handlers = root.handlers[:]
            root.handlers[:] = [_records(self.events)]

    def note(self, index, text):
        """Leaves a line of carlo's for the parent, as block ``index``'s stderr."""
        saved, self.events = self.events, [{"stream": "stderr", "text": text}]
        self.end_events(index)
        self.events = saved

    def end_events(self, index):
        import json

        events = self.events
        self.sequence += 1
        os.makedirs(self.folder, exist_ok=True)
        name = f"{os.getpid()}-{self.sequence:012d}"
        temporary = os.path.join(self.folder, f".{name}.tmp")
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(json.dumps({"block": index, "pid": os.getpid()}) + "\n")
            for event in events:
                f.write(json.dumps(event) + "\n")
        os.replace(temporary, os.path.join(self.folder, f"{name}.jsonl"))

    def end(self, index, keep=True):
        """Ends the capture of block ``index`` (``None``: the model's import); what
        was captured is left for the parent unless ``keep`` is false (the probe's
        second computation of a block)."""
        if self.handlers is not None:
            sys.modules["logging"].getLogger().handlers[:] = self.handlers
        sys.stdout, sys.stderr = self.saved
        if self.events and keep:
            self.end_events(index)
        self.events = None


class _Muted:
    """A stream that drops what one thread writes and passes the rest on."""

    def __init__(self, original, thread):
        self._original = original
        self._thread = thread

    def write(self, text):
        import threading

        if threading.get_ident() == self._thread:
            return len(text)
        return self._original.write(text)

    def __getattr__(self, name):
        return getattr(self._original, name)


class Mute:
    """Drops what the calling thread prints or writes to ``sys.stderr`` until
    :meth:`restore`: the probe's second computation of the first blocks in the parent,
    whose output the workers' first one has shown already. Other threads write as ever."""

    def __init__(self):
        import logging
        import threading

        thread = threading.get_ident()
        self.saved = (sys.stdout, sys.stderr)
        self.muted = (_Muted(sys.stdout, thread), _Muted(sys.stderr, thread))
        sys.stdout, sys.stderr = self.muted
        # Log records of this thread are dropped too (records of others pass).
        self.handle = logging.Logger.handle
        original = self.handle

        def handle(logger, record):
            if record.thread != thread:
                original(logger, record)

        self.muted_handle = handle
        logging.Logger.handle = handle

    def restore(self):
        import logging

        if sys.stdout is self.muted[0]:
            sys.stdout = self.saved[0]
        if sys.stderr is self.muted[1]:
            sys.stderr = self.saved[1]
        if logging.Logger.handle is self.muted_handle:
            logging.Logger.handle = self.handle


def forward(folder):
    """Shows what workers left in ``folder`` (see :class:`Capture`) in this process,
    each line prefixed with its block: printed text on ``sys.stdout``, ``sys.stderr``
    text on ``sys.stderr``, log records on the same logger here; then removes it."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".jsonl"))
    except OSError:
        return
    if not names:
        return
    import json
    import logging

    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            os.remove(path)
        except OSError:
            continue
        if not lines:
            continue
        head = json.loads(lines[0])
        block = head.get("block")
        prefix = f"[block {block}] " if block is not None else f"[worker {head.get('pid')}] "
        pending = {"stdout": "", "stderr": ""}
        for line in lines[1:]:
            event = json.loads(line)
            stream = event["stream"]
            if stream == "log":
                logging.getLogger(event["name"]).log(
                    event["level"], "%s%s", prefix, event["text"]
                )
                continue
            text = pending[stream] + event["text"]
            *complete, pending[stream] = text.split("\n")
            target = sys.stdout if stream == "stdout" else sys.stderr
            for part in complete:
                target.write(f"{prefix}{part}\n")
        for stream, rest in pending.items():
            if rest:
                (sys.stdout if stream == "stdout" else sys.stderr).write(f"{prefix}{rest}\n")
    for target in (sys.stdout, sys.stderr):
        try:
            target.flush()
        except Exception:
            pass


if __name__ == "__main__":
    main()
