"""Entry point of the ``tramtiem-hub`` executable in the site-hub bundle (packaging/tramtiem.spec).

The station (``tramtiem site-hub serve``, or Admin → Site hub in the window) runs it as a
child process from the same folder: ``tramtiem-hub relay enroll`` then
``tramtiem-hub serve --relay-to PROVINCE``.
"""

import sys

from hub.cli import main

if __name__ == "__main__":
    sys.exit(main())
