"""Reference data files (JSON) read by :mod:`station.refdata`; see README.md."""
