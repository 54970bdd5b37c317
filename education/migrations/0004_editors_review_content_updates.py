"""Editors review a content file's newer versions of items they changed:
view and change on ContentUpdate (no add or delete: the loader makes them)."""

from django.db import migrations

GROUP = "Editors"
CODENAMES = ["view_contentupdate", "change_contentupdate"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("education")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    perms = list(Permission.objects.filter(content_type__app_label="education", codename__in=CODENAMES))
    assert len(perms) == len(CODENAMES), "education permissions missing"  # noqa: S101
    group.permissions.add(*perms)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="education", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [("education", "0003_sources_and_content_updates")]

    operations = [migrations.RunPython(grant, revoke)]
