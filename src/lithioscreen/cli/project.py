"""`lithioscreen init DIR`: a project folder for a lab's own cells, interfacial energies and models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lithioscreen.cli.common import app, fail, say, stderr, stdout


@app.command()
def init(
    folder: Annotated[
        Path, typer.Argument(help="The new project folder (gets data/ and models/).", show_default=False)
    ],
) -> None:
    """Create a project folder from the shipped data tables and champion: your cells go there, not into the package."""
    from lithioscreen.data.project import ProjectExistsError, init_project

    try:
        data_dir, models_dir = init_project(folder)
    except (ProjectExistsError, OSError) as error:
        fail(str(error))
    say(stdout, f"created {data_dir} and {models_dir}")
    say(stderr, "use them with --data-dir/--models-dir, or:", "dim")
    say(stdout, f"export LITHIOSCREEN_DATA_DIR={data_dir.resolve()} LITHIOSCREEN_MODELS_DIR={models_dir.resolve()}")
