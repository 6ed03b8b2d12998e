"""The ODBC dialect layer and adapter names: how one adapter's SQL reaches four servers.

Pure functions, no database: what c-treeACE, SQL Anywhere, PostgreSQL and SQLite are sent,
and how rows come back (fixed-width text trimmed, Dentrix's split times joined).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tc_sync.adapter.names import Names, NamesError, render, render_columns
from tc_sync.drivers.catalog import compare_names
from tc_sync.drivers.dialect import (
    DIALECTS,
    detect,
    fold_null_guards,
    limit_rows,
    plan_shape,
    prepare,
    shape_rows,
    strip_comments,
)

SQL = """-- Patients; the view's name is the site's.
SELECT p.patient_id AS pms_id, p.last_name AS last_name
FROM admin.v_patient p
WHERE p.patient_id > :after_key AND p.patient_id <= :until_key
  AND (:since IS NULL OR p.modified >= :since)
ORDER BY p.patient_id
LIMIT :batch_size"""
PARAMS = {"after_key": 0, "until_key": 99, "since": None, "batch_size": 500}


@pytest.mark.parametrize("server", ["ctree", "sqlanywhere"])
def test_dentrix_and_eaglesoft_servers_get_top_n_and_no_limit(server):
    statement = prepare(SQL, PARAMS, DIALECTS[server])
    assert statement.sql.startswith("SELECT TOP 500 p.patient_id")
    assert "LIMIT" not in statement.sql
    assert statement.values == (0, 99)


@pytest.mark.parametrize("server", ["postgresql", "sqlite"])
def test_the_test_doubles_get_limit_n(server):
    statement = prepare(SQL, PARAMS, DIALECTS[server])
    assert statement.sql.endswith("ORDER BY p.patient_id\nLIMIT 500")
    assert "TOP" not in statement.sql


def test_top_goes_after_distinct():
    sql, _ = limit_rows("SELECT DISTINCT x FROM t ORDER BY x LIMIT :n", {"n": 7},
                        DIALECTS["sqlanywhere"])
    assert sql == "SELECT DISTINCT TOP 7 x FROM t ORDER BY x"


def test_a_row_limit_that_is_not_a_whole_number_is_refused():
    with pytest.raises(ValueError, match="whole number"):
        limit_rows("SELECT x FROM t LIMIT :n", {"n": "5; DROP TABLE t"}, DIALECTS["ctree"])


def test_a_full_pull_folds_the_since_guard_away_and_sends_no_null_parameter():
    statement = prepare(SQL, PARAMS, DIALECTS["postgresql"])
    assert "(1 = 1)" in statement.sql
    assert "IS NULL" not in statement.sql
    assert None not in statement.values


def test_an_incremental_pull_keeps_only_the_comparison():
    since = datetime(2026, 11, 26, 8, 30)
    statement = prepare(SQL, {**PARAMS, "since": since}, DIALECTS["postgresql"])
    assert "(p.modified >= ?)" in statement.sql
    assert statement.values == (0, 99, since)


def test_a_guard_with_parentheses_and_quotes_inside_folds_whole():
    sql = "WHERE (:s IS NULL OR (a >= :s AND b <> ')')) AND c = 1"
    assert fold_null_guards(sql, {"s": None}) == "WHERE (1 = 1) AND c = 1"
    assert fold_null_guards(sql, {"s": 1}) == "WHERE ((a >= :s AND b <> ')')) AND c = 1"


def test_comments_go_but_text_that_looks_like_one_stays():
    sql = "-- a note; with a ' quote\nSELECT '--not a comment' AS x /* gone */ FROM t"
    assert strip_comments(sql) == "SELECT '--not a comment' AS x  FROM t"


def test_sqlite_gets_date_times_as_text_it_compares_inclusively():
    statement = prepare("SELECT 1 FROM t WHERE ts >= :since", {
        "since": datetime(2026, 11, 26, 8, 30)}, DIALECTS["sqlite"])
    assert statement.values == ("2026-11-26 08:30:00",)


@pytest.mark.parametrize(("reported", "dialect"), [
    ("PostgreSQL", "postgresql"), ("SQLite", "sqlite"), ("SQL Anywhere", "sqlanywhere"),
    ("Adaptive Server Anywhere", "sqlanywhere"), ("c-treeACE SQL", "ctree"),
    ("FairCom DB SQL", "ctree")])
def test_the_dialect_is_told_by_the_name_the_driver_reports(reported, dialect):
    found = detect(reported)
    assert found is not None and found.name == dialect


def test_an_unknown_server_has_no_dialect():
    assert detect("Informix") is None


def test_fixed_width_text_is_trimmed_and_split_times_are_joined():
    columns = ["pms_id", "last_name", "starts_at__date", "starts_at__hour",
               "starts_at__minute", "status"]
    shape = plan_shape(columns, [False, True, False, False, False, True])
    rows = shape_rows(shape, [
        (1, "Okafor    ", date(2026, 12, 3), 9, 40, "A "),
        (2, "Lindqvist ", None, None, None, "broken")])
    assert shape.columns == ("pms_id", "last_name", "starts_at", "status")
    assert rows == [(1, "Okafor", datetime(2026, 12, 3, 9, 40), "A"),
                    (2, "Lindqvist", None, "broken")]


def test_a_split_time_without_its_date_is_refused():
    with pytest.raises(ValueError, match="starts_at__date"):
        plan_shape(["starts_at__hour"], [False])


# --- adapter names ------------------------------------------------------------------------------

NAMES = Names(
    tables={"v_appt": "admin.v_appt", "claim": "admin.claim"},
    columns={("claim", "datesent"): "sentdate"},
    values={"walked_out": 4, "label": "it's"},
    code_maps={"claims.claim_type": {"0": "primary", "2": "predetermination",
                                     "3": "predetermination", "*": "primary"}})


def test_tables_and_columns_take_the_site_names_and_are_recorded():
    rendered = render("SELECT c.datesent, c.patid, a.broken FROM {claim} c "
                      "JOIN {v_appt} AS a ON a.patient_id = c.patid", NAMES, "x.sql")
    assert rendered.sql == ("SELECT c.sentdate, c.patid, a.broken FROM admin.claim c "
                            "JOIN admin.v_appt AS a ON a.patient_id = c.patid")
    assert rendered.reads == {("claim", "datesent"), ("claim", "patid"),
                              ("v_appt", "broken"), ("v_appt", "patient_id")}
    assert NAMES.real(rendered.reads) >= {("admin.claim", "sentdate")}


def test_codes_and_values_are_written_as_literals():
    rendered = render("SELECT 1 FROM {claim} c WHERE c.claimtype IN "
                      "({codes:claims.claim_type=predetermination}) AND c.x = {value:walked_out}"
                      " AND c.y = {value:label} AND c.z IN ({codes:claims.claim_type})",
                      NAMES, "x.sql")
    assert "IN (2, 3)" in rendered.sql
    assert "c.x = 4" in rendered.sql and "c.y = 'it''s'" in rendered.sql
    assert "c.z IN (0, 2, 3)" in rendered.sql   # never the "*" of "any other code"


def test_a_code_list_with_no_code_matches_nothing():
    rendered = render("SELECT 1 FROM {claim} c WHERE c.t IN ({codes:claims.claim_type=other})",
                      NAMES, "x.sql")
    assert "IN (NULL)" in rendered.sql


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT 1 FROM {claims} c", "{claims} is not one of the adapter's tables"),
    ("SELECT 1 FROM {claim} WHERE 1 = 1", "needs an alias"),
    ("SELECT {value:nope} FROM {claim} c", "{value:nope} is not one of the adapter's values"),
    ("SELECT 1 FROM {claim} c WHERE c.a IN ({codes:x.y})", "names no code map"),
])
def test_sql_naming_what_the_manifest_lacks_is_refused(sql, message):
    with pytest.raises(NamesError, match=message.replace("{", r"\{").replace("}", r"\}")):
        render(sql, NAMES, "x.sql")


def test_a_two_column_key_is_renamed_column_by_column():
    names = Names({"ps": "PPM.planned_services"}, {("ps", "line_number"): "line_no"})
    expression, reads = render_columns("patient_id * 4294967296 + line_number", "ps", names)
    assert expression == "patient_id * 4294967296 + line_no"
    assert reads == {("ps", "patient_id"), ("ps", "line_number")}


# --- the catalog comparison ---------------------------------------------------------------------

def test_missing_names_come_with_the_nearest_ones_and_the_streams_they_switch_off():
    tables = ["admin.v_patient", "admin.claims", "admin.claiminfo", "admin.fullproclog"]
    columns = {"admin.v_patient": ["patient_id", "LAST_NAME", "modified_timestamp"],
               "admin.fullproclog": ["procid", "claimid"]}
    report = compare_names({
        "patients": frozenset({("admin.v_patient", "patient_id"),
                               ("admin.v_patient", "last_name"),
                               ("admin.v_patient", "modified_time_stamp")}),
        "claims": frozenset({("admin.claim", "claimid")}),
        "procedures": frozenset({("ADMIN.FULLPROCLOG", "procid")}),
    }, tables, columns.__getitem__)
    missing = {m.name: m for m in report.missing}
    assert set(missing) == {"admin.v_patient.modified_time_stamp", "admin.claim"}
    assert missing["admin.v_patient.modified_time_stamp"].nearest == ("modified_timestamp",)
    assert missing["admin.claim"].nearest[:2] == ("admin.claims", "admin.claiminfo")
    assert report.off == {"patients": ["admin.v_patient.modified_time_stamp"],
                          "claims": ["admin.claim"]}


def test_an_unqualified_table_is_found_in_any_schema():
    report = compare_names({"s": frozenset({("patient", "patient_id")})},
                           ["PPM.patient"], lambda table: ["patient_id"])
    assert report.missing == []
