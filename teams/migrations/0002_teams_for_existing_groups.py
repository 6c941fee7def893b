"""Every group that exists already becomes a team (without managers: a superuser names the first one)."""

from django.db import migrations


def create_teams(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Team = apps.get_model("teams", "Team")
    Team.objects.bulk_create(Team(group=group) for group in Group.objects.filter(team__isnull=True))


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]

    operations = [migrations.RunPython(create_teams, migrations.RunPython.noop)]
