"""The bundle's entry point: ``dist/desmig/desmig`` runs ``desmig_desktop.cli.main`` (see desmig.spec).

Not ``desmig_desktop/cli.py`` itself: PyInstaller runs its script as ``__main__``, and the
app's modules are kept under their package names, each loaded once.
"""

from __future__ import annotations

import sys

from desmig_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
