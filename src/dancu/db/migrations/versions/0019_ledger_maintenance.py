"""The exchange log's partitions are vacuumed and analysed a little and often, gently, instead of now and then
in one burst that the answers of the moment wait behind.

Each plain partition (those there are, and every one ``ledger_ensure_partition`` makes from now on, through
``ledger_tune_partition(regclass)``) gets:

- ``autovacuum_vacuum_insert_threshold = 100000`` with ``autovacuum_vacuum_insert_scale_factor = 0.02``: an
  insert-only table is vacuumed after 100,000 entries plus 2 % of its size, not after a fifth of its size.
  By default a 2.8-million-entry month waited for 560,000 new entries and then scanned 30,000 pages in one
  go, most of them no longer in shared buffers (8 s, 160 MB of WAL, 19,380 full-page images).  The 2 % keeps
  what each vacuum also costs in proportion: every vacuum reads the whole GIN index on ``personal_ids``
  (its clean-up pass; 6,116 pages for 5 million entries), which grows through the month, so vacuums grow
  rarer as it does: about one index page read per 16 entries logged, however large the month gets.
- ``autovacuum_freeze_min_age = 0``: an entry is never updated, so the vacuum that first visits a page freezes
  it there, while the page is recent, instead of an anti-wraparound vacuum reading it all again months later.
- ``autovacuum_vacuum_cost_limit = 50`` (a quarter of the server's default 200): that vacuum spreads its
  work over four times as long.
- column statistics sized to the queries: none for the hashes, the correlation id and the latency, which no
  query filters, joins or groups on, and a target of 10 for every other column (read from the catalogue, so a
  column added later gets it too): ANALYZE samples 3,000 rows instead of 30,000 (0.43 → 0.03 s when run by
  hand on 2.8 million entries).

Re-running the function (a later migration redefining it) overwrites these options on each partition it is
run on; options it does not name are kept.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

NO_STATISTICS = ("request_hash", "response_hash", "leaf_hash", "correlation_id", "latency_ms")
STORAGE = {"autovacuum_vacuum_insert_threshold": 100000, "autovacuum_vacuum_insert_scale_factor": 0.02,
           "autovacuum_freeze_min_age": 0, "autovacuum_vacuum_cost_limit": 50}
SET_STORAGE = ", ".join(f"{name} = {value}" for name, value in STORAGE.items())
UNTUNED = ", ".join(f"'{c}'" for c in NO_STATISTICS)  # as SQL literals

# The columns are read from the catalogue, so a column added to ledger_entry later gets target 10 too and a
# renamed or dropped one cannot make partition creation fail.
TUNE_PARTITION = f"""
CREATE FUNCTION ledger_tune_partition(partition regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    columns text;
BEGIN
    SELECT string_agg(format('ALTER COLUMN %I SET STATISTICS %s', attname,
                             CASE WHEN attname IN ({UNTUNED}) THEN 0 ELSE 10 END), ', ' ORDER BY attnum)
      INTO columns
      FROM pg_attribute WHERE attrelid = partition AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('ALTER TABLE %s SET ({SET_STORAGE}), %s', partition, columns);
END $$
"""


def _ensure_partition(after_create: str = "") -> str:
    """``ledger_ensure_partition`` as migration 0002 made it, with ``after_create`` run on a partition it made
    (this migration's tuning; nothing for the downgrade)."""
    return f"""
CREATE OR REPLACE FUNCTION ledger_ensure_partition(moment timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz := date_trunc('month', moment AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'ledger_entry_' || to_char(moment AT TIME ZONE 'UTC', 'YYYY"m"MM');
BEGIN
    IF to_regclass('ledger_partitions.' || name) IS NULL THEN
        EXECUTE format('CREATE TABLE IF NOT EXISTS ledger_partitions.%I PARTITION OF ledger_entry '
                       'FOR VALUES FROM (%L) TO (%L)', name, month_start, month_start + interval '1 month');
        {after_create}
    END IF;
    RETURN name;
END $$
"""


# plain tables only: a default partition elsewhere is tuned too; a sub-partitioned or foreign one has no such
# storage parameters
PARTITIONS = ("SELECT i.inhrelid::regclass AS partition FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
              "WHERE i.inhparent = 'ledger_entry'::regclass AND c.relkind = 'r'")


def upgrade() -> None:
    op.execute(TUNE_PARTITION)
    op.execute(_ensure_partition("PERFORM ledger_tune_partition(format('ledger_partitions.%I', name)::regclass);"))
    op.execute(f"SELECT ledger_tune_partition(partition) FROM ({PARTITIONS}) AS partitions")


def downgrade() -> None:
    op.execute(_ensure_partition())
    op.execute(f"""DO $$
DECLARE
    partition regclass;
    columns text;
BEGIN
    FOR partition IN {PARTITIONS} LOOP
        SELECT string_agg(format('ALTER COLUMN %I SET STATISTICS -1', attname), ', ') INTO columns
          FROM pg_attribute WHERE attrelid = partition AND attnum > 0 AND NOT attisdropped;
        EXECUTE format('ALTER TABLE %s RESET ({', '.join(STORAGE)}), %s', partition, columns);
    END LOOP;
END $$""")
    op.execute("DROP FUNCTION ledger_tune_partition(regclass)")
