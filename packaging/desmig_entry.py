"""The bundle's entry point: ``dist/desmig/desmig`` runs ``desmig_desktop.cli.main`` (see desmig.spec).

Not ``desmig_desktop/cli.py`` itself: PyInstaller runs its script as ``__main__``, so the
subcommands that ``desmig_desktop.sync.cli`` registers on the imported ``desmig_desktop.cli``
would land in another module object than the one running.
"""

from __future__ import annotations

import sys

from desmig_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
