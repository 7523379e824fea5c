"""Default vocabularies of the results framework."""

# The minimum race and ethnicity categories of the 2024 revision of OMB Statistical
# Policy Directive No. 15 (a combined question; respondents may choose several).
SPD15_RACE_ETHNICITY = [
    ("american-indian-alaska-native", "American Indian or Alaska Native"),
    ("asian", "Asian"),
    ("black-african-american", "Black or African American"),
    ("hispanic-latino", "Hispanic or Latino"),
    ("middle-eastern-north-african", "Middle Eastern or North African"),
    ("native-hawaiian-pacific-islander", "Native Hawaiian or Pacific Islander"),
    ("white", "White"),
]
# Not SPD 15 categories: reporting choices a network may keep or delete. "Multiracial"
# counts people who chose more than one category; "Not reported" keeps totals whole.
RACE_ETHNICITY_NETWORK_CHOICES = [
    ("multiracial", "Multiracial"),
    ("not-reported", "Not reported"),
]

TEMPLATES = {"cradle-to-career": "cradle_to_career.yaml"}
