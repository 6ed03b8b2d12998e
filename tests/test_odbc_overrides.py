"""A site's overrides file: its own Dentrix or Eaglesoft names, codes, values and cursors.

An admin fixes a table or column name without a release; a mistake in the file is reported
as file:line:column and the key, never as a traceback.
"""

from __future__ import annotations

import textwrap

import pytest

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import AdapterError


def write(tmp_path, text: str):
    path = tmp_path / "site-overrides.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def stream(adapter, name: str):
    return next(s for s in adapter.streams(adapter.manifest.version.newest) if s.name == name)


def test_the_shipped_adapters_name_every_table_they_read_and_load_cleanly():
    for kind in ("dentrix", "eaglesoft"):
        adapter = load_adapter(kind)
        for each in adapter.streams(adapter.manifest.version.newest):
            assert "{" not in each.sql, (kind, each.name)
            assert each.reads, (kind, each.name)
            assert each.spec.table in adapter.manifest.tables.values()


def test_a_site_renames_a_view_and_a_column_and_the_sql_follows(tmp_path):
    path = write(tmp_path, """\
        tables:
          v_appt: admin.v_appointment
        columns:
          claim.datesent: sentdate
          v_appt.modified_time_stamp: modified_ts
        """)
    adapter = load_adapter("dentrix", overrides=path)
    appointments = stream(adapter, "appointments")
    assert "FROM admin.v_appointment a" in appointments.sql
    assert appointments.spec.table == "admin.v_appointment"
    assert appointments.spec.cursor == "modified_ts"
    assert "a.modified_ts >= :since" in appointments.sql
    claims = stream(adapter, "claims")
    assert "c.sentdate AS date_sent" in claims.sql and "c.datesent" not in claims.sql
    assert ("admin.claim", "sentdate") in claims.reads


def test_a_stream_without_a_change_timestamp_here_is_pulled_whole(tmp_path):
    path = write(tmp_path, "streams:\n  patients:\n    cursor: null\n")
    adapter = load_adapter("dentrix", overrides=path)
    assert not stream(adapter, "patients").incremental
    assert stream(adapter, "procedures").incremental


def test_a_status_code_learnt_on_site_is_added_to_the_map_and_to_the_filter(tmp_path):
    path = write(tmp_path, "code_maps:\n  procedures.status:\n    106: planned\n")
    adapter = load_adapter("dentrix", overrides=path)
    procedures = stream(adapter, "procedures")
    assert "IN (101, 102, 103, 104, 105, 106)" in procedures.sql
    positions = procedures.converter.positions(procedures.converter.fields)
    values = dict(zip(procedures.converter.fields, procedures.converter.convert(
        [1, 2, "D2740", 5, 106, 1200.0, 1, 0, "3", "", None, None, None, None, None, None,
         None, None, None], positions), strict=True))
    assert values["status"] == "planned"


def test_a_value_changes_what_the_sql_compares_with(tmp_path):
    path = write(tmp_path, "values:\n  walked_out_arrival_status: 5\n")
    adapter = load_adapter("eaglesoft", overrides=path)
    assert "a.arrival_status = 5 THEN" in stream(adapter, "appointments").sql


def test_the_version_range_can_be_widened_after_checking_the_site(tmp_path):
    path = write(tmp_path, 'version:\n  newest: "25.2"\n')
    adapter = load_adapter("eaglesoft", overrides=path)
    adapter.check_version("25.1.3")
    with pytest.raises(AdapterError, match="not supported"):
        load_adapter("eaglesoft").check_version("25.1.3")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("tables:\n  v_apt: admin.v_appointment\n", 2,
     "tables.v_apt: the Dentrix adapter has no table 'v_apt'"),
    ("columns:\n  claim.date_sent: sentdate\n", 2,
     "columns.claim.date_sent: the Dentrix adapter reads no column 'claim.date_sent'"),
    ("streams:\n  patients:\n    cusor: null\n", 3, "streams.patients.cusor: unknown key"),
    ("code_maps:\n  procedures.status:\n    106: planed\n", 2,
     "code_maps.procedures.status: code 106 maps to 'planed', which is not one of"),
    ("version:\n  newest: G7\n", 2, "version.newest: Value error, 'G7' is not a version"),
    ("tables: [v_appt]\n", 1, "tables: Input should be a valid dictionary"),
])
def test_a_mistake_in_the_file_names_its_line_and_key(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(AdapterError) as raised:
        load_adapter("dentrix", overrides=path)
    assert f"{path}:{line}:" in str(raised.value)
    assert message in str(raised.value)


def test_open_dental_takes_no_overrides_file(tmp_path):
    path = write(tmp_path, "tables: {}\n")
    with pytest.raises(AdapterError, match="takes no overrides file"):
        load_adapter("opendental", overrides=path)


def test_a_practice_defined_status_maps_through_the_any_code_entry():
    appointments = stream(load_adapter("dentrix"), "appointments")
    converter = appointments.converter
    positions = converter.positions(converter.fields)
    row = [7, 3, "1234", None, None, None, None, None, None, None, "normal", None]
    assert dict(zip(converter.fields, converter.convert(row, positions), strict=True))[
        "status"] == "scheduled"
    row[2] = "broken"
    assert dict(zip(converter.fields, converter.convert(row, positions), strict=True))[
        "status"] == "broken"


def test_the_daemon_reloads_an_adapter_only_when_its_files_change(tmp_path):
    path = write(tmp_path, "streams:\n  patients:\n    cursor: null\n")
    first = load_adapter("dentrix", overrides=path)
    assert load_adapter("dentrix", overrides=path) is first       # nothing changed: kept
    path.write_text("streams:\n  procedures:\n    cursor: null\n")  # the site edits its file
    edited = load_adapter("dentrix", overrides=path)
    assert edited is not first
    assert stream(edited, "patients").incremental
    assert not stream(edited, "procedures").incremental
