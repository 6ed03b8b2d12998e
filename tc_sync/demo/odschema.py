"""The Open Dental tables tc-sync reads, described as data, and their DDL for MySQL and SQLite.

This is the project's own fixture schema, written from Open Dental's documented schema: every
column an adapter query in ``adapters/opendental`` reads, plus a few of the other NOT NULL columns
a real database has, with Open Dental's MySQL types, defaults, primary keys and the secondary
indexes on those columns. It is not the whole Open Dental schema.

Facts it keeps, because code that reads Open Dental must cope with them:

* tables are MyISAM with charset utf8; code columns (``procedurecode.ProcCode``) are ``utf8_bin``;
* a date that is "none" is ``'0001-01-01'`` (old rows may even hold ``'0000-00-00'``);
* the cursor columns ``DateTStamp`` / ``SecDateTEdit`` are ``timestamp NOT NULL DEFAULT
  CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP`` and mostly carry **no** index;
* many NOT NULL columns have no default (Open Dental runs with ``sql_mode=''``);
* schema 24.2.1 dropped table ``plannedappt`` and added ``appointment.ItemOrderPlanned``.

:func:`mysql_ddl` and :func:`sqlite_ddl` render the tables of one schema version. The SQLite form
keeps the same table and column names, so the adapter SQL runs unchanged on both, and emulates
``ON UPDATE CURRENT_TIMESTAMP`` with triggers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "PLANNEDAPPT_DROPPED_IN",
    "TABLES",
    "Column",
    "Index",
    "Table",
    "mysql_ddl",
    "parse_version",
    "sqlite_ddl",
    "table",
    "tables_for",
    "version_at_least",
]

#: The first schema version without table ``plannedappt`` and with ``appointment.ItemOrderPlanned``.
PLANNEDAPPT_DROPPED_IN = "24.2.1"

_INT_TYPES = ("bigint", "int", "tinyint", "smallint", "mediumint")
_REAL_TYPES = ("double", "float", "decimal")
_DATE_TYPES = ("date", "datetime", "timestamp", "time")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SQLITE_NOW = "datetime('now','localtime')"


def parse_version(version: str) -> tuple[int, ...]:
    """Return the numeric parts of a version, padded to four: ``"24.3.10"`` -> (24, 3, 10, 0).

    Anything that is not a digit separates parts, so ``"24.2.1"`` and ``"24.2.1.0"`` compare equal.
    """
    parts = tuple(int(p) for p in re.findall(r"\d+", version))
    if not parts:
        raise ValueError(f"not a version: {version!r}")
    return parts + (0,) * (4 - len(parts))


def version_at_least(version: str, minimum: str) -> bool:
    """Tell whether schema ``version`` is ``minimum`` or later, comparing the numeric parts."""
    return parse_version(version) >= parse_version(minimum)


@dataclass(frozen=True)
class Column:
    """One column, typed as Open Dental declares it in MySQL.

    ``default`` is the SQL literal of the MySQL ``DEFAULT`` clause exactly as Open Dental writes
    it (``"'0'"``, ``"'0001-01-01'"``, ``"NULL"``, ``"CURRENT_TIMESTAMP"``), or None for a column
    declared without a default. ``since`` is the first schema version that has the column.
    """

    name: str
    type: str
    nullable: bool = False
    default: str | None = None
    binary: bool = False
    since: str | None = None

    @property
    def kind(self) -> str:
        """The value kind: int, real, text, date, datetime, timestamp or time."""
        base = self.type.split("(", 1)[0].split()[0].lower()
        if base in _INT_TYPES:
            return "int"
        if base in _REAL_TYPES:
            return "real"
        if base in _DATE_TYPES:
            return base
        return "text"

    @property
    def is_timestamp(self) -> bool:
        """True for ``timestamp ... ON UPDATE CURRENT_TIMESTAMP`` columns (the sync cursors)."""
        return self.kind == "timestamp"

    def in_version(self, version: str) -> bool:
        """Tell whether the column exists in schema ``version``."""
        return self.since is None or version_at_least(version, self.since)

    def mysql(self, *, auto_increment: bool = False) -> str:
        """Render the column definition for MySQL's CREATE TABLE."""
        parts = [f"`{self.name}`", self.type]
        if self.binary:
            parts.append("CHARACTER SET utf8 COLLATE utf8_bin")
        parts.append("DEFAULT NULL" if self.nullable and self.default == "NULL" else "")
        if not self.nullable:
            parts.append("NOT NULL")
        if auto_increment:
            parts.append("AUTO_INCREMENT")
        elif self.is_timestamp:
            parts.append("DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP")
        elif self.default is not None and self.default != "NULL":
            parts.append(f"DEFAULT {self.default}")
        return " ".join(p for p in parts if p)

    def sqlite_default(self) -> str:
        """The SQLite DEFAULT literal.

        SQLite has no non-strict mode, so a NOT NULL column that Open Dental declares without a
        default gets the value MySQL would store when the column is left out (0, '' or the "none"
        date), and zero dates become Open Dental's ``'0001-01-01'``.
        """
        if self.is_timestamp:
            return f"({_SQLITE_NOW})"
        literal = self.default
        if literal is None:
            if self.nullable:
                return "NULL"
            literal = {
                "int": "0",
                "real": "0",
                "text": "''",
                "date": "'0001-01-01'",
                "datetime": "'0001-01-01 00:00:00'",
                "time": "'00:00:00'",
            }[self.kind]
        if literal == "NULL":
            return literal
        if self.kind in ("int", "real"):
            return literal.strip("'")
        return literal.replace("0000-00-00", "0001-01-01")

    def sqlite(self, *, primary_key: bool = False) -> str:
        """Render the column definition for SQLite's CREATE TABLE."""
        if primary_key:
            return f'"{self.name}" INTEGER PRIMARY KEY AUTOINCREMENT'
        affinity = {"int": "INTEGER", "real": "REAL"}.get(self.kind, "TEXT")
        null = "" if self.nullable else " NOT NULL"
        return f'"{self.name}" {affinity}{null} DEFAULT {self.sqlite_default()}'


