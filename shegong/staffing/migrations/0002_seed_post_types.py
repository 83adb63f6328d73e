import json

from django.db import migrations

from shegong.staffing.services import POST_TYPES_FILE


def seed(apps, schema_editor):
    PostType = apps.get_model("staffing", "PostType")
    # Only the columns the table has at this point of the history (the file gained usual_method in 0007).
    columns = {f.name for f in PostType._meta.fields}
    for row in json.loads(POST_TYPES_FILE.read_text(encoding="utf-8")):
        PostType.objects.update_or_create(code=row["code"],
                                          defaults={k: v for k, v in row.items() if k != "code" and k in columns})


class Migration(migrations.Migration):
    dependencies = [("staffing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
