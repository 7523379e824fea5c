from django.db import migrations

SECTORS = [
    ("nonprofit", "Nonprofit service provider"),
    ("grantmaker", "Grantmaker"),
    ("public_agency", "Public agency"),
    ("school_district", "School district"),
    ("higher_education", "Higher education"),
    ("business", "Business"),
    ("community_group", "Community group"),
    ("faith_based", "Faith-based"),
    ("health_care", "Health care"),
    ("other", "Other"),
]


def load(apps, schema_editor):
    Sector = apps.get_model("core", "Sector")
    for position, (code, name) in enumerate(SECTORS):
        Sector.objects.update_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