@dataclass(frozen=True)
class Index:
    """A secondary (non-unique) index; a column may carry a MySQL prefix length, ``"LName(10)"``."""

    name: str
    columns: tuple[str, ...]

    def mysql(self) -> str:
        """Render the index as a MySQL ``KEY`` clause."""
        cols = ",".join(_mysql_index_column(c) for c in self.columns)
        return f"KEY `{self.name}` ({cols})"

    def column_names(self) -> tuple[str, ...]:
        """The indexed column names, without prefix lengths."""
        return tuple(c.split("(", 1)[0] for c in self.columns)


def _mysql_index_column(spec: str) -> str:
    name, _, rest = spec.partition("(")
    return f"`{name}`({rest}" if rest else f"`{name}`"


@dataclass(frozen=True)
class Table:
    """One Open Dental table: columns in Open Dental's order, its AUTO_INCREMENT key, indexes.

    ``until`` is the first schema version without the table.
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: str
    indexes: tuple[Index, ...] = ()
    until: str | None = None

    def in_version(self, version: str) -> bool:
        """Tell whether the table exists in schema ``version``."""
        return self.until is None or not version_at_least(version, self.until)

    def columns_for(self, version: str) -> tuple[Column, ...]:
        """The table's columns in schema ``version``."""
        return tuple(c for c in self.columns if c.in_version(version))

    def column_names(self, version: str) -> tuple[str, ...]:
        """The names of the table's columns in schema ``version``."""
        return tuple(c.name for c in self.columns_for(version))

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def timestamp_column(self) -> str | None:
        """The ``ON UPDATE CURRENT_TIMESTAMP`` column (DateTStamp or SecDateTEdit), if any."""
        for col in self.columns:
            if col.is_timestamp:
                return col.name
        return None

    def mysql_create(self, version: str, engine: str = "MyISAM") -> str:
        """Render CREATE TABLE for MySQL/MariaDB."""
        _check_identifier(engine)
        cols = self.columns_for(version)
        names = {c.name for c in cols}
        lines = [
            "  " + c.mysql(auto_increment=c.name == self.primary_key) for c in cols
        ]
        lines.append(f"  PRIMARY KEY (`{self.primary_key}`)")
        lines.extend(
            "  " + ix.mysql() for ix in self.indexes if set(ix.column_names()) <= names
        )
        body = ",\n".join(lines)
        return f"CREATE TABLE `{self.name}` (\n{body}\n) ENGINE={engine} DEFAULT CHARSET=utf8"

    def sqlite_create(self, version: str) -> list[str]:
        """Render CREATE TABLE, its indexes and its timestamp trigger for SQLite."""
        cols = self.columns_for(version)
        names = {c.name for c in cols}
        body = ",\n".join("  " + c.sqlite(primary_key=c.name == self.primary_key) for c in cols)
        statements = [f'CREATE TABLE "{self.name}" (\n{body}\n)']
        for ix in self.indexes:
            if set(ix.column_names()) <= names:
                ix_cols = ", ".join(f'"{c}"' for c in ix.column_names())
                statements.append(
                    f'CREATE INDEX "{self.name}_{ix.name}" ON "{self.name}" ({ix_cols})'
                )
        trigger = self._sqlite_trigger(cols)
        if trigger:
            statements.append(trigger)
        return statements

    def _sqlite_trigger(self, cols: tuple[Column, ...]) -> str | None:
        stamp = self.timestamp_column
        if stamp is None:
            return None
        changed = "\n    OR ".join(
            f'NEW."{c.name}" IS NOT OLD."{c.name}"' for c in cols if c.name != stamp
        )
        key = self.primary_key
        return (
            f'CREATE TRIGGER "{self.name}_{stamp}_on_update" AFTER UPDATE ON "{self.name}"\n'
            f'FOR EACH ROW WHEN NEW."{stamp}" IS OLD."{stamp}"\n'
            f"  AND ({changed})\n"
            f'BEGIN\n  UPDATE "{self.name}" SET "{stamp}" = {_SQLITE_NOW}\n'
            f'  WHERE "{key}" = NEW."{key}";\nEND'
        )


def _check_identifier(word: str) -> None:
    if not _IDENTIFIER.match(word):
        raise ValueError(f"not an identifier: {word!r}")


# --- the tables -----------------------------------------------------------------------------
# Shorthands for the column declarations Open Dental repeats everywhere.


def _key(name: str) -> Column:
    return Column(name, "bigint(20)")


def _fk(name: str) -> Column:
    """A bigint foreign key: NOT NULL, no default (0 means none)."""
    return Column(name, "bigint(20)")


def _col(name: str, type_: str, default: str | None = None, *, since: str | None = None) -> Column:
    """A NOT NULL column."""
    return Column(name, type_, default=default, since=since)


def _opt(name: str, type_: str, default: str | None = "''") -> Column:
    """A nullable column, by default ``DEFAULT ''``."""
    return Column(name, type_, nullable=True, default=default)


def _date(name: str, default: str | None = "'0001-01-01'") -> Column:
    return Column(name, "date", default=default)


def _datetime(name: str, default: str | None = "'0001-01-01 00:00:00'") -> Column:
    return Column(name, "datetime", default=default)


def _stamp(name: str) -> Column:
    return Column(name, "timestamp", default="CURRENT_TIMESTAMP")


def _ix(name: str, *columns: str) -> Index:
    return Index(name, columns if columns else (name,))


_U8 = "tinyint(3) unsigned"
_BOOL = "tinyint(1) unsigned"

