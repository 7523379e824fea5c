"""Forms of the directory pages."""

from __future__ import annotations

from django import forms

from backbone.directory.services import EDITABLE_FIELDS

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    category = forms.ChoiceField(label="Category", required=False)
    life_stage = forms.ChoiceField(label="Life stage", required=False)
    population = forms.ChoiceField(label="Population", required=False)
    language = forms.ChoiceField(label="Language", required=False)
    area = forms.ChoiceField(label="Area served", required=False)
    open_now = forms.BooleanField(label="Open now", required=False)
    lat = forms.FloatField(label="Latitude", required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label="Longitude", required=False, min_value=-180, max_value=180)
    radius = forms.FloatField(
        label="Within (km)", required=False, min_value=0.1, max_value=500, initial=25
    )
    stale = forms.BooleanField(label="Only stale listings", required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data, *, choices: dict):
        super().__init__(data)
        self.fields["category"].choices = [("", "All categories"), *choices["categories"]]
        self.fields["life_stage"].choices = [("", "Any life stage"), *choices["life_stages"]]
        self.fields["population"].choices = [
            ("", "Anyone"),
            *[(p, p.replace("-", " ").capitalize()) for p in choices["populations"]],
        ]
        self.fields["language"].choices = [("", "Any language"), *choices["languages"]]
        self.fields["area"].choices = [("", "Anywhere"), *choices["areas"]]

    def clean(self):
        data = super().clean()
        if "lat" in self.errors or "lon" in self.errors:
            return data
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise forms.ValidationError("Distance: give both latitude and longitude, or neither.")
        return data

    def messages(self) -> list[str]:
        """Every error, each named by its field's label."""
        found = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            found += [f"{label}: {error}" if label else error for error in errors]
        return found


class ListingForm(forms.Form):
    note = forms.CharField(
        label="Note for the backbone", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, initial_values: dict, with_note: bool, **kwargs):
        super().__init__(*args, **kwargs)
        note = self.fields.pop("note")
        for name, (label, kind) in EDITABLE_FIELDS.items():
            widget = forms.Textarea(attrs={"rows": 3}) if kind == "long" else forms.TextInput()
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                initial=initial_values.get(name, ""),
                widget=widget,
                strip=kind != "long",
            )
        if with_note:
            self.fields["note"] = note


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label="Comment for the partner", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="HSDS file",
        help_text="An HSDS 3.0 JSON file, or a .zip of the CSV datapackage "
        f"(datapackage.json and one CSV per table), at most {MAX_UPLOAD_BYTES // 2**20} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.zip"}),
    )
    repair = forms.BooleanField(
        label="Repair what can be repaired safely (spaces, times, dates, states)", required=False
    )
    skip_invalid = forms.BooleanField(
        label="Skip records that still fail, and import the rest", required=False
    )
    dry_run = forms.BooleanField(label="Dry run: check only, write nothing", required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".json", ".zip")):
            raise forms.ValidationError(f"{upload.name}: upload a .json file or a .zip file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB."
            )
        return upload
