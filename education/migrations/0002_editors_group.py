"""The "Editors" group: exactly add/change/delete/view on the education
models, nothing else. Safe to re-run; an admin's later additions to the group
are left alone on the way forward and removed only by the reverse migration."""

from django.db import migrations

GROUP = "Editors"
MODELS = ["category", "article", "glossaryterm"]
ACTIONS = ["add", "change", "delete", "view"]


def create_editors(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after every
    # migration has run; on a fresh database they do not exist yet here.
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("education")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    perms = list(Permission.objects.filter(content_type__app_label="education", codename__in=codenames))
    assert len(perms) == len(codenames), "education permissions missing"  # noqa: S101
    group.permissions.add(*perms)


def remove_editors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors, remove_editors)]
