import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory


@pytest.fixture
def editor(db):
    """A staff user whose only powers come from the Editors group."""
    user = UserFactory(email="editor@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def reader(db):
    return UserFactory(email="reader@example.com")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client
