"""The starter taxonomy of need categories, written for this project.

Ids are fixed (uuid5 of the code) so that installing it twice, or in two networks,
gives the same HSDS ids. Any other vocabulary (e.g. Open Eligibility, 211 LA) comes in
through an ordinary HSDS import.
"""

from __future__ import annotations

import uuid

from backbone.directory.hsds.reading import Record

NAMESPACE = uuid.UUID("6f1c8a52-3f0e-4c54-9a55-0c9f3f1d2b7e")
TAXONOMY_ID = str(uuid.uuid5(NAMESPACE, "taxonomy"))
NAME = "Backbone need categories"

# code -> (name, description); a dotted code is a child of its prefix.
CATEGORIES = {
    "food": ("Food", "Meals, groceries, food banks and nutrition programs."),
    "food.pantry": ("Food pantry", "Free groceries to take home."),
    "food.meals": ("Meals", "Prepared meals, including school and senior meals."),
    "housing": ("Housing", "Shelter, rent help and housing stability."),
    "housing.shelter": ("Emergency shelter", "A safe place to stay tonight."),
    "housing.rent": ("Rent and utility help", "Help paying rent, deposits or utilities."),
    "education": ("Education", "Learning from early childhood through adulthood."),
    "education.early": ("Early learning", "Child care, preschool and kindergarten readiness."),
    "education.tutoring": ("Tutoring and mentoring", "Academic support outside class."),
    "education.postsecondary": ("College and training", "Access to and success in college."),
    "employment": ("Employment", "Finding, keeping and advancing in work."),
    "employment.training": ("Job training", "Skills training and apprenticeships."),
    "health": ("Health", "Physical health care and insurance."),
    "health.mental": ("Mental health", "Counseling, crisis and behavioral health."),
    "health.substance_use": ("Substance use", "Prevention, treatment and recovery."),
    "income": ("Income and benefits", "Cash assistance, tax help and public benefits."),
    "transportation": ("Transportation", "Getting to school, work and appointments."),
    "legal": ("Legal help", "Legal advice, representation and immigration help."),
    "family": ("Family support", "Parenting, home visiting and family services."),
    "safety": ("Safety", "Domestic violence, abuse and crisis support."),
    "youth": ("Youth development", "Out-of-school time, mentoring and leadership."),
}


def term_id(code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"term:{code}"))


def starter_taxonomy_records() -> list[Record]:
    records = [
        Record(
            "taxonomy",
            {
                "id": TAXONOMY_ID,
                "name": NAME,
                "description": "Need categories of the Backbone framework.",
                "version": "1",
            },
            "starter taxonomy",
            "taxonomy",
        )
    ]
    for code, (name, description) in CATEGORIES.items():
        values = {
            "id": term_id(code),
            "code": code,
            "name": name,
            "description": description,
            "taxonomy_id": TAXONOMY_ID,
            "language": "en",
        }
        if "." in code:
            values["parent_id"] = term_id(code.rsplit(".", 1)[0])
        records.append(Record("taxonomy_term", values, "starter taxonomy", code))
    return records
