"""A front desk for Open Dental's real schema: rows written the way Open Dental's client writes
them (sql_mode '', zero foreign keys, '0001-01-01' for a blank date), for scenario tests.

Synthetic data only: names are made up.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pymysql

BLANK = "0001-01-01"


class Office:
    """Writes and deletes Open Dental rows in one MariaDB database loaded from the real dump."""

    def __init__(self, connection: pymysql.connections.Connection) -> None:
        self.connection = connection
        self._codes: dict[str, int] = {}

    def run(self, sql: str, *params: Any) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")
            cursor.execute(sql, params)
            return int(cursor.lastrowid or 0)

    def insert(self, table: str, **values: Any) -> int:
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        return self.run(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *values.values())

    def code(self, proc_code: str) -> int:
        if proc_code not in self._codes:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT CodeNum FROM procedurecode WHERE ProcCode = %s",
                               (proc_code,))
                row = cursor.fetchone()
            assert row, f"Open Dental's code list has no {proc_code}"
            self._codes[proc_code] = int(row[0])
        return self._codes[proc_code]

    # --- people and treatment ---------------------------------------------------------------

    def patient(self, status: int = 0, name: str = "Testpatient") -> int:
        patient = self.insert("patient", LName=name, FName="Ada", PatStatus=status, PriProv=1,
                              Guarantor=0, Birthdate=BLANK)
        self.run("UPDATE patient SET Guarantor = %s WHERE PatNum = %s", patient, patient)
        return patient

    def procedure(self, patient: int, code: str, fee: float, *, status: int = 1,
                  planned: date | str = BLANK, units: int = 1, base_units: int = 0,
                  appointment: int = 0, planned_appointment: int = 0) -> int:
        return self.insert("procedurelog", PatNum=patient, CodeNum=self.code(code),
                           ProcStatus=status, ProcFee=fee, UnitQty=units, BaseUnits=base_units,
                           DateTP=str(planned), ProcDate=str(planned), AptNum=appointment,
                           PlannedAptNum=planned_appointment, ProvNum=1)

    def appointment(self, patient: int, status: int, when: datetime | str, *,
                    next_apt: int = 0) -> int:
        return self.insert("appointment", PatNum=patient, AptStatus=status,
                           AptDateTime=str(when), NextAptNum=next_apt, ProvNum=1, Op=1,
                           Pattern="//XX//")

    # --- insurance --------------------------------------------------------------------------

    def plan(self, *, month_renew: int = 0, carrier: str = "Delta Test") -> int:
        carrier_num = self.insert("carrier", CarrierName=carrier, Phone="555-0100")
        return self.insert("insplan", CarrierNum=carrier_num, MonthRenew=month_renew,
                           PlanType="")

    def cover(self, patient: int, plan: int, ordinal: int = 1) -> tuple[int, int]:
        """Subscribe the patient to the plan; (InsSubNum, PatPlanNum)."""
        sub = self.insert("inssub", PlanNum=plan, Subscriber=patient, DateEffective=BLANK,
                          DateTerm=BLANK)
        patplan = self.insert("patplan", PatNum=patient, InsSubNum=sub, Ordinal=ordinal,
                              Relationship=0)
        return sub, patplan

    def annual_max(self, amount: float, *, plan: int = 0, patplan: int = 0,
                   level: int = 1, covcat: int = 0) -> int:
        return self.insert("benefit", PlanNum=plan, PatPlanNum=patplan, CovCatNum=covcat,
                           BenefitType=5, Percent=-1, MonetaryAmt=amount, TimePeriod=2,
                           QuantityQualifier=0, Quantity=0, CodeNum=0, CoverageLevel=level)

    def claim(self, patient: int, plan: int, sub: int, procedures: list[tuple[int, float]], *,
              status: str, claim_type: str = "P", service: date | str = BLANK,
              sent: date | str = BLANK, received: date | str = BLANK, paid: float = 0,
              tracking: int = 0) -> int:
        """A claim with one claimproc per (procedure, estimate); Status 2 on a preauth."""
        fee = 0.0
        with self.connection.cursor() as cursor:
            for procedure, _ in procedures:
                cursor.execute("SELECT ProcFee * (UnitQty + BaseUnits) FROM procedurelog "
                               "WHERE ProcNum = %s", (procedure,))
                fee += float(cursor.fetchone()[0])
        claim = self.insert("claim", PatNum=patient, PlanNum=plan, InsSubNum=sub,
                            ClaimStatus=status, ClaimType=claim_type, DateService=str(service),
                            DateSent=str(sent), DateSentOrig=str(sent),
                            DateReceived=str(received), ClaimFee=fee, InsPayAmt=paid,
                            CustomTracking=tracking, ProvTreat=1)
        cp_status = 2 if claim_type == "PreAuth" else (1 if status == "R" else 0)
        for procedure, estimate in procedures:
            self.insert("claimproc", ClaimNum=claim, ProcNum=procedure, PatNum=patient,
                        PlanNum=plan, InsSubNum=sub, Status=cp_status, InsPayEst=estimate,
                        InsPayAmt=0, ProcDate=str(service), FeeBilled=0, ProvNum=1)
        return claim

    def used(self, patient: int, plan: int, sub: int, on: date, paid: float) -> int:
        """Benefits used this year: a received claim procedure paying `paid`."""
        return self.insert("claimproc", ClaimNum=0, ProcNum=0, PatNum=patient, PlanNum=plan,
                           InsSubNum=sub, Status=1, InsPayAmt=paid, InsPayEst=0,
                           ProcDate=str(on), ProvNum=1)

    def tracking_status(self, name: str, days_suppressed: str) -> int:
        return self.insert("definition", Category=31, ItemName=name,
                           ItemValue=days_suppressed, ItemOrder=0, IsHidden=0)

    def track(self, claim: int, status: int, at: datetime) -> int:
        """Set a claim's custom tracking status as Open Dental does: the claim's column and a
        status-history row."""
        self.run("UPDATE claim SET CustomTracking = %s WHERE ClaimNum = %s", status, claim)
        return self.insert("claimtracking", ClaimNum=claim, TrackingType="StatusHistory",
                           TrackingDefNum=status, DateTimeEntry=str(at), UserNum=1, Note="")

    # --- the contact log (commlog) ------------------------------------------------------------

    def commlog_type(self, name: str, auto_code: str = "") -> int:
        """A commlog type of the practice's own (Setup > Definitions > Commlog Types)."""
        return self.insert("definition", Category=27, ItemName=name, ItemValue=auto_code,
                           ItemOrder=0, IsHidden=0)

    def commlog(self, patient: int, comm_type: int, at: datetime, *, mode: int = 3,
                sent: int = 1, user: int = 1, note: str = "") -> int:
        """A contact-log entry staff made (CommSource 0): by phone, sent, by default."""
        return self.insert("commlog", PatNum=patient, CommDateTime=str(at), CommType=comm_type,
                           Note=note, Mode_=mode, SentOrReceived=sent, UserNum=user,
                           CommSource=0)

    # --- lab cases, referrals, verification, plans -----------------------------------------

    def lab(self, name: str = "Test Lab", phone: str = "555-0170") -> int:
        return self.insert("laboratory", Description=name, Phone=phone, Slip=0, Address="",
                           City="", State="", Zip="", Email="", WirelessPhone="", IsHidden=0)

    def lab_case(self, patient: int, lab: int, *, appointment: int = 0, planned: int = 0,
                 sent: datetime | str = BLANK, received: datetime | str = BLANK,
                 checked: datetime | str = BLANK, due: datetime | str = BLANK) -> int:
        return self.insert("labcase", PatNum=patient, LaboratoryNum=lab, AptNum=appointment,
                           PlannedAptNum=planned, DateTimeDue=str(due),
                           DateTimeCreated=str(sent), DateTimeSent=str(sent),
                           DateTimeRecd=str(received), DateTimeChecked=str(checked), ProvNum=1,
                           LabFee=0, InvoiceNum="")

    def specialist(self, last: str = "Endoson", first: str = "Ivy") -> int:
        return self.insert("referral", LName=last, FName=first, Specialty=0, Telephone="5550190",
                           PatNum=0, Slip=0, IsDoctor=1, IsTrustedDirect=0, IsPreferred=0)

    def refer(self, patient: int, specialist: int, on: date | str, *, ref_type: int = 0,
              status: int = 0, completed: date | str = BLANK) -> int:
        return self.insert("refattach", ReferralNum=specialist, PatNum=patient, RefDate=str(on),
                           RefType=ref_type, RefToStatus=status, IsTransitionOfCare=0,
                           ProcNum=0, DateProcComplete=str(completed), ProvNum=1)

    def verify(self, verify_type: int, key: int, on: date | str) -> int:
        """An insurance verification: 1 of a plan's benefits (PlanNum), 2 of an enrollment
        (PatPlanNum)."""
        return self.insert("insverify", VerifyType=verify_type, FKey=key,
                           DateLastVerified=str(on), UserNum=0, DefNum=0, Note="",
                           HoursAvailableForVerification=0)

    def user(self, name: str) -> int:
        return self.insert("userod", UserName=name, UserGroupNum=0, EmployeeNum=0, ClinicNum=0,
                           ProvNum=0, IsHidden=0, TaskListInBox=0, DefaultHidePopups=0,
                           PasswordIsStrong=0, ClinicIsRestricted=0, InboxHidePopups=0,
                           UserNumCEMT=0, FailedAttempts=0, DomainUser="",
                           IsPasswordResetRequired=0, MobileWebPin="",
                           MobileWebPinFailedAttempts=0)

    def treatment_plan(self, patient: int, *, status: int = 0, signed: datetime | str = BLANK,
                       presenter: int = 0, procedures: tuple[int, ...] = ()) -> int:
        """A treatment plan: a saved one (0) copies its procedures (proctp), an active (1) or
        inactive (2) one attaches them (treatplanattach)."""
        plan = self.insert("treatplan", PatNum=patient, DateTP=str(date.today()),
                           Heading="Plan", TPStatus=status, DateTSigned=str(signed),
                           UserNumPresenter=presenter, SigIsTopaz=0, ResponsParty=0, DocNum=0,
                           SecUserNumEntry=0, TPType=0, SignaturePractice="", SignatureText="",
                           SignaturePracticeText="")
        for procedure in procedures:
            if status == 0:
                self.insert("proctp", TreatPlanNum=plan, PatNum=patient, ProcNumOrig=procedure,
                            Priority=0, ProcCode="D2740", FeeAmt=1000, Discount=0,
                            Prognosis="", Dx="", ProcAbbr="", SecUserNumEntry=0, FeeAllowed=0,
                            TaxAmt=0, ProvNum=1, ClinicNum=0, CatPercUCR=0)
            else:
                self.insert("treatplanattach", TreatPlanNum=plan, ProcNum=procedure, Priority=0)
        return plan

    # --- deletes, as Open Dental's client makes them ----------------------------------------

    def delete(self, table: str, key_column: str, key: int) -> None:
        self.run(f"DELETE FROM {table} WHERE {key_column} = %s", key)

    # --- the audit trail ----------------------------------------------------------------------

    def audit(self, patient: int, perm_type: int, fkey: int = 0, text: str = "") -> int:
        """A securitylog entry as Open Dental's client writes one for an edit: the server's
        NOW() as LogDateTime, the patient, the edited row's key (`fkey`; Open Dental zeroes it
        when it deletes an appointment). Perm types: 25 AppointmentCreate, 27 AppointmentEdit,
        237 AppointmentDelete, 100 ProcEdit, 104 ClaimSend, 118 ClaimDelete, 150 ClaimEdit,
        193 CommlogCreate."""
        return self.run("INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, "
                        "PatNum, CompName, FKey, LogSource, DefNum, DefNumError, DateTPrevious) "
                        "VALUES (%s, 1, NOW(), %s, %s, 'FRONTDESK1', %s, 0, 0, 0, %s)",
                        perm_type, text, patient, fkey, "0001-01-01 00:00:00")
