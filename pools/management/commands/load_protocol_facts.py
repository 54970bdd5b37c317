"""Load the bundled protocol facts (pools/data/protocol_facts.json) into protocols that staff
have not edited, and rescore their pools. Safe to run again."""

from django.core.management.base import BaseCommand

from pools.services.facts import protocol_facts_load


class Command(BaseCommand):
    help = "Load the bundled protocol facts (audits, launch dates); staff edits are kept."

    def handle(self, *args, **options):
        changed = protocol_facts_load()
        self.stdout.write(f"{len(changed)} protocol(s) updated: {', '.join(changed) or 'none'}")
