"""Subcommands of ``desmig`` kept outside ``desmig_desktop.cli`` (which builds the command table).

They sit at the composition root's level, above the services they call: nothing in ``domain``,
``store``, ``sync``, ``services`` or ``ui`` imports this package.
"""
