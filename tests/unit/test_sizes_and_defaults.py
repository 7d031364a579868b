"""parse_size, parse_age, and the default profile chosen from DOCKER_ENV / USE_ALPINE."""

from __future__ import annotations

import pytest

from netra_stack.lifecycle.clean import parse_age
from netra_stack.model.errors import NetraError, ProfileError
from netra_stack.model.profiles import default_profile_name, parse_size

MiB, GiB = 1024**2, 1024**3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("512m", 512 * MiB), ("512M", 512 * MiB), ("1g", GiB), ("1.5GiB", int(1.5 * GiB)), (2048, 2048),
        ("2048", 2048), ("256mb", 256 * MiB), ("64k", 64 * 1024), ("1t", 1024**4), (" 2 G ", 2 * GiB),
    ],
)
def test_parse_size(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", [0, -1, "0", "-1", "", "   ", "12x", "1.5.5g", "m", True, False, None, 1.5, [512]])
def test_parse_size_rejects(value):
    with pytest.raises(ValueError, match="expected a size such as 256m"):
        parse_size(value)


@pytest.mark.parametrize("value", ["0.5", "0.1b"])
def test_parse_size_rejects_sizes_below_one_byte(value):
    with pytest.raises(ValueError):
        parse_size(value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("15", 15), ("1.5h", 5400), (" 10m ", 600)],
)
def test_parse_age(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "-1h", "5w", "h", None])
def test_parse_age_rejects(text):
    with pytest.raises(NetraError, match=r"--older-than .*expected an age such as 90s, 30m, 2h or 1d"):
        parse_age(text)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "test"),
        ({"DOCKER_ENV": "test"}, "test"),
        ({"DOCKER_ENV": "dev"}, "dev"),
        ({"DOCKER_ENV": "prod"}, "prod"),
        ({"DOCKER_ENV": " Dev "}, "dev"),
        ({"DOCKER_ENV": ""}, "test"),
        ({"USE_ALPINE": "true"}, "alpine-test"),
        ({"DOCKER_ENV": "test", "USE_ALPINE": "1"}, "alpine-test"),
        ({"DOCKER_ENV": "dev", "USE_ALPINE": "yes"}, "alpine-dev"),
        ({"DOCKER_ENV": "dev", "USE_ALPINE": "TRUE"}, "alpine-dev"),
        ({"DOCKER_ENV": "prod", "USE_ALPINE": "true"}, "prod"),  # no alpine variant of prod
        ({"DOCKER_ENV": "dev", "USE_ALPINE": "false"}, "dev"),
        ({"DOCKER_ENV": "test", "USE_ALPINE": "0"}, "test"),
        ({"USE_ALPINE": ""}, "test"),
    ],
)
def test_default_profile_name(environ, expected):
    assert default_profile_name(environ) == expected


@pytest.mark.parametrize(
    ("environ", "use_alpine", "expected"),
    [
        ({"USE_ALPINE": "false"}, True, "alpine-test"),
        ({"DOCKER_ENV": "dev", "USE_ALPINE": "true"}, False, "dev"),
        ({"DOCKER_ENV": "dev"}, True, "alpine-dev"),
        ({}, None, "test"),
    ],
)
def test_default_profile_name_explicit_use_alpine_wins(environ, use_alpine, expected):
    assert default_profile_name(environ, use_alpine=use_alpine) == expected


@pytest.mark.parametrize("value", ["staging", "production", "alpine-test"])
def test_default_profile_name_rejects_unknown_docker_env(value):
    with pytest.raises(ProfileError, match=f"DOCKER_ENV='{value}'") as info:
        default_profile_name({"DOCKER_ENV": value})
    assert info.value.exit_code == 3 and "--profile" in info.value.hint
