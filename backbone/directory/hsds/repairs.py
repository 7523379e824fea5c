"""Safe repairs that `--repair` applies before checking (docs/directory.md lists them).

Each repair changes a value only when the meaning is unambiguous, and every change is
reported (file, row, field, before, after).
"""

from __future__ import annotations

import datetime
import re

TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
# RFC 5545 BYDAY: weekdays, each optionally with an ordinal (1MO, -1FR), comma-separated.
BYDAY_RE = re.compile(
    r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)(,([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU))*$"
)
LOOSE_TIME_RE = re.compile(
    r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?(?::(?P<second>\d{2}))?\s*(?P<half>[ap]\.?m\.?)?$",
    re.IGNORECASE,
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
US_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip
US_CODES = set(US_STATES.values())
US_COUNTRIES = {"us", "usa", "united states", "united states of america"}

# Enumerations whose case alone can be wrong.
LOWER_ENUMS = {
    ("service", "status"),
    ("location", "location_type"),
    ("address", "address_type"),
}
UPPER_ENUMS = {("schedule", "freq"), ("schedule", "wkst")}


def normal_time(value: str) -> str | None:
    """`9:00am` -> `09:00`, `5 PM` -> `17:00`, `17:30:00` unchanged; None if unclear."""
    if TIME_RE.match(value):
        return value
    match = LOOSE_TIME_RE.match(value.strip())
    if not match:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    half = (match["half"] or "").lower().replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    second = f":{match['second']}" if match["second"] else ""
    return f"{hour:02d}:{minute:02d}{second}"


def normal_date(value: str) -> str | None:
    """`2024-01-31` unchanged, `1/31/2024` (US order) -> `2024-01-31`; None if unclear."""
    text = value.strip()
    match = US_DATE_RE.match(text)
    try:
        if match:
            month, day, year = (int(part) for part in match.groups())
            return datetime.date(year, month, day).isoformat()
        if DATE_RE.match(text):
            return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        return None
    return None


def normal_state(value: str, country: str) -> str | None:
    if country.strip().lower() not in US_COUNTRIES:
        return None
    text = value.strip()
    if text.upper() in US_CODES:
        return text.upper()
    return US_STATES.get(text.lower())


DAY_WORDS = {
    "mon": "MO",
    "monday": "MO",
    "tue": "TU",
    "tues": "TU",
    "tuesday": "TU",
    "wed": "WE",
    "wednesday": "WE",
    "thu": "TH",
    "thur": "TH",
    "thurs": "TH",
    "thursday": "TH",
    "fri": "FR",
    "friday": "FR",
    "sat": "SA",
    "saturday": "SA",
    "sun": "SU",
    "sunday": "SU",
    "mo": "MO",
    "tu": "TU",
    "we": "WE",
    "th": "TH",
    "fr": "FR",
    "sa": "SA",
    "su": "SU",
}


def normal_byday(value: str) -> str | None:
    """`Monday, Wednesday` or `mon;wed` -> `MO,WE`; None if a part is not a weekday."""
    parts = [part.strip().lower().rstrip(".") for part in re.split(r"[,;/ ]+", value.strip())]
    codes = [DAY_WORDS.get(part) for part in parts if part]
    if not codes or None in codes:
        return None
    return ",".join(codes)


def repair(table: str, values: dict, types: dict[str, str]) -> list[tuple[str, object, object]]:
    """Repair VALUES in place; (field, before, after) for every change."""
    changes = []
    for name, value in list(values.items()):
        if not isinstance(value, str):
            continue
        fixed: str | None = value.strip()
        kind = types.get(name)
        if kind == "time":
            fixed = normal_time(fixed) or fixed
        elif kind == "date":
            fixed = normal_date(fixed) or fixed
        elif (table, name) in LOWER_ENUMS:
            fixed = fixed.lower()
        elif (table, name) in UPPER_ENUMS:
            fixed = fixed.upper()
        elif table == "schedule" and name == "byday" and not BYDAY_RE.match(fixed):
            fixed = normal_byday(fixed) or fixed
        elif table == "address" and name == "state_province":
            fixed = normal_state(fixed, str(values.get("country", ""))) or fixed
        if fixed != value:
            changes.append((name, value, fixed))
            if fixed == "":
                del values[name]
            else:
                values[name] = fixed
    return changes
