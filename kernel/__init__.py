"""The pure kernel both the station and the hub import.

Ids, the clock, the error vocabulary, roles, Vietnamese rules, reference data,
chunking of long ``IN`` lists, the file formats (ops bundle, import tables).
It imports no database driver, no HTTP server and no Qt (an import-linter
contract in pyproject.toml keeps it so): the hub can use it without pulling
SQLCipher, the keyring or the station's services.
"""
