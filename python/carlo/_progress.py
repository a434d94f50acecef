"""The progress display of a run: a tqdm bar where tqdm is installed (``tqdm.auto``:
a widget in a notebook, a bar on a terminal), else a line on ``sys.stderr`` every
few seconds, which a notebook, a log file and a batch job's output all show.

Like the CLI's bar it appears only once a run has taken a second, so short runs
print nothing.
"""
import sys
import time

#: How long a run goes before the display appears.
DELAY = 1.0

#: Seconds between two lines of the plain display.
EVERY = 5.0


class Display:
    """Called by the run as chunks merge: ``(done, total, quantity, estimate,
    std_error)``; :meth:`close` when it ends."""

    def __init__(self, name):
        self.name = name
        self.start = time.monotonic()
        self.bar = None
        self.last_line = None
        self.last = None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        self.tqdm = tqdm

    def __call__(self, done, total, quantity, estimate, std_error):
        self.last = (done, total, quantity, estimate, std_error)
        now = time.monotonic()
        if now - self.start < DELAY and done < total:
            return
        status = f"{quantity} = {estimate:.6g} ± {std_error:.2g}"
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=total, unit="samples", unit_scale=True,
                                     desc=self.name, leave=False, file=sys.stderr)
            self.bar.n = done
            self.bar.set_postfix_str(status, refresh=False)
            self.bar.refresh()
            return
        if self.last_line is None or now - self.last_line >= EVERY or done == total:
            if self.last_line is None and done == total:
                return  # a run that ended within the delay says nothing
            self.last_line = now
            rate = done / max(now - self.start, 1e-9)
            sys.stderr.write(
                f"{self.name}: {done / total:4.0%} of {total:,} samples "
                f"({rate / 1e6:.2f} M/s), {status}\n"
            )
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
