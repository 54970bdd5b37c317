"""Demo data for ``manage.py load_demo``: the real learning content."""

from education.services import content_load


def load(user) -> str:
    """Load education/content/ (same service as load_learning_content);
    returns a one-line summary."""
    report = content_load(user=user)
    suffix = f"; {len(report.warnings)} warnings" if report.warnings else ""
    return f"learning content: {report}{suffix}"
