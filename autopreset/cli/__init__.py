"""The ``autopreset`` command line. Thin: every command imports its heavy parts lazily."""
from autopreset.cli._main import main

__all__ = ["main"]