PATIENT = Table(
    "patient",
    (
        _key("PatNum"),
        _opt("LName", "varchar(100)"),
        _opt("FName", "varchar(100)"),
        _opt("MiddleI", "varchar(100)"),
        _opt("Preferred", "varchar(100)"),
        _col("PatStatus", _U8, "'0'"),
        _col("Gender", _U8, "'0'"),
        _col("Position", _U8, "'0'"),
        _date("Birthdate"),
        _opt("Address", "varchar(100)"),
        _opt("City", "varchar(100)"),
        _opt("State", "varchar(100)"),
        _opt("Zip", "varchar(100)"),
        _opt("HmPhone", "varchar(30)"),
        _opt("WkPhone", "varchar(30)"),
        _opt("WirelessPhone", "varchar(30)"),
        _fk("Guarantor"),
        _opt("Email", "varchar(100)"),
        _col("EstBalance", "double", "'0'"),
        _fk("PriProv"),
        _fk("SecProv"),
        _fk("FeeSched"),
        _fk("BillingType"),
        _date("DateFirstVisit"),
        _fk("ClinicNum"),
        _col("PreferConfirmMethod", _U8),
        _col("PreferContactMethod", _U8),
        _col("PreferRecallMethod", _U8),
        _stamp("DateTStamp"),
        _col("TxtMsgOk", "tinyint(4)"),
        _date("SecDateEntry"),
    ),
    "PatNum",
    (
        _ix("indexLName", "LName(10)"),
        _ix("indexFName", "FName(10)"),
        _ix("indexLFName", "LName", "FName"),
        _ix("indexGuarantor", "Guarantor"),
        _ix("PatStatus"),
        _ix("ClinicNum"),
        _ix("Email"),
        _ix("HmPhone"),
        _ix("WirelessPhone"),
        _ix("WkPhone"),
        _ix("FeeSched"),
        _ix("SecDateEntry"),
        _ix("PriProv"),
        _ix("SecProv"),
    ),
)

PROCEDURELOG = Table(
    "procedurelog",
    (
        _key("ProcNum"),
        _fk("PatNum"),
        _fk("AptNum"),
        Column("OldCode", "varchar(15)", default="''", binary=True),
        _date("ProcDate"),
        _col("ProcFee", "double", "'0'"),
        _opt("Surf", "varchar(10)"),
        _opt("ToothNum", "varchar(2)"),
        _opt("ToothRange", "varchar(100)"),
        _fk("Priority"),
        _col("ProcStatus", _U8, "'0'"),
        _fk("ProvNum"),
        _fk("Dx"),
        _fk("PlannedAptNum"),
        _col("PlaceService", _U8, "'0'"),
        _date("DateEntryC"),
        _fk("ClinicNum"),
        _fk("CodeNum"),
        _col("UnitQty", "int(11)"),
        _col("BaseUnits", "int(11)"),
        _date("DateTP", None),
        _stamp("DateTStamp"),
        _col("BillingNote", "varchar(255)"),
        _col("Discount", "double"),
        _col("IsCpoe", "tinyint(4)"),
        _date("DateComplete"),
    ),
    "ProcNum",
    (
        _ix("CodeNum"),
        _ix("PlannedAptNum"),
        _ix("ProcDate"),
        _ix("indexPNPSCN", "PatNum", "ProcStatus", "ClinicNum"),
        _ix("indexPNPD", "ProvNum", "ProcDate"),
        _ix("ClinicNum"),
        _ix(
            "indexAgingCovering",
            "PatNum", "ProcStatus", "ProcFee", "UnitQty", "BaseUnits", "ProcDate",
        ),
        _ix("PatStatusCodeDate", "PatNum", "ProcStatus", "CodeNum", "ProcDate"),
        _ix("DateComplete"),
        _ix("RadiologyProcs", "AptNum", "CodeNum", "ProcStatus", "IsCpoe", "ProvNum"),
        _ix("Priority"),
    ),
)

PROCEDURECODE = Table(
    "procedurecode",
    (
        _key("CodeNum"),
        Column("ProcCode", "varchar(15)", default="''", binary=True),
        _opt("Descript", "varchar(255)"),
        _opt("AbbrDesc", "varchar(50)"),
        _opt("ProcTime", "varchar(24)"),
        _fk("ProcCat"),
        _col("TreatArea", _U8, "'0'"),
        _col("NoBillIns", _BOOL, "'0'"),
        _col("IsProsth", _BOOL, "'0'"),
        _col("IsHygiene", _BOOL, "'0'"),
        _col("PaintType", "tinyint(4)", "'0'"),
        _col("GraphicColor", "int(11)"),
        _col("BaseUnits", "int(11)"),
        _stamp("DateTStamp"),
        _col("IsMultiVisit", "tinyint(4)"),
        _fk("ProvNumDefault"),
        _col("DefaultClaimNote", "text"),
        _col("DefaultTPNote", "text"),
    ),
    "CodeNum",
    (_ix("ProcCode"), _ix("ProvNumDefault")),
)

