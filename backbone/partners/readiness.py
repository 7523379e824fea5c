"""The readiness questionnaire: five domains, each answered on a 0–3 scale.

Adapted from common collective-impact readiness tools (leadership, data, capacity,
alignment, collaboration history). Scoring is the percent of the highest total; the
level and the next steps come from the score and from the weakest domains.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    code: str
    domain: str
    text: str
    choices: tuple[str, str, str, str]  # answers worth 0, 1, 2, 3
    next_step: str  # suggested when this answer is 0 or 1


QUESTIONS = [
    Question(
        "leadership",
        "Leadership buy-in",
        "How committed are your executive director and board to the network's common purpose?",
        (
            "Not yet discussed",
            "Interested, no commitment",
            "Formally endorsed",
            "Endorsed and champions it publicly",
        ),
        "Brief your executive director and board on the common purpose and ask for a formal "
        "endorsement; the backbone can present at a board meeting.",
    ),
    Question(
        "data_capacity",
        "Data capacity",
        "How does your organization collect and report data on the people it serves?",
        (
            "Paper or not at all",
            "Spreadsheets, kept by hand",
            "A case-management or student information system",
            "A system plus staff who analyse and report regularly",
        ),
        "Name a data lead and start recording participants in a spreadsheet with the network's "
        "shared fields; ask the backbone about data-capacity coaching.",
    ),
    Question(
        "staff_time",
        "Staff time",
        "How much staff time can you give to working groups and data reporting each month?",
        ("None", "A few hours", "About one day", "Two days or more"),
        "Agree with your leadership on protected time (at least a few hours a month) for one "
        "staff member to take part in a working group.",
    ),
    Question(
        "alignment",
        "Alignment",
        "How closely do your programs' goals match the network's shared results?",
        (
            "Little overlap",
            "Some programs relate",
            "Most programs contribute",
            "Our strategy is built around the shared results",
        ),
        "Map your programs to the network's results and life stages with the backbone to "
        "find where you contribute most.",
    ),
    Question(
        "collaboration",
        "Prior collaboration",
        "How much has your organization worked with others on shared goals before?",
        (
            "Never",
            "Informal referrals",
            "Formal partnerships (MOUs, joint programs)",
            "Led a coalition or shared-measurement effort",
        ),
        "Start with one concrete joint activity, such as a referral agreement with a partner "
        "already in the network.",
    ),
]
QUESTION_CODES = [q.code for q in QUESTIONS]
MAX_SCORE = 3 * len(QUESTIONS)

LEVELS = [
    (
        80,
        "champion",
        "Ready to lead",
        "Ready to lead: invite this organization to chair or co-chair a working group.",
    ),
    (
        55,
        "ready",
        "Ready",
        "Ready to take part: sign the data-sharing agreement and join a working group.",
    ),
    (
        30,
        "emerging",
        "Emerging",
        "Emerging: take part as an advisor while building capacity in the weakest areas.",
    ),
    (
        0,
        "early",
        "Early",
        "Early: start with the first steps below before taking on reporting commitments.",
    ),
]


def validate_answers(answers: dict) -> dict[str, str]:
    errors = {}
    for question in QUESTIONS:
        value = answers.get(question.code)
        if value is None or value == "":
            errors[question.code] = "Choose an answer."
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[question.code] = "The answer must be a number from 0 to 3."
            continue
        if not 0 <= number <= 3:
            errors[question.code] = "The answer must be a number from 0 to 3."
    for code in answers:
        if code not in QUESTION_CODES:
            errors[code] = f"Unknown question '{code}'."
    return errors


def score(answers: dict) -> tuple[int, str]:
    total = sum(int(answers[q.code]) for q in QUESTIONS)
    percent = round(100 * total / MAX_SCORE)
    level = next(code for threshold, code, _, _ in LEVELS if percent >= threshold)
    return percent, level


def level_label(level: str) -> str:
    return next((label for _, code, label, _ in LEVELS if code == level), level)


def result(answers: dict, level: str) -> dict:
    summary = next((text for _, code, _, text in LEVELS if code == level), "")
    weakest = sorted(QUESTIONS, key=lambda q: int(answers.get(q.code, 0)))
    steps = [q.next_step for q in weakest if int(answers.get(q.code, 0)) <= 1]
    domains = [
        {
            "domain": q.domain,
            "value": int(answers.get(q.code, 0)),
            "answer": q.choices[int(answers.get(q.code, 0))],
        }
        for q in QUESTIONS
    ]
    return {"summary": summary, "next_steps": steps, "domains": domains}
