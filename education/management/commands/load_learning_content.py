"""Load education/content/ (categories, glossary, articles) into the database.

Safe to re-run: creates what is missing, updates what the loader wrote and
nobody changed since, never overwrites an editor's change (a changed file
behind an edited item waits for an editor's review in the admin instead). Exits with an
error naming each file and key when the content is invalid (nothing written).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from education.content_files import ContentError
from education.services import CONTENT_ROOT, content_load


class Command(BaseCommand):
    help = "Load learning content (categories, glossary terms, articles) from markdown files. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(CONTENT_ROOT), help="content folder (default: education/content)")
        parser.add_argument("--author", default="", help="email of the user recorded as author of new articles")
        parser.add_argument("--drafts", action="store_true",
                            help="create new articles as drafts for an editor to publish (default: published)")

    def handle(self, *args, **options):
        user = None
        if options["author"]:
            try:
                user = get_user_model().objects.get(email__iexact=options["author"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user with email {options['author']!r}") from None
        try:
            report = content_load(root=Path(options["path"]), user=user, new_as_drafts=options["drafts"])
        except ContentError as exc:
            lines = "\n  ".join(exc.errors)
            raise CommandError(f"Learning content has errors; nothing was loaded:\n  {lines}") from exc
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        for item in report.skipped_items:
            self.stdout.write(f"kept editor's version: {item}")
        for item in report.offered_items:
            self.stdout.write(f"file's new version waits for review in the admin: {item}")
        self.stdout.write(self.style.SUCCESS(f"Learning content: {report}"))
