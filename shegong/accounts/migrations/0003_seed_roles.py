from django.db import migrations

from shegong.accounts.roles import ROLES


def seed(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for row in ROLES:
        Role.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
