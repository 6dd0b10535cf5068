"""How the hub applies an op: one row-building description, one executor, the special cases.

* :mod:`hub.apply.rows` — the rows an op creates, defined once;
* :mod:`hub.apply.bulk` — the executor planning walk-ins, screenings and doses
  from look-ups and writing them in bulk (a run of many ops, or of one);
* :mod:`hub.apply.orm` — every other op, and any op the executor declines
  (merges, redirects, possible duplicates, refusals), through its ORM applier
  in :mod:`~hub.apply.people`, :mod:`~hub.apply.clinical`,
  :mod:`~hub.apply.admin` or :mod:`~hub.apply.reviews`;
* :mod:`hub.apply.context` — the op context, ledger hash and PostgreSQL lock order.

The push loop (ledger, replica order, answers) is :mod:`hub.ingest`.
"""
