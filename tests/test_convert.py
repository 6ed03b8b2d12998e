"""PMS values become canonical record values, or a clear error naming the field."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from tc_sync.adapter.convert import RowError
from tc_sync.adapter.loading import load_adapter
from tc_sync.records import ClaimStatus, ClaimType, ProcedureStatus


@pytest.fixture(scope="module")
def streams():
    adapter = load_adapter("opendental")
    return {stream.name: stream for stream in adapter.streams("24.3.10.0")}


def convert(stream, **row):
    columns = list(row)
    converter = stream.converter
    return dict(zip(converter.fields, converter.convert(list(row.values()),
                                                        converter.positions(columns)), strict=True))


def procedure_row(**overrides):
    row = dict(pms_id=11, patient_id=5, code=b"D2740", code_id=120, status=1, fee=1250.0,
               units=1, base_units=0, tooth="3", surface="", date_planned=date(2026, 3, 1),
               procedure_date="0000-00-00", date_complete=date(1, 1, 1), appointment_id=0,
               planned_appointment_id=77, priority_id=0, provider_id=1, clinic_id=0,
               changed_at=datetime(2026, 3, 1, 9, 30))
    row.update(overrides)
    return row


def test_open_dental_placeholders_become_none(streams):
    values = convert(streams["procedures"], **procedure_row())
    assert values["procedure_date"] is None          # '0000-00-00'
    assert values["date_complete"] is None           # '0001-01-01'
    assert values["appointment_id"] is None          # 0 means no appointment
    assert values["clinic_id"] is None
    assert values["planned_appointment_id"] == 77


def test_codes_map_through_the_manifest_and_money_is_exact_cents(streams):
    values = convert(streams["procedures"], **procedure_row(fee=0.1 + 0.2))
    assert values["status"] is ProcedureStatus.PLANNED
    assert values["fee"] == 30                         # cents, exactly
    assert convert(streams["procedures"], **procedure_row(fee=Decimal("1250.10")))["fee"] == 125010
    assert values["code"] == "D2740"                 # utf8_bin columns may arrive as bytes


def test_claim_type_and_status_are_read_from_their_letters(streams):
    row = dict(pms_id=1, patient_id=2, claim_type="PreAuth", status="S",
               date_service=date(2026, 1, 5), date_sent=date(2026, 1, 6),
               date_sent_original=date(1, 1, 1), date_received=date(1, 1, 1), fee=900.0,
               estimate=450.0, paid=0.0, write_off=0.0, plan_id=3, subscription_id=4,
               carrier_id=5, custom_tracking_id=0, provider_id=1, clinic_id=0,
               changed_at=datetime(2026, 1, 6, 8, 0), custom_tracking_since=None)
    values = convert(streams["claims"], **row)
    assert values["claim_type"] is ClaimType.PREDETERMINATION
    assert values["status"] is ClaimStatus.SENT
    assert values["date_received"] is None


def test_an_unknown_status_code_is_an_error_naming_field_and_code_map(streams):
    with pytest.raises(RowError) as caught:
        convert(streams["procedures"], **procedure_row(status=42))
    assert caught.value.field == "status"
    assert "procedures.status" in str(caught.value)
    assert "42" in str(caught.value)


def test_a_wrong_type_is_an_error_that_does_not_quote_the_value(streams):
    with pytest.raises(RowError) as caught:
        convert(streams["procedures"], **procedure_row(patient_id="Smith, Jane"))
    assert caught.value.field == "patient_id"
    assert "Smith" not in str(caught.value)


def test_a_missing_required_value_is_an_error(streams):
    with pytest.raises(RowError) as caught:
        convert(streams["procedures"], **procedure_row(units=None))
    assert caught.value.field == "units"


def test_renewal_month_zero_means_january_and_percent_minus_one_means_none(streams):
    coverage = convert(streams["coverages"], pms_id=1, patient_id=2, ordinal=1,
                       subscription_id=3, plan_id=4, subscriber_id=2,
                       date_effective=date(2020, 1, 1), date_term=date(1, 1, 1),
                       group_name="G", renewal_month=0, plan_type="p", carrier_id=9,
                       carrier_name="Acme Dental", carrier_phone="555-0100",
                       changed_at=datetime(2026, 1, 1))
    assert coverage["renewal_month"] == 1
    assert coverage["date_term"] is None
    benefit = convert(streams["benefits"], pms_id=1, plan_id=4, coverage_id=0, category_id=0,
                      benefit_type=5, percent=-1, amount=1500.0, time_period=2,
                      quantity_qualifier=0, quantity=0, code_id=0, coverage_level=1,
                      changed_at=datetime(2026, 1, 1))
    assert benefit["percent"] is None
    assert benefit["amount"] == 150_000


def stored(stream, row: dict, *, temporal_as_text: bool) -> dict:
    """A row as a SQLite ledger would store it, converted with or without the text path."""
    import sqlalchemy as sa

    from tc_sync.ledger.replica import ReplicaWriter

    converter = stream.converter
    positions = converter.positions(list(row))
    values = converter.for_positions(positions, temporal_as_text=temporal_as_text)(
        list(row.values()))
    writer = ReplicaWriter(converter.record, "main", sa.create_engine("sqlite://").dialect)
    parameters = writer._bind_row(values, ())
    return dict(zip(converter.fields, parameters[1:], strict=True))


def test_dates_sent_as_text_are_stored_exactly_as_dates_sent_as_objects(streams):
    """MySQL sends dates as text; a SQLite ledger keeps that text, in the same form the
    object path writes, so a re-read row never looks changed because of the path it took."""
    as_text = procedure_row(date_planned="2026-03-01", procedure_date="0000-00-00",
                            date_complete="2025-12-31", changed_at="2026-03-01 09:30:00")
    as_objects = procedure_row(date_planned=date(2026, 3, 1), procedure_date=None,
                               date_complete=date(2025, 12, 31),
                               changed_at=datetime(2026, 3, 1, 9, 30))
    text_path = stored(streams["procedures"], as_text, temporal_as_text=True)
    assert text_path == stored(streams["procedures"], as_objects, temporal_as_text=False)
    assert text_path["changed_at"] == "2026-03-01 09:30:00.000000"
    assert text_path["procedure_date"] is None


def test_an_impossible_date_sent_as_text_is_still_an_error(streams):
    converter = streams["procedures"].converter
    row = procedure_row(date_planned="2026-02-31")
    with pytest.raises(RowError, match="date_planned"):
        converter.for_positions(converter.positions(list(row)), temporal_as_text=True)(
            list(row.values()))
