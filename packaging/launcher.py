"""Entry script of the bundle: the same ``tramtiem`` command as ``pip install`` gives."""

from __future__ import annotations

import multiprocessing

if __name__ == "__main__":
    # A process pool (multiprocessing) re-runs this script in a frozen build.
    multiprocessing.freeze_support()
    from ui.cli import run

    run()  # main(), then the process's end (ui.cli.run: a sync ends without the teardown)
