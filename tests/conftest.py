from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from shegong.access import system_actor
from shegong.accounts.models import User
from shegong.accounts.services import token_create
from shegong.org.models import Division
from shegong.people.models import Worker
from tests import factories


@pytest.fixture(autouse=True)
def chinese_after_each_test():
    """A request in English leaves English active in the thread; the next test starts in Chinese again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_configure(config):
    # Tests render templates without running collectstatic.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.WHITENOISE_AUTOREFRESH = True
    settings.UPLOAD_ROOT = tempfile.mkdtemp(prefix="shegong-uploads-")
    # Each test process its own var/: the post-type marker file (shegong/staffing/post_types.py) tells the
    # other processes of a change, so a test saving a post type in one xdist worker would otherwise make another
    # worker re-read the table in the middle of a query count. The keys were read when settings loaded.
    var = Path(tempfile.mkdtemp(prefix="shegong-var-"))
    if (Path(settings.VAR_DIR) / "keys.json").exists():
        shutil.copy(Path(settings.VAR_DIR) / "keys.json", var / "keys.json")
    settings.VAR_DIR = var
    # Background jobs run inline in tests.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Argon2 is the production hasher (tested in test_accounts); tests log in faster with MD5.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.Argon2PasswordHasher"]


@dataclass
class World:
    """Two cities. Inside 长春 (2201): district 220102, streets 001 and 002, three communities.
    Outside: 吉林市 (2202) with one community. One worker per community; one user per role."""

    c1: Division      # 220102001001 (street 220102001)
    c2: Division      # 220102001002 (street 220102001)
    c3: Division      # 220102002001 (street 220102002)
    other: Division   # 220202001001 (吉林市, outside every grant but civil_affairs@22)
    w1: Worker
    w2: Worker
    w3: Worker
    w_other: Worker
    users: dict[str, User]


@pytest.fixture
def world(db) -> World:
    c1 = factories.community("220102001001", "东风社区")
    c2 = factories.community("220102001002", "幸福社区")
    c3 = factories.community("220102002001", "春光社区")
    other = factories.community("220202001001", "吉林测试社区")
    w1 = factories.WorkerFactory(name="张三", community=c1)
    w2 = factories.WorkerFactory(name="李四", community=c2)
    w3 = factories.WorkerFactory(name="王五", community=c3)
    w_other = factories.WorkerFactory(name="赵六", community=other, id_number=factories.id_number("220202"))
    users = factories.world_users(w1)
    return World(c1, c2, c3, other, w1, w2, w3, w_other, users)


def api_client(user: User) -> Client:
    """A test client that sends the user's bearer token on every request."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=system_actor('command'), user=user)}")


@pytest.fixture
def api():
    return api_client
