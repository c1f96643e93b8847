"""Migration 0017 on a database holding focal points: each gets its first history row (``added`` if published,
else ``proposed``); the downgrade removes what the revision added and keeps withdrawn officers out of the
directory."""

from __future__ import annotations

import psycopg
import pytest

from dancu.db import migrate as migrations
from dancu.db.engine import libpq_url
from dancu.db.scratch import scratch_database


def _focal_point(conn: psycopg.Connection, org_id: int, name: str, published: bool) -> int:
    row = conn.execute(
        "INSERT INTO focal_point (org_id, name, position, function, phone, email, published) "
        "VALUES (%s, %s, 'CIO', 'kỹ thuật', '0912 345 678', %s, %s) RETURNING focal_point_id",
        (org_id, name, f"{name.split()[-1].lower()}@bank.example.vn", published)).fetchone()
    assert row is not None
    return int(row[0])


def test_focal_points_get_a_history_and_the_downgrade_keeps_withdrawn_ones_hidden(database_url: str) -> None:
    with scratch_database(database_url, prefix="dancu_m17") as url:
        migrations.upgrade(url, "0016")
        with psycopg.connect(libpq_url(url)) as conn:
            org = conn.execute("INSERT INTO organisation (instance, member_class, member_code, name, org_type) "
                               "VALUES ('VN', 'COM', 'B1', 'Bank', 'credit_institution') RETURNING org_id").fetchone()
            assert org is not None
            public = _focal_point(conn, org[0], "Nguyễn Thị Hoa", published=True)
            proposed = _focal_point(conn, org[0], "Trần Văn Bình", published=False)
        migrations.upgrade(url, "0017")
        with psycopg.connect(libpq_url(url)) as conn:
            rows = conn.execute("SELECT focal_point_id, kind, actor, changes, changed_at = fp.created_at "
                                "FROM focal_point_change JOIN focal_point fp USING (focal_point_id) "
                                "ORDER BY change_id").fetchall()
            assert [r[:3] for r in rows] == [(public, "added", "migration 0017"),
                                             (proposed, "proposed", "migration 0017")]
            assert rows[0][3] == {"name": [None, "Nguyễn Thị Hoa"], "position": [None, "CIO"],
                                  "function": [None, "kỹ thuật"], "phone": [None, "0912 345 678"],
                                  "email": [None, "hoa@bank.example.vn"]}
            assert all(r[4] for r in rows)
            conn.execute("UPDATE focal_point SET withdrawn_at = now() WHERE focal_point_id = %s", (public,))
            conn.execute("INSERT INTO focal_point_change (focal_point_id, kind, actor, changes) "
                         "VALUES (%s, 'withdrawn', 'officer', '{}')", (public,))
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():  # a savepoint
                conn.execute("INSERT INTO focal_point_change (focal_point_id, kind, actor, changes) "
                             "VALUES (%s, 'renamed', 'officer', '{}')", (public,))
        migrations.downgrade(url, "0016")
        with psycopg.connect(libpq_url(url)) as conn:
            points = conn.execute("SELECT focal_point_id, published FROM focal_point ORDER BY 1").fetchall()
            table = conn.execute("SELECT to_regclass('focal_point_change')").fetchone()
            column = conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'focal_point' "
                                  "AND column_name = 'withdrawn_at'").fetchone()
        assert points == [(public, False), (proposed, False)] and table == (None,) and column == (0,)
