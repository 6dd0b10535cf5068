"""Reference data files (JSON) read by :mod:`kernel.refdata`; see README.md."""