APPOINTMENT = Table(
    "appointment",
    (
        _key("AptNum"),
        _fk("PatNum"),
        _col("AptStatus", _U8, "'0'"),
        _opt("Pattern", "varchar(255)"),
        _fk("Confirmed"),
        _col("TimeLocked", "tinyint(1)"),
        _fk("Op"),
        _opt("Note", "text", None),
        _fk("ProvNum"),
        _fk("ProvHyg"),
        _datetime("AptDateTime"),
        _fk("NextAptNum"),
        _fk("UnschedStatus"),
        _col("IsNewPatient", _BOOL, "'0'"),
        _opt("ProcDescript", "varchar(255)"),
        _fk("Assistant"),
        _fk("ClinicNum"),
        _col("IsHygiene", _U8, "'0'"),
        _stamp("DateTStamp"),
        _datetime("DateTimeArrived", None),
        _datetime("DateTimeSeated", None),
        _datetime("DateTimeDismissed", None),
        _fk("InsPlan1"),
        _fk("InsPlan2"),
        _col("ProcsColored", "text"),
        _fk("AppointmentTypeNum"),
        _datetime("SecDateTEntry"),
        _col("Priority", "tinyint(4)"),
        _col("ProvBarText", "varchar(60)"),
        _col("PatternSecondary", "varchar(255)"),
        _col("ItemOrderPlanned", "int(11)", since=PLANNEDAPPT_DROPPED_IN),
    ),
    "AptNum",
    (
        _ix("indexPatNum", "PatNum"),
        _ix("indexNextAptNum", "NextAptNum"),
        _ix("indexProvNum", "ProvNum"),
        _ix("indexProvHyg", "ProvHyg"),
        _ix("indexAptDateTime", "AptDateTime"),
        _ix("InsPlan1"),
        _ix("InsPlan2"),
        _ix("DateTimeArrived"),
        _ix("AppointmentTypeNum"),
        _ix("Op"),
        _ix("StatusDate", "AptStatus", "AptDateTime", "ClinicNum"),
        _ix("Priority"),
        _ix("UnschedStatus"),
        _ix("ClinicNum"),
    ),
)

PLANNEDAPPT = Table(
    "plannedappt",
    (_key("PlannedApptNum"), _fk("PatNum"), _fk("AptNum"), _col("ItemOrder", "int(11)")),
    "PlannedApptNum",
    (_ix("PatNum"), _ix("AptNum")),
    until=PLANNEDAPPT_DROPPED_IN,
)

