"""Redactor: secret-looking keys, URL passwords and known secret values are masked; nothing else."""

from __future__ import annotations

import pytest

from netra_stack.profiles import Profile
from netra_stack.redact import MASK, Redactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("    POSTGRES_PASSWORD: hunter22", "    POSTGRES_PASSWORD: ***"),
        ("API_TOKEN=abc123", "API_TOKEN=***"),
        ("export DB_PASS=abc123 other=1", "export DB_PASS=*** other=1"),
        ("GITHUB_API_KEY: 'ghp 123'", "GITHUB_API_KEY: ***"),
        ('AWS_SECRET_ACCESS_KEY: "a b c"', "AWS_SECRET_ACCESS_KEY: ***"),
        ("x_private_key=----BEGIN", "x_private_key=***"),
        ("DATABASE_URL: postgresql://netra:pw1234@db/x", "DATABASE_URL: postgresql://netra:***@db/x"),
        ("redis://default:s3cret@cache:6379/0 and http://u:p@h", "redis://default:***@cache:6379/0 and http://u:***@h"),
    ],
)
def test_secrets_masked(text, expected):
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["POSTGRES_USER: netra", "POSTGRES_DB=app", "image: postgres:15", "http://db:5432/x", "user@host",
     "ports: 127.0.0.1:35001:5432/tcp", "passing tests: 12", ""],
)
def test_non_secrets_untouched(text):
    assert Redactor().redact(text) == text


def test_known_secret_values_replaced_everywhere():
    redactor = Redactor(["hunter22", "abc", "hunter22-long"])  # shorter than 4 characters: ignored
    text = "log: connecting with hunter22-long, then hunter22; abc stays"
    assert redactor.redact(text) == "log: connecting with ***, then ***; abc stays"


def test_for_profile_collects_secret_values_of_secret_keys():
    profile = Profile(env={"DB_PASSWORD": "profilepw", "DOCKER_TAG": "latest"},
                      services={"backend": {"environment": {"JWT_SECRET": "jwtjwtjwt", "MODE": "debug"}}})
    redactor = Redactor.for_profile(profile, {"API_TOKEN": "tok-from-env", "HOME": "/root"})
    assert sorted(redactor.secrets) == ["jwtjwtjwt", "profilepw", "tok-from-env"]
    line = "started with profilepw jwtjwtjwt tok-from-env latest debug /root"
    assert redactor.redact(line) == f"started with {MASK} {MASK} {MASK} latest debug /root"


@pytest.mark.parametrize("text", ["password: hunter22", "token=hunter22", "secret: hunter22", "api_key=hunter22"])
def test_bare_secret_keys_masked(text):
    assert "hunter22" not in Redactor().redact(text)


def test_json_secret_key_masked():
    assert "hunter22" not in Redactor().redact('{"POSTGRES_PASSWORD": "hunter22"}')
