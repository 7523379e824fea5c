"""Custom validation rules and the "story behind the curve" of every result."""

from __future__ import annotations

from collections import defaultdict

from backbone.demo.measurement_seed.common import (
    NARRATIVE_YEAR,
    cell_rate,
    indicator_period,
)
from backbone.demo.measurement_seed.partners import Program
from backbone.measurement.models import (
    Result,
    ResultNarrative,
    Unit,
    ValidationRule,
)

# Rules and narratives ----------------------------------------------------------------

RULES = (
    (
        "college-access",
        "fafsa-within-advised",
        "FAFSA completions within seniors advised",
        "college-fafsa-completions",
        "<=",
        "college-seniors-advised",
        "error",
        "More seniors completed the FAFSA than were advised; count advised seniors only.",
    ),
    (
        "job-training",
        "completers-within-enrolled",
        "Training completers within enrollment",
        "training-completed",
        "<=",
        "training-enrolled",
        "error",
        "More young adults completed training than were enrolled.",
    ),
    (
        "job-training",
        "placed-within-completers",
        "Placements within completers",
        "training-placed",
        "<=",
        "training-completed",
        "error",
        "More completers were placed than completed training.",
    ),
    (
        "developmental-screening",
        "referrals-within-screenings",
        "Referred children within screenings",
        "referrals-started-services",
        "<=",
        "screenings-completed",
        "warning",
        "More referred children started services than were screened this quarter; explain "
        "carry-over referrals in the comment.",
    ),
)


def seed_validation_rules(network, programs: list[Program]) -> None:
    present = {p.spec.key for p in programs}
    existing = set(ValidationRule.objects.filter(network=network).values_list("code", flat=True))
    ValidationRule.objects.bulk_create(
        [
            ValidationRule(
                network=network,
                code=code,
                name=name,
                left=left,
                operator=operator,
                right=right,
                severity=severity,
                message=message,
            )
            for key, code, name, left, operator, right, severity, message in RULES
            if key in present and code not in existing
        ]
    )


def _facts(indicator, cells_by_year) -> dict:
    """Figures a narrative quotes: first and latest rate and race gap, weakest county."""
    scale = indicator.rate_per if indicator.unit == Unit.RATE else 100
    years = sorted(cells_by_year)
    first, last = cells_by_year[years[0]], cells_by_year[years[-1]]

    def gap(cells):
        black = cell_rate(cells, "race-ethnicity=black-african-american", scale)
        white = cell_rate(cells, "race-ethnicity=white", scale)
        return abs(black - white) if black is not None and white is not None else 0.0

    first_period, last_period = (
        indicator_period(indicator, years[0]),
        indicator_period(indicator, years[-1]),
    )
    return {
        "first": cell_rate(first, "", scale),
        "last": cell_rate(last, "", scale),
        "first_period": first_period.code,
        "last_period": last_period.code,
        "gap_first": gap(first),
        "gap_last": gap(last),
    }


def seed_narratives(network, indicators, network_cells, programs, tree, admin) -> None:
    existing = set(
        ResultNarrative.objects.filter(network=network, year=NARRATIVE_YEAR).values_list(
            "result__code", flat=True
        )
    )
    results = {r.code: r for r in Result.objects.filter(network=network)}
    partners = {p.spec.key: p.organization.name for p in programs}
    facts = {
        code: _facts(indicators[code], cells)
        for code, cells in network_cells.items()
        if code in indicators
    }
    county = tree.counties[0].name if tree.counties else "the county"
    texts = _narratives(facts, partners, county)
    # A result whose indicators are not all in the framework gets no story (its figures
    # would be missing from it).
    measured = defaultdict(set)
    for indicator in indicators.values():
        measured[indicator.result_id].add(indicator.code in facts)
    ResultNarrative.objects.bulk_create(
        [
            ResultNarrative(
                network=network,
                result=results[code],
                year=NARRATIVE_YEAR,
                story=story,
                partners=who,
                what_works=works,
                action_plan=plan,
                updated_by=admin,
            )
            for code, (story, who, works, plan) in texts.items()
            if code in results and code not in existing and measured[results[code].pk] == {True}
        ]
    )