TREATPLAN = Table(
    "treatplan",
    (
        _key("TreatPlanNum"),
        _fk("PatNum"),
        _date("DateTP"),
        _opt("Heading", "varchar(255)"),
        _opt("Note", "text", None),
        _opt("Signature", "text", None),
        _col("SigIsTopaz", "tinyint(1)"),
        _fk("ResponsParty"),
        _fk("DocNum"),
        _col("TPStatus", "tinyint(4)"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
        _fk("UserNumPresenter"),
        _col("TPType", "tinyint(4)"),
        _col("SignaturePractice", "text"),
        _datetime("DateTSigned"),
        _datetime("DateTPracticeSigned"),
        _col("SignatureText", "varchar(255)"),
        _col("SignaturePracticeText", "varchar(255)"),
    ),
    "TreatPlanNum",
    (
        _ix("indexPatNum", "PatNum"),
        _ix("DocNum"),
        _ix("SecUserNumEntry"),
        _ix("UserNumPresenter"),
    ),
)

CLAIM = Table(
    "claim",
    (
        _key("ClaimNum"),
        _fk("PatNum"),
        _date("DateService"),
        _date("DateSent"),
        _opt("ClaimStatus", "char(1)"),
        _date("DateReceived"),
        _fk("PlanNum"),
        _fk("ProvTreat"),
        _col("ClaimFee", "double", "'0'"),
        _col("InsPayEst", "double", "'0'"),
        _col("InsPayAmt", "double", "'0'"),
        _col("DedApplied", "double", "'0'"),
        _opt("PreAuthString", "varchar(40)"),
        _opt("ReasonUnderPaid", "varchar(255)"),
        _opt("ClaimNote", "varchar(400)", "NULL"),
        _opt("ClaimType", "varchar(255)"),
        _fk("ProvBill"),
        _col("PlaceService", _U8, "'0'"),
        _col("PatRelat", _U8, "'0'"),
        _fk("PlanNum2"),
        _col("PatRelat2", _U8, "'0'"),
        _col("WriteOff", "double", "'0'"),
        _fk("ClinicNum"),
        _fk("ClaimForm"),
        _fk("InsSubNum"),
        _fk("InsSubNum2"),
        _fk("CustomTracking"),
        _date("DateResent"),
        _col("CorrectionType", "tinyint(4)"),
        _col("ClaimIdentifier", "varchar(255)"),
        _col("OrigRefNum", "varchar(255)"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
        _date("DateSentOrig"),
    ),
    "ClaimNum",
    (
        _ix("indexPatNum", "PatNum"),
        _ix("indexPlanNum", "PlanNum"),
        _ix("InsSubNum"),
        _ix("InsSubNum2"),
        _ix("CustomTracking"),
        _ix("SecUserNumEntry"),
        _ix(
            "indexOutClaimCovering",
            "PlanNum", "ClaimStatus", "ClaimType", "PatNum", "ClaimNum", "DateService",
            "ProvTreat", "ClaimFee", "ClinicNum",
        ),
        _ix("ProvBill"),
        _ix("ProvTreat"),
        _ix("ClinicNum"),
    ),
)

CLAIMPROC = Table(
    "claimproc",
    (
        _key("ClaimProcNum"),
        _fk("ProcNum"),
        _fk("ClaimNum"),
        _fk("PatNum"),
        _fk("ProvNum"),
        _col("FeeBilled", "double", "'0'"),
        _col("InsPayEst", "double", "'0'"),
        _col("DedApplied", "double", "'0'"),
        _col("Status", _U8, "'0'"),
        _col("InsPayAmt", "double", "'0'"),
        _opt("Remarks", "varchar(255)"),
        _fk("ClaimPaymentNum"),
        _fk("PlanNum"),
        _date("DateCP"),
        _col("WriteOff", "double", "'0'"),
        _opt("CodeSent", "varchar(15)"),
        _col("AllowedOverride", "double"),
        _col("Percentage", "tinyint(4)", "'-1'"),
        _col("PercentOverride", "tinyint(4)", "'-1'"),
        _col("CopayAmt", "double", "'-1'"),
        _col("NoBillIns", _BOOL, "'0'"),
        _col("PaidOtherIns", "double", "'-1'"),
        _col("BaseEst", "double", "'0'"),
        _col("CopayOverride", "double", "'-1'"),
        _date("ProcDate"),
        _date("DateEntry"),
        _col("LineNumber", _U8),
        _col("DedEst", "double"),
        _col("InsEstTotal", "double"),
        _col("WriteOffEst", "double"),
        _fk("ClinicNum"),
        _fk("InsSubNum"),
        _fk("PayPlanNum"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
        _date("DateInsFinalized"),
        _col("IsTransfer", "tinyint(4)"),
    ),
    "ClaimProcNum",
    (
        _ix("indexPatNum", "PatNum"),
        _ix("indexPlanNum", "PlanNum"),
        _ix("indexClaimNum", "ClaimNum"),
        _ix("indexProvNum", "ProvNum"),
        _ix("indexProcNum", "ProcNum"),
        _ix("indexClaimPaymentNum", "ClaimPaymentNum"),
        _ix("ClinicNum"),
        _ix("InsSubNum"),
        _ix("Status"),
        _ix("PayPlanNum"),
        _ix("indexCPNSIPA", "ClaimPaymentNum", "Status", "InsPayAmt"),
        _ix("indexPNPD", "ProvNum", "ProcDate"),
        _ix("indexPNDCP", "ProvNum", "DateCP"),
        _ix("SecUserNumEntry"),
        _ix(
            "indexAcctCov",
            "ProcNum", "PlanNum", "Status", "InsPayAmt", "InsPayEst", "WriteOff", "NoBillIns",
        ),
        _ix("DateCP"),
        _ix(
            "indexAgingCovering",
            "Status", "PatNum", "DateCP", "PayPlanNum", "InsPayAmt", "WriteOff", "InsPayEst",
            "ProcDate", "ProcNum",
        ),
        _ix(
            "indexTxFinder",
            "InsSubNum", "ProcNum", "Status", "ProcDate", "PatNum", "InsPayAmt", "InsPayEst",
        ),
        _ix("indexOutClaimCovering", "ClaimNum", "ClaimPaymentNum", "InsPayAmt", "DateCP",
            "IsTransfer"),
    ),
)

PATPLAN = Table(
    "patplan",
    (
        _key("PatPlanNum"),
        _fk("PatNum"),
        _col("Ordinal", _U8, "'0'"),
        _col("IsPending", _U8, "'0'"),
        _col("Relationship", _U8, "'0'"),
        _opt("PatID", "varchar(100)"),
        _fk("InsSubNum"),
        _col("OrthoAutoFeeBilledOverride", "double", "'-1'"),
        _date("OrthoAutoNextClaimDate"),
        _datetime("SecDateTEntry"),
        _stamp("SecDateTEdit"),
    ),
    "PatPlanNum",
    (
        _ix("indexPatNum", "PatNum"),
        _ix("InsSubNum"),
        # One of the few cursor columns Open Dental does index.
        _ix("SecDateTEdit"),
        _ix("SecDateTEntry"),
    ),
)

INSSUB = Table(
    "inssub",
    (
        _key("InsSubNum"),
        _fk("PlanNum"),
        _fk("Subscriber"),
        _date("DateEffective"),
        _date("DateTerm"),
        _col("ReleaseInfo", "tinyint(4)"),
        _col("AssignBen", "tinyint(4)"),
        _col("SubscriberID", "varchar(255)"),
        _col("BenefitNotes", "text"),
        _col("SubscNote", "text"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
    ),
    "InsSubNum",
    (_ix("PlanNum"), _ix("Subscriber"), _ix("SecUserNumEntry")),
)

INSPLAN = Table(
    "insplan",
    (
        _key("PlanNum"),
        _opt("GroupName", "varchar(50)"),
        _opt("GroupNum", "varchar(25)", "NULL"),
        _col("PlanNote", "text"),
        _fk("FeeSched"),
        _opt("PlanType", "char(1)"),
        _fk("ClaimFormNum"),
        _col("UseAltCode", _BOOL, "'0'"),
        _col("ClaimsUseUCR", _BOOL, "'0'"),
        _fk("CopayFeeSched"),
        _fk("EmployerNum"),
        _fk("CarrierNum"),
        _fk("AllowedFeeSched"),
        _opt("TrojanID", "varchar(100)"),
        _opt("DivisionNo", "varchar(255)"),
        _col("IsMedical", _U8, "'0'"),
        _fk("FilingCode"),
        _col("IsHidden", "tinyint(4)"),
        _col("MonthRenew", "tinyint(4)"),
        _col("CobRule", "tinyint(4)"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
        _fk("BillingType"),
        _col("ManualFeeSchedNum", "bigint(20)", "'0'"),
    ),
    "PlanNum",
    (
        _ix("CarrierNum"),
        _ix("TrojanID"),
        _ix("SecUserNumEntry"),
        _ix("CarrierNumPlanNum", "CarrierNum", "PlanNum"),
        _ix("BillingType"),
        _ix("FeeSched"),
        _ix("CopayFeeSched"),
        _ix("ManualFeeSchedNum"),
    ),
)

CARRIER = Table(
    "carrier",
    (
        _key("CarrierNum"),
        _opt("CarrierName", "varchar(255)"),
        _opt("Address", "varchar(255)"),
        _opt("Address2", "varchar(255)"),
        _opt("City", "varchar(255)"),
        _opt("State", "varchar(255)"),
        _opt("Zip", "varchar(255)"),
        _opt("Phone", "varchar(255)"),
        _opt("ElectID", "varchar(255)"),
        _col("NoSendElect", _BOOL, "'0'"),
        _col("IsCDA", _U8),
        _fk("CanadianNetworkNum"),
        _col("IsHidden", "tinyint(4)"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
        _col("TIN", "varchar(255)"),
        _fk("CarrierGroupName"),
        _col("ApptTextBackColor", "int(11)"),
        _col("IsCoinsuranceInverted", "tinyint(4)"),
    ),
    "CarrierNum",
    (
        _ix("SecUserNumEntry"),
        _ix("CarrierNumName", "CarrierNum", "CarrierName"),
        _ix("CanadianNetworkNum"),
        _ix("CarrierGroupName"),
    ),
)

BENEFIT = Table(
    "benefit",
    (
        _key("BenefitNum"),
        _fk("PlanNum"),
        _fk("PatPlanNum"),
        _fk("CovCatNum"),
        _col("BenefitType", _U8, "'0'"),
        _col("Percent", "tinyint(4)"),
        _col("MonetaryAmt", "double", "'0'"),
        _col("TimePeriod", _U8, "'0'"),
        _col("QuantityQualifier", _U8, "'0'"),
        _col("Quantity", _U8, "'0'"),
        _fk("CodeNum"),
        _col("CoverageLevel", "int(11)"),
        _datetime("SecDateTEntry"),
        _stamp("SecDateTEdit"),
    ),
    "BenefitNum",
    (
        _ix("indexPlanNum", "PlanNum"),
        _ix("indexPatPlanNum", "PatPlanNum"),
        _ix("CovCatNum"),
        _ix("BenefitType"),
        _ix("Percent"),
        _ix("MonetaryAmt"),
        _ix("TimePeriod"),
        _ix("QuantityQualifier"),
        _ix("Quantity"),
        _ix("CodeNum"),
        _ix("CoverageLevel"),
        _ix("SecDateTEntry"),
        # Open Dental indexes this cursor column too.
        _ix("SecDateTEdit"),
    ),
)

CLAIMTRACKING = Table(
    "claimtracking",
    (
        _key("ClaimTrackingNum"),
        _fk("ClaimNum"),
        _col("TrackingType", "varchar(255)"),
        _fk("UserNum"),
        # Open Dental's only timestamp here: set on insert and on every later edit of the row.
        _stamp("DateTimeEntry"),
        _col("Note", "text"),
        _fk("TrackingDefNum"),
        _fk("TrackingErrorDefNum"),
    ),
    "ClaimTrackingNum",
    (
        _ix("ClaimNum"),
        _ix("UserNum"),
        _ix("TrackingDefNum"),
        _ix("TrackingErrorDefNum"),
    ),
)

COMMLOG = Table(
    "commlog",
    (
        _key("CommlogNum"),
        _fk("PatNum"),
        _datetime("CommDateTime", "'0000-00-00 00:00:00'"),
        _fk("CommType"),
        _opt("Note", "text", None),
        _col("Mode_", _U8, "'0'"),
        _col("SentOrReceived", _U8, "'0'"),
        _fk("UserNum"),
        _col("Signature", "text"),
        _col("SigIsTopaz", "tinyint(4)"),
        _stamp("DateTStamp"),
        _datetime("DateTimeEnd"),
        _opt("CommSource", "tinyint(4)", "NULL"),
        _fk("ProgramNum"),
    ),
    "CommlogNum",
    (
        _ix("PatNum"),
        _ix("CommDateTime"),
        _ix("CommType"),
        _ix("ProgramNum"),
        _ix("indexPNCDateCType", "PatNum", "CommDateTime", "CommType"),
        _ix("UserNum"),
    ),
)

DEFINITION = Table(
    "definition",
    (
        _key("DefNum"),
        _col("Category", _U8, "'0'"),
        _col("ItemOrder", "smallint(5) unsigned", "'0'"),
        _opt("ItemName", "varchar(255)"),
        _opt("ItemValue", "varchar(255)"),
        _col("ItemColor", "int(11)", "'0'"),
        _col("IsHidden", _U8, "'0'"),
    ),
    "DefNum",
)

COVCAT = Table(
    "covcat",
    (
        _key("CovCatNum"),
        _opt("Description", "varchar(50)"),
        _col("DefaultPercent", "smallint(6)"),
        _col("CovOrder", _U8, "'0'"),
        _col("IsHidden", _BOOL, "'0'"),
        _col("EbenefitCat", _U8, "'0'"),
    ),
    "CovCatNum",
)

COVSPAN = Table(
    "covspan",
    (
        _key("CovSpanNum"),
        _fk("CovCatNum"),
        _opt("FromCode", "varchar(15)"),
        _opt("ToCode", "varchar(15)"),
    ),
    "CovSpanNum",
)

PROVIDER = Table(
    "provider",
    (
        _key("ProvNum"),
        _opt("Abbr", "varchar(255)", "NULL"),
        _col("ItemOrder", "smallint(5) unsigned", "'0'"),
        _opt("LName", "varchar(100)"),
        _opt("FName", "varchar(100)"),
        _opt("MI", "varchar(100)"),
        _opt("Suffix", "varchar(100)"),
        _fk("FeeSched"),
        _fk("Specialty"),
        _col("IsSecondary", _BOOL, "'0'"),
        _col("ProvColor", "int(11)", "'0'"),
        _col("IsHidden", _BOOL, "'0'"),
        _col("SigOnFile", _BOOL, "'1'"),
        _opt("NationalProvID", "varchar(255)"),
        _stamp("DateTStamp"),
        _col("IsNotPerson", "tinyint(4)"),
        _col("ProvStatus", "tinyint(4)"),
        _col("IsHiddenReport", "tinyint(4)"),
        _date("Birthdate"),
        _col("SchedNote", "varchar(255)"),
        _date("DateTerm"),
        _col("PreferredName", "varchar(100)"),
    ),
    "ProvNum",
    (_ix("FeeSched"),),
)

CLINIC = Table(
    "clinic",
    (
        _key("ClinicNum"),
        _opt("Description", "varchar(255)"),
        _opt("Address", "varchar(255)"),
        _opt("City", "varchar(255)"),
        _opt("State", "varchar(255)"),
        _opt("Zip", "varchar(255)"),
        _opt("Phone", "varchar(255)"),
        _col("DefaultPlaceService", _U8, "'0'"),
        _fk("InsBillingProv"),
        _col("Fax", "varchar(50)"),
        _fk("EmailAddressNum"),
        _fk("DefaultProv"),
        _col("IsMedicalOnly", "tinyint(4)"),
        _fk("Region"),
        _col("ItemOrder", "int(11)"),
        _col("Abbr", "varchar(255)"),
        _col("IsHidden", "tinyint(4)"),
        _fk("ExternalID"),
        _col("SchedNote", "varchar(255)"),
        _col("TimeZone", "varchar(75)"),
    ),
    "ClinicNum",
    (
        _ix("EmailAddressNum"),
        _ix("DefaultProv"),
        _ix("Region"),
        _ix("ExternalID"),
        _ix("InsBillingProv"),
    ),
)

PROCTP = Table(
    "proctp",
    (
        _key("ProcTPNum"),
        _fk("TreatPlanNum"),
        _fk("PatNum"),
        _fk("ProcNumOrig"),
        _col("ItemOrder", "smallint(5) unsigned", "'0'"),
        _fk("Priority"),
        _opt("ToothNumTP", "varchar(255)"),
        _opt("Surf", "varchar(255)"),
        _opt("ProcCode", "varchar(15)", "NULL"),
        _opt("Descript", "varchar(255)"),
        _col("FeeAmt", "double", "'0'"),
        _col("PriInsAmt", "double", "'0'"),
        _col("SecInsAmt", "double", "'0'"),
        _col("PatAmt", "double", "'0'"),
        _col("Discount", "double"),
        _col("Prognosis", "varchar(255)"),
        _col("Dx", "varchar(255)"),
        _col("ProcAbbr", "varchar(50)"),
        _fk("SecUserNumEntry"),
        _date("SecDateEntry"),
        _stamp("SecDateTEdit"),
        _col("FeeAllowed", "double"),
        _col("TaxAmt", "double"),
        _fk("ProvNum"),
        _date("DateTP"),
        _fk("ClinicNum"),
        _col("CatPercUCR", "double"),
    ),
    "ProcTPNum",
    (
        _ix("indexPatNum", "PatNum"),
        _ix("indexTreatPlanNum", "TreatPlanNum"),
        _ix("ProcNumOrig"),
    ),
)

TREATPLANATTACH = Table(
    "treatplanattach",
    (
        _key("TreatPlanAttachNum"),
        _fk("TreatPlanNum"),
        _fk("ProcNum"),
        _fk("Priority"),
    ),
    "TreatPlanAttachNum",
    (_ix("TreatPlanNum"), _ix("ProcNum")),
)

LABORATORY = Table(
    "laboratory",
    (
        _key("LaboratoryNum"),
        _opt("Description", "varchar(255)", "NULL"),
        _opt("Phone", "varchar(255)", "NULL"),
        _opt("Notes", "text", None),
        _fk("Slip"),
        _col("Address", "varchar(255)"),
        _col("City", "varchar(255)"),
        _col("State", "varchar(255)"),
        _col("Zip", "varchar(255)"),
        _col("Email", "varchar(255)"),
        _col("WirelessPhone", "varchar(255)"),
        _col("IsHidden", "tinyint(4)"),
    ),
    "LaboratoryNum",
)

LABCASE = Table(
    "labcase",
    (
        _key("LabCaseNum"),
        _fk("PatNum"),
        _fk("LaboratoryNum"),
        _fk("AptNum"),
        _fk("PlannedAptNum"),
        _datetime("DateTimeDue"),
        _datetime("DateTimeCreated"),
        _datetime("DateTimeSent"),
        _datetime("DateTimeRecd"),
        _datetime("DateTimeChecked"),
        _fk("ProvNum"),
        _opt("Instructions", "text", None),
        _col("LabFee", "double"),
        _stamp("DateTStamp"),
        _col("InvoiceNum", "varchar(255)"),
    ),
    "LabCaseNum",
    (_ix("indexAptNum", "AptNum"),),
)

REFERRAL = Table(
    "referral",
    (
        _key("ReferralNum"),
        _opt("LName", "varchar(100)"),
        _opt("FName", "varchar(100)"),
        _opt("MName", "varchar(100)"),
        _opt("SSN", "varchar(9)"),
        _col("UsingTIN", _BOOL, "'0'"),
        _fk("Specialty"),
        _opt("ST", "varchar(2)"),
        _opt("Telephone", "varchar(10)"),
        _opt("Address", "varchar(100)"),
        _opt("Address2", "varchar(100)"),
        _opt("City", "varchar(100)"),
        _opt("Zip", "varchar(10)"),
        _opt("Note", "text", None),
        _opt("Phone2", "varchar(30)"),
        _col("IsHidden", _BOOL, "'0'"),
        _col("NotPerson", _BOOL, "'0'"),
        _opt("Title", "varchar(255)"),
        _opt("EMail", "varchar(255)"),
        _fk("PatNum"),
        _opt("NationalProvID", "varchar(255)", "NULL"),
        _fk("Slip"),
        _col("IsDoctor", "tinyint(4)"),
        _col("IsTrustedDirect", "tinyint(4)"),
        _stamp("DateTStamp"),
        _col("IsPreferred", "tinyint(4)"),
    ),
    "ReferralNum",
)

REFATTACH = Table(
    "refattach",
    (
        _key("RefAttachNum"),
        _fk("ReferralNum"),
        _fk("PatNum"),
        _col("ItemOrder", "smallint(5) unsigned", "'0'"),
        _date("RefDate", "'0000-00-00'"),
        _col("RefType", "tinyint(4)"),
        _col("RefToStatus", _U8),
        _opt("Note", "text", None),
        _col("IsTransitionOfCare", "tinyint(4)"),
        _fk("ProcNum"),
        _date("DateProcComplete"),
        _fk("ProvNum"),
        _stamp("DateTStamp"),
    ),
    "RefAttachNum",
    (_ix("PatNum"), _ix("ProcNum"), _ix("ProvNum"), _ix("ReferralNum")),
)

INSVERIFY = Table(
    "insverify",
    (
        _key("InsVerifyNum"),
        _date("DateLastVerified"),
        _fk("UserNum"),
        _col("VerifyType", "tinyint(4)"),
        _fk("FKey"),
        _fk("DefNum"),
        _col("Note", "text"),
        _date("DateLastAssigned"),
        _datetime("DateTimeEntry"),
        _col("HoursAvailableForVerification", "double"),
        _stamp("SecDateTEdit"),
    ),
    "InsVerifyNum",
    (_ix("FKey"), _ix("VerifyType"), _ix("SecDateTEdit")),
)

USEROD = Table(
    "userod",
    (
        _key("UserNum"),
        _opt("UserName", "varchar(255)"),
        _opt("Password", "varchar(255)"),
        _fk("UserGroupNum"),
        _fk("EmployeeNum"),
        _fk("ClinicNum"),
        _fk("ProvNum"),
        _col("IsHidden", "tinyint(1)"),
        _fk("TaskListInBox"),
        _col("AnesthProvType", "int(2)", "'3'"),
        _col("DefaultHidePopups", "tinyint(4)"),
        _col("PasswordIsStrong", "tinyint(4)"),
        _col("ClinicIsRestricted", "tinyint(4)"),
        _col("InboxHidePopups", "tinyint(4)"),
        _fk("UserNumCEMT"),
        _datetime("DateTFail"),
        _col("FailedAttempts", _U8),
        _col("DomainUser", "varchar(255)"),
        _col("IsPasswordResetRequired", "tinyint(4)"),
        _col("MobileWebPin", "varchar(255)"),
        _col("MobileWebPinFailedAttempts", _U8),
        _datetime("DateTLastLogin"),
    ),
    "UserNum",
)

SECURITYLOG = Table(
    "securitylog",
    (
        _key("SecurityLogNum"),
        _col("PermType", "tinyint(3) unsigned", "'0'"),
        _fk("UserNum"),
        _datetime("LogDateTime", "'0000-00-00 00:00:00'"),
        _opt("LogText", "text", None),
        _fk("PatNum"),
        _col("CompName", "varchar(255)"),
        _fk("FKey"),
        _col("LogSource", "tinyint(4)"),
        _fk("DefNum"),
        _fk("DefNumError"),
        _datetime("DateTPrevious"),
    ),
    "SecurityLogNum",
    (
        _ix("PatNum"),
        _ix("FKey"),
        _ix("DefNum"),
        _ix("DefNumError"),
        _ix("UserNum"),
        _ix("LogDateTime"),
        _ix("PermType"),
    ),
)

PREFERENCE = Table(
    "preference",
    (
        _col("PrefName", "varchar(255)", "''"),
        _col("ValueString", "text"),
        _key("PrefNum"),
        _opt("Comments", "text", None),
    ),
    "PrefNum",
    (_ix("PrefName"),),
)

#: Every table of the fixture schema, in load order (referenced tables first).
TABLES: tuple[Table, ...] = (
    PREFERENCE,
    DEFINITION,
    PROVIDER,
    CLINIC,
    PROCEDURECODE,
    CARRIER,
    INSPLAN,
    COVCAT,
    COVSPAN,
    BENEFIT,
    PATIENT,
    INSSUB,
    PATPLAN,
    APPOINTMENT,
    PLANNEDAPPT,
    PROCEDURELOG,
    TREATPLAN,
    CLAIM,
    CLAIMPROC,
    CLAIMTRACKING,
    COMMLOG,
    PROCTP,
    TREATPLANATTACH,
    LABORATORY,
    LABCASE,
    REFERRAL,
    REFATTACH,
    INSVERIFY,
    USEROD,
    SECURITYLOG,
)

_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The fixture table called ``name``."""
    return _BY_NAME[name]


def tables_for(version: str) -> tuple[Table, ...]:
    """The tables that exist in schema ``version`` (``plannedappt`` only before 24.2.1)."""
    parse_version(version)
    return tuple(t for t in TABLES if t.in_version(version))


def _version_row(version: str) -> str:
    if not re.fullmatch(r"[0-9][0-9.]*", version):
        raise ValueError(f"not a DataBaseVersion: {version!r}")
    return (
        "INSERT INTO preference (PrefName, ValueString, Comments) "
        f"VALUES ('DataBaseVersion', '{version}', '')"
    )


def mysql_ddl(version: str = "24.3.10.0", engine: str = "MyISAM") -> list[str]:
    """CREATE TABLE statements for schema ``version`` in MySQL/MariaDB, then the version row.

    ``plannedappt`` is created only before 24.2.1 and ``appointment.ItemOrderPlanned`` only from
    24.2.1. The statements create; they do not drop existing tables.
    """
    statements = [t.mysql_create(version, engine) for t in tables_for(version)]
    statements.append(_version_row(version))
    return statements


def sqlite_ddl(version: str = "24.3.10.0") -> list[str]:
    """The same tables for SQLite, with indexes, timestamp triggers and the version row.

    Keys are ``INTEGER PRIMARY KEY AUTOINCREMENT``; dates are TEXT ``'YYYY-MM-DD'``, datetimes
    ``'YYYY-MM-DD HH:MM:SS'``. Each DateTStamp/SecDateTEdit defaults to the local time now, and
    an AFTER UPDATE trigger sets it to the local time now when a row's values change and the
    UPDATE did not change the timestamp itself, as MySQL's ON UPDATE CURRENT_TIMESTAMP does.
    """
    statements: list[str] = []
    for t in tables_for(version):
        statements.extend(t.sqlite_create(version))
    statements.append(_version_row(version))
    return statements
