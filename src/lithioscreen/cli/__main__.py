"""``python -m lithioscreen.cli``: the same as the ``lithioscreen`` executable."""

from lithioscreen.cli import main

main()
