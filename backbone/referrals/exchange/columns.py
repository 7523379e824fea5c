"""The columns of the people-and-referrals import, its template, who may import, and
reading the file (see importing.py)."""

from __future__ import annotations

import csv
import io
import re

from django.core.exceptions import PermissionDenied
from django.http import Http404

from backbone.core import tabular
from backbone.core.access import NETWORK_ADMIN, ORG_ADMIN, Access
from backbone.core.tabular import Table, TableError
from backbone.referrals.models import (
    Referral,
)
from backbone.referrals.people import demographic_dimensions

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
S = Referral.Status
PERSON_COLUMNS = [
    "organization",
    "person_ref",
    "given_name",
    "family_name",
    "birth_date",
    "phone",
    "email",
    "street_address",
    "preferred_language",
    "area",
]
CONSENT_COLUMNS = [
    "consent_recipients",
    "consent_recipient_organizations",
    "consent_information",
    "consent_purpose",
    "consent_purpose_description",
    "consent_expires_on",
    "consent_expiry_event",
    "consent_signature",
    "consent_signed_by",
    "consent_signed_on",
]
REFERRAL_COLUMNS = [
    "service",
    "status",
    "decline_reason",
    "outcome",
    "sent_on",
    "responded_on",
    "started_on",
    "closed_on",
    "pathway",
    "pathway_step",
    "reason",
]
# Without the network's demographic dimensions, which come after PERSON_COLUMNS.
IMPORT_COLUMNS = [*PERSON_COLUMNS, *CONSENT_COLUMNS, *REFERRAL_COLUMNS]
REQUIRED_COLUMNS = ["organization", "person_ref", "given_name", "family_name", "birth_date"]
CONSENT_REQUIRED = [
    "consent_recipients",
    "consent_information",
    "consent_purpose",
    "consent_signature",
    "consent_signed_by",
    "consent_signed_on",
]
# The dates each status needs, besides sent_on.
STATUS_DATES = {
    S.SENT: (),
    S.ACCEPTED: ("responded_on",),
    S.DECLINED: ("responded_on",),
    S.IN_SERVICE: ("responded_on", "started_on"),
    S.COMPLETED: ("responded_on", "started_on", "closed_on"),
    S.CLOSED: ("closed_on",),
}
OPEN = {S.SENT, S.ACCEPTED, S.IN_SERVICE}
RECEIVED = {S.ACCEPTED, S.IN_SERVICE, S.COMPLETED}
DATE_ORDER = ["sent_on", "responded_on", "started_on", "closed_on"]
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
PHONE_RE = re.compile(r"[0-9+()./ x-]{7,30}")


def import_columns(network) -> list[str]:
    """Every column the file may have: the person's, one per demographic dimension (its
    code, holding a category code), the consent's and the referral's."""
    dimensions = [d.code for d in demographic_dimensions(network)]
    return [*PERSON_COLUMNS, *dimensions, *CONSENT_COLUMNS, *REFERRAL_COLUMNS]


EXAMPLE_ROW = {
    "organization": "riverside-family-center",
    "person_ref": "C-1042",
    "given_name": "Ana",
    "family_name": "Torres",
    "birth_date": "2008-03-14",
    "phone": "555-0142",
    "email": "",
    "street_address": "",
    "preferred_language": "es",
    "area": "RL-001",
    "consent_recipients": "named",
    "consent_recipient_organizations": "river-city-college-access",
    "consent_information": "identity; referrals; outcomes",
    "consent_purpose": "referral",
    "consent_purpose_description": "",
    "consent_expires_on": "2027-06-30",
    "consent_expiry_event": "",
    "consent_signature": "paper",
    "consent_signed_by": "Ana Torres",
    "consent_signed_on": "2026-09-02",
    "service": "3f1e0c7a-6a0e-5d8b-9a55-0c1b2d3e4f50",
    "status": "accepted",
    "decline_reason": "",
    "outcome": "",
    "sent_on": "2026-09-03",
    "responded_on": "2026-09-05",
    "started_on": "",
    "closed_on": "",
    "pathway": "",
    "pathway_step": "",
    "reason": "FAFSA help for a senior",
}


def template_csv(network) -> str:
    """The header row and one example row, for people to fill in."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=import_columns(network), lineterminator="\r\n", restval=""
    )
    writer.writeheader()
    writer.writerow(EXAMPLE_ROW)
    return out.getvalue()


def may_import(access: Access) -> None:
    """Network admins import for any partner of the network, organization admins for their
    own organization; other members get 403, everyone else 404."""
    if access.role == NETWORK_ADMIN or (access.role == ORG_ADMIN and access.organization_id):
        return
    if not access.is_member:
        raise Http404("No page found.")
    raise PermissionDenied("Only network admins and organization admins may import referrals.")


# Reading ---------------------------------------------------------------------------------


def read_referral_table(data: bytes, filename: str) -> Table:
    """The rows of a .csv (bigger files than other imports: a partner's referral history)
    or .xlsx file (the usual limits)."""
    if len(data) > MAX_BYTES:
        raise TableError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    if not data.strip():
        raise TableError("The file is empty: the first row must name the columns.")
    if filename.lower().endswith(".csv"):
        return tabular._table(tabular._csv_records(data), MAX_ROWS)
    return tabular.read_table(data, filename)
