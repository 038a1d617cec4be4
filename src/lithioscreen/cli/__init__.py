"""The ``lithioscreen`` command: parse, call the library, print.

One module per command group; each registers its commands on the shared Typer ``app`` and imports
the library only inside the command, so ``lithioscreen --help`` stays fast.
"""

from lithioscreen.cli.common import app
from lithioscreen.cli import rank as _rank  # noqa: F401  (registers rank, features)
from lithioscreen.cli import train as _train  # noqa: F401  (registers train)
from lithioscreen.cli import report as _report, serve as _serve  # noqa: F401  (registers serve, ui, report)
from lithioscreen.cli import cells as _cells, suggest as _suggest  # noqa: F401  (registers cells add/list/history/template; suggest)
from lithioscreen.cli import interface as _interface  # noqa: F401  (registers interface)

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()
