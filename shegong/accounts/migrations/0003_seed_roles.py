from django.db import migrations

from shegong.accounts.roles import ROLES


def seed(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    known = {f.name for f in Role._meta.fields}  # keys added to ROLES later (rank: 0006) are not columns yet
    for row in ROLES:
        Role.objects.update_or_create(code=row["code"],
                                      defaults={k: v for k, v in row.items() if k != "code" and k in known})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
