"""The ``lithioscreen`` command: parse, call the library, print.

One module per command group; each registers its commands on the shared Typer ``app`` and imports
the library only inside the command, so ``lithioscreen --help`` stays fast.
"""

import gc

# importing a command module registers its commands on ``app``
from lithioscreen.cli import cells as _cells  # noqa: F401  (cells add/list/history/template)
from lithioscreen.cli import interface as _interface  # noqa: F401  (interface)
from lithioscreen.cli import project as _project  # noqa: F401  (init)
from lithioscreen.cli import rank as _rank  # noqa: F401  (rank, features)
from lithioscreen.cli import report as _report  # noqa: F401  (report)
from lithioscreen.cli import serve as _serve  # noqa: F401  (serve, ui)
from lithioscreen.cli import suggest as _suggest  # noqa: F401  (suggest)
from lithioscreen.cli import train as _train  # noqa: F401  (train)
from lithioscreen.cli.common import app

__all__ = ["app", "main"]

#: Allocations between two collections of the youngest GC generation (CPython's default: 700).
GC_GENERATION0_THRESHOLD = 10_000


def main() -> None:
    """The ``lithioscreen`` executable.

    A CLI run is one short process that spends most of its time importing pandas and scikit-learn:
    hundreds of thousands of objects that live until exit, which the cyclic garbage collector would
    scan again and again, and once more at exit, without freeing any. Collecting less often, and
    freezing what is alive when the command ends so that the final collection skips it, shortens
    ``lithioscreen rank --top 10`` noticeably: ``benchmarks/cli_latency.py`` times it with and
    without these settings (``benchmarks/results/cli_latency.json``). Garbage is still collected
    during the run, so the peak memory of a large screen does not grow (see the benchmarks page,
    ``docs/benchmarks.md``).
    """
    from lithioscreen.config import ReadOnlyFolderError

    gc.set_threshold(GC_GENERATION0_THRESHOLD, *gc.get_threshold()[1:])
    try:
        app()
    except ReadOnlyFolderError as error:  # a write into the installed package: a one-line error, exit 2
        from rich.text import Text

        from lithioscreen.cli.common import as_flags, stderr

        stderr.print(Text.assemble(("error:", "bold red"), " ", as_flags(str(error))), highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    finally:
        gc.freeze()
