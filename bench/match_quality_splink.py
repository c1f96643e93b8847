"""The Splink 4 side of bench/match_quality.py — run by the Splink virtualenv's Python, not the project's.

    python match_quality_splink.py FOLDER ID_COL NAME_COL DOB_COL SEX_COL PROVINCE_COL THREADS

Reads FOLDER/residents.csv (the registry, exported by match_quality.py) and FOLDER/records.csv (the sector file
as dancu reads it), prepares the records the usual way (names without diacritics and split into family /
middle / given, dates parsed into parts with day and month un-swapped when the month is over 12, sex as 1/2,
old province codes mapped through FOLDER/provinces.csv), and links them with Splink's documented practice:

* blocking rules for predictions: the ID; given + family name + birth year; full date of birth + province;
  given name + birth year + province; full date of birth + sex;
* comparisons: ID exact; given and family names with ``NameComparison`` (exact, Jaro–Winkler bands) and term
  frequency adjustments; middle names exact / Jaro–Winkler; date of birth as custom levels (exact, day and month
  swapped, year and month, year only, one year apart); sex, province exact;
* training: λ from deterministic rules, u by random sampling, m by expectation maximisation on two blocking
  rules (so every comparison is trained);
* prediction at match probability ≥ 0.5, then each record keeps its best resident.

Writes FOLDER/splink_links.csv (line_no, resident_id, probability) and prints the seconds taken last.
"""

from __future__ import annotations

import csv
import re
import sys
import time
import unicodedata

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

DMY = re.compile(r"^(?:(?:(\d{1,2})[/.-])?(\d{1,2})[/.-])?(\d{4})$")
ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def fold(text: str) -> str:
    bare = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d").lower())
    return " ".join("".join(c for c in bare if not unicodedata.combining(c)).split())


def parse_dob(text: str) -> tuple[int | None, int | None, int | None]:
    iso, dmy = ISO.match(text.strip()), DMY.match(text.strip())
    if iso:
        year, month, day = (int(p) if p else None for p in iso.groups())
    elif dmy:
        day, month, year = (int(p) if p else None for p in dmy.groups())
    else:
        return None, None, None
    if month is not None and day is not None and month > 12 >= day:
        month, day = day, month
    return year, month, day


def prepare_records(folder: str, columns: list[str]) -> pd.DataFrame:
    id_col, name_col, dob_col, sex_col, province_col = columns
    with open(f"{folder}/provinces.csv") as stream:
        provinces = dict(csv.reader(stream))
    rows = []
    with open(f"{folder}/records.csv", newline="") as stream:
        for line_no, row in enumerate(csv.DictReader(stream), start=2):
            words = fold(row[name_col]).split()
            year, month, day = parse_dob(row[dob_col])
            pid = re.sub(r"[\s.\-]", "", row[id_col])
            rows.append({"unique_id": line_no, "personal_id": pid if len(pid) == 12 else None,
                         "family": words[0] if words else None, "given": words[-1] if words else None,
                         "middle": " ".join(words[1:-1]) or None, "dob_year": year, "dob_month": month,
                         "dob_day": day, "sex": {"nam": "1", "nữ": "2", "nu": "2"}.get(row[sex_col].lower()),
                         "province": provinces.get(row[province_col], row[province_col]) or None})
    return pd.DataFrame(rows)


def dob_comparison() -> cl.CustomComparison:
    y, m, d = ("dob_year", "dob_month", "dob_day")
    return cl.CustomComparison(output_column_name="dob", comparison_levels=[
        cll.NullLevel(y),
        cll.And(cll.ExactMatchLevel(y), cll.ExactMatchLevel(m), cll.ExactMatchLevel(d)),
        cll.CustomLevel(f"{y}_l = {y}_r AND {m}_l = {d}_r AND {d}_l = {m}_r", "day and month swapped"),
        cll.And(cll.ExactMatchLevel(y), cll.ExactMatchLevel(m)),
        cll.CustomLevel(f"{y}_l = {y}_r AND ({m}_l IS NULL OR {m}_r IS NULL)", "year only"),
        cll.CustomLevel(f"abs({y}_l - {y}_r) = 1 AND {m}_l = {m}_r AND {d}_l = {d}_r", "one year apart"),
        cll.ElseLevel(),
    ])


def main() -> None:
    folder, *columns, threads = sys.argv[1:]
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    records = prepare_records(folder, columns)
    residents = pd.read_csv(f"{folder}/residents.csv", dtype={"personal_id": str, "sex": str, "province": str,
                                                             "family": str, "middle": str, "given": str})
    residents["middle"] = residents["middle"].where(residents["middle"].notna(), None)
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("personal_id"),
            block_on("given", "family", "dob_year"),
            block_on("dob_year", "dob_month", "dob_day", "province"),
            block_on("given", "dob_year", "province"),
            block_on("dob_year", "dob_month", "dob_day", "sex"),
        ],
        comparisons=[
            cl.ExactMatch("personal_id"),
            cl.NameComparison("given").configure(term_frequency_adjustments=True),
            cl.NameComparison("family").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("middle", [0.9]),
            dob_comparison(),
            cl.ExactMatch("sex"),
            cl.ExactMatch("province"),
        ],
    )
    linker = Linker([records, residents], settings, db_api=DuckDBAPI(connection=con),
                    input_table_aliases=["records", "residents"])
    linker.training.estimate_probability_two_random_records_match(
        [block_on("personal_id"), block_on("given", "family", "dob_year", "dob_month", "dob_day")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob_year", "dob_month", "dob_day"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given", "family", "dob_year"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    left_is_record = predictions["source_dataset_l"] == "records"
    predictions["line_no"] = predictions["unique_id_l"].where(left_is_record, predictions["unique_id_r"])
    predictions["resident_id"] = predictions["unique_id_r"].where(left_is_record, predictions["unique_id_l"])
    best = predictions.sort_values("match_probability", ascending=False).drop_duplicates("line_no")
    seconds = time.perf_counter() - started
    best[["line_no", "resident_id", "match_probability"]].to_csv(f"{folder}/splink_links.csv", index=False)
    print(seconds)


if __name__ == "__main__":
    main()
