"""The `digest` command, a thin layer over the library.

What other stages may use; the modules beside this one are internal."""

from ._commands import main

__all__ = ["main"]
