"""A carlo worker process: ``python -m carlo._worker``.

Serves carlo's worker protocol on standard input and output (the ``carlo`` binary
starts these for ``[model] type = "python"``; ``carlo.run`` and ``carlo.run_model``
start them for the processes backend). Not for use by hand.
"""
import sys

#: True in a worker process.
ACTIVE = False


def command(executable=None):
    """The command line of a worker started from this process: this interpreter,
    with this process's ``sys.path``, so that it imports what this process can."""
    code = f"import sys; sys.path[:] = {list(sys.path)!r}; import carlo._worker as w; w.main()"
    return [executable or sys.executable, "-c", code]


def main():
    global ACTIVE
    ACTIVE = True
    from carlo import _carlo

    try:
        _carlo.serve_worker()
    except OSError as e:
        print(e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