def _narratives(facts: dict, partners: dict, county: str) -> dict[str, tuple[str, ...]]:
    def f(code: str, key: str) -> str:
        return f"{facts[code][key]:.0f}" if code in facts else "—"

    def p(key: str, fallback: str) -> str:
        return partners.get(key, fallback)

    return {
        "kindergarten-readiness": (
            f"{f('k-ready', 'last')}% of kindergartners met the readiness benchmark in the fall "
            f"of {facts.get('k-ready', {}).get('last_period', '')}, up from "
            f"{f('k-ready', 'first')}% before the pandemic dip. The gap between Black and White "
            f"children narrowed from {f('k-ready', 'gap_first')} to {f('k-ready', 'gap_last')} "
            f"points as state pre-K seats reached more of the region: pre-K enrollment rose from "
            f"{f('prek-enrollment', 'first')}% to {f('prek-enrollment', 'last')}% of "
            "four-year-olds. Children in families below the poverty line still start school "
            "furthest behind, and rural families have the fewest seats within a short drive.",
            f"{p('prek-quality', 'Pre-K providers')}, {p('developmental-screening', 'clinics')}, "
            f"{p('family-resource', 'family resource centers')}, the county health departments "
            "and the school districts' kindergarten teams.",
            "Full-day pre-K with coached teachers; developmental screening at well-child visits "
            "with a warm hand-off to early intervention; kindergarten registration drives in "
            "the spring so schools meet families before the first day.",
            "Open 120 more full-day pre-K seats in the two lowest-ready ZIP codes by fall 2027; "
            "share screening results with pre-K programs (with parents' consent); report "
            "readiness by school every January.",
        ),
        "early-grade-reading": (
            f"{f('grade3-reading', 'last')}% of 3rd graders read proficiently in "
            f"{facts.get('grade3-reading', {}).get('last_period', '')}, up from "
            f"{f('grade3-reading', 'first')}% in the first tested year after the pandemic. "
            f"The recovery has not reached every child: the gap between Black and White "
            f"students is still {f('grade3-reading', 'gap_last')} points, as it was in "
            f"{facts.get('grade3-reading', {}).get('first_period', '')}. Chronic absence "
            f"in K–3 peaked at almost 29% in SY2021-22 and is now "
            f"{f('chronic-absence-k3', 'last')}%, but it fell least for the students who "
            "were absent most.",
            f"{p('school-attendance', 'The school districts')}, "
            f"{p('reading-tutoring', 'tutoring partners')}, the public libraries' summer "
            "reading programs and the Early Grade Reading Collaborative.",
            "High-dosage tutoring (three or more sessions a week, same tutor); calling families "
            "after the second absence of a month rather than the tenth; summer reading with "
            "books children keep.",
            "Put tutoring in the eight schools with the lowest reading scores first; train "
            "family liaisons in every elementary school; review reading and attendance by "
            "race and school each semester with principals.",
        ),
        "middle-grade-math": (
            f"Only {f('grade8-math', 'last')}% of 8th graders are proficient in math, and "
            f"the gap between Black and White students ({f('grade8-math', 'gap_last')} points) "
            "has not closed since testing resumed. Fewer than half of the region's middle "
            "schools offer Algebra I in 8th grade, and those that do enroll few students from "
            "low-income families.",
            "The school districts' math coordinators, the community college's math faculty "
            "and after-school providers.",
            "Placing students in Algebra I by their results instead of teacher recommendation; "
            "double-period math with tutoring for students one grade level behind.",
            "Pilot automatic Algebra I enrollment in three middle schools in 2027; add math to "
            "the tutoring partners' offer; report 8th-grade math by school each fall.",
        ),
        "high-school-graduation": (
            f"The four-year graduation rate reached {f('hs-graduation-4yr', 'last')}%, and "
            f"9th graders on track rose from {f('grade9-on-track', 'first')}% to "
            f"{f('grade9-on-track', 'last')}% since the freshman success teams started. The "
            f"on-track gap between Black and White students narrowed from "
            f"{f('grade9-on-track', 'gap_first')} to {f('grade9-on-track', 'gap_last')} points; "
            "graduation follows on-track status four years later, so the graduation gap is "
            "narrowing more slowly.",
            "High schools' freshman success teams, the High School Success Team, mentoring "
            "partners and the county juvenile court's diversion program.",
            "Freshman success teams that meet every two weeks on each student's grades and "
            "attendance; credit recovery during the school day; a mentor for every student "
            "who fails a core course in the first semester.",
            "Extend freshman success teams to 10th grade in the largest district; publish "
            "on-track rates by school each February.",
        ),
        "postsecondary-enrollment": (
            f"{f('postsecondary-enrollment', 'last')}% of graduates enrolled in college or "
            f"training by the fall after graduation in "
            f"{facts.get('postsecondary-enrollment', {}).get('last_period', '')}, still below "
            f"the {f('postsecondary-enrollment', 'first')}% before the pandemic. The gap between "
            "students from low-income families and their peers has grown: advising caseloads "
            "are over 400 students per counselor, and FAFSA completion fell with the new form.",
            f"{p('college-access', 'College advising partners')}, high school counselors, the "
            f"community college and {p('first-year-success', 'the universities')}.",
            "One-on-one FAFSA help in school during the day; texting nudges in the summer after "
            "graduation; automatic admission to the community college.",
            "FAFSA nights in every high school before March 1; a summer texting campaign for the "
            "class of 2027; report FAFSA completion weekly during the season.",
        ),
        "postsecondary-completion": (
            f"{f('postsecondary-completion', 'last')}% of graduates earn a certificate or degree "
            "within six years, barely changed in six years. Students who need developmental "
            "courses and students working more than 20 hours a week leave most often, "
            "usually in their first year.",
            f"{p('first-year-success', 'Colleges and universities')}, the community college, "
            "employers offering tuition help and the College Access and Completion group.",
            "Success coaching in the first year; co-requisite courses instead of developmental "
            "ones; emergency grants that keep a student enrolled.",
            "Fund two more success coaches at the community college; track first-year "
            "retention for partner students each term.",
        ),
        "career-entry": (
            f"{f('youth-employment', 'last')}% of 20–24-year-olds are working, above the "
            f"{f('youth-employment', 'first')}% of 2019, and disconnected youth fell from a "
            f"pandemic peak to {f('disconnected-youth', 'last')} per 1,000. Black young adults "
            f"are still far more likely to be out of school and work, and in {county} the "
            "jobs that pay a family-sustaining wage are concentrated where bus service is "
            "thinnest.",
            f"{p('youth-workforce', 'The workforce board')}, "
            f"{p('job-training', 'training providers')}, employers in the Career Pathways "
            "Council and the transit authority.",
            "Sector training designed with employers; paid work experience for young people "
            "out of school; transportation help for the first three months of a job.",
            "Add a logistics cohort with two employers in 2027; publish placement and wage "
            "results of every training partner each year.",
        ),
    }
