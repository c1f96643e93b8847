"""Matching sector records to residents.

Pure: ``records.py`` (normalising a record), ``names.py`` (name keys; ``sync_name_loose`` in SQL, migration 0005,
is the twin of :func:`names.loose_key`), ``fields.py`` (comparison levels), ``model.py`` (Fellegi–Sunter weights
and decisions), ``blocking.py`` (blocking keys), ``scoring.py`` (ranking a record's candidates).
With the database: ``index.py`` (``dancu sync index-keys``), ``training.py`` (learning a job's model),
``stage_b.py`` (demographic matching, stage b), ``repository.py`` (its SQL), ``tables.py`` (migration 0012).
"""
