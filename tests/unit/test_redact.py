"""Redactor: the values of secret-named keys, URL passwords and known secret values are masked;
nothing else, and never so that a text's structure changes (masked YAML stays the same YAML)."""

from __future__ import annotations

import pytest
import yaml

from netra_stack.model.profiles import Profile
from netra_stack.model.redact import MASK, Redactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a plain YAML value becomes a quoted mask: a bare *** after `key: ` is an alias
        ("    POSTGRES_PASSWORD: hunter22", "    POSTGRES_PASSWORD: '***'"),
        ("API_TOKEN=abc123", "API_TOKEN=***"),
        ("export DB_PASS=abc123 other=1", "export DB_PASS=*** other=1"),
        ("GITHUB_API_KEY: 'ghp 123'", "GITHUB_API_KEY: '***'"),
        ('AWS_SECRET_ACCESS_KEY: "a b c"', 'AWS_SECRET_ACCESS_KEY: "***"'),
        ("x_private_key=----BEGIN", "x_private_key=***"),
        ("--requirepass=hunter22", "--requirepass=***"),
        ("DATABASE_URL: postgresql://netra:pw1234@db/x", "DATABASE_URL: postgresql://netra:***@db/x"),
        ("redis://default:s3cret@cache:6379/0 and http://u:p@h", "redis://default:***@cache:6379/0 and http://u:***@h"),
        ("REDIS_URL=redis://:s3cret@cache:6379", "REDIS_URL=redis://:***@cache:6379"),
        ('{"POSTGRES_PASSWORD":"hunter22","user":"netra"}', '{"POSTGRES_PASSWORD":"***","user":"netra"}'),
        ("{password: hunter22, user: netra}", "{password: '***', user: netra}"),
    ],
)
def test_secrets_masked(text, expected):
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["POSTGRES_USER: netra", "POSTGRES_DB=app", "image: postgres:15", "http://db:5432/x", "user@host",
     "ports: 127.0.0.1:35001:5432/tcp", "passing tests: 12", "", "http://host:8080/path?mail=me@example.org",
     "      - /srv/secrets:/run/secrets:ro", 'EMPTY_PASSWORD: ""'],
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


# --- the defects of the regex that ran across line ends (issue 14, item 5) -------------------------

def test_secrets_list_keeps_its_items():
    text = "    secrets:\n      - source: db-password\n        target: /run/secrets/db-password\n"
    assert Redactor().redact(text) == text


def test_secret_named_key_with_a_block_is_left_alone():
    text = "secrets:\n  db-password:\n    file: ./secrets/db-password.txt\n  api-token:\n    environment: API_TOKEN\n"
    assert Redactor().redact(text) == text


def test_file_variables_and_paths_stay_visible():
    text = ("POSTGRES_PASSWORD_FILE: /run/secrets/db-password\nAPI_TOKEN_FILE=/run/secrets/token\n"
            "SECRETS_DIR: ./secrets\nTOKEN_PATH: '~/.config/token'\n")
    assert Redactor().redact(text) == text


def test_mask_stays_on_its_line():
    text = "DB_PASSWORD: hunter22\nnext: visible\n  - item\n"
    assert Redactor().redact(text) == "DB_PASSWORD: '***'\nnext: visible\n  - item\n"


@pytest.mark.parametrize(
    ("value", "masked"),
    [("hunter22", "'***'"), ("hunter 22 x", "'***'"), ("a,b", "'***'"), ("it's", "'***'"), ('say "hi"', "'***'"),
     ("'x # y'", "'***'"), ('"12345"', '"***"'), ("'*star'", "'***'"), ("hunter22  # a comment", "'***'  # a comment")],
)
def test_masked_yaml_value_keeps_the_quoting_and_stays_yaml(value, masked):
    """Values as `docker compose config` prints them: plain, double- or single-quoted."""
    text = f"environment:\n  DB_PASSWORD: {value}\n  USER: netra\n"
    redacted = Redactor().redact(text)
    assert redacted == f"environment:\n  DB_PASSWORD: {masked}\n  USER: netra\n"
    assert yaml.safe_load(redacted) == {"environment": {"DB_PASSWORD": MASK, "USER": "netra"}}


def test_known_secret_that_begins_a_yaml_value_is_quoted():
    """A mask where a plain value begins would be a YAML alias (`- ***`)."""
    text = "command:\n  - --token\n  - tok-1234\n  - tok-1234 --verbose\nhealth: tok-1234\nurl: http://x/?t=tok-1234\n"
    redacted = Redactor(["tok-1234"]).redact(text)
    assert redacted == ("command:\n  - --token\n  - '***'\n  - '*** --verbose'\nhealth: '***'\n"
                        "url: http://x/?t=***\n")
    assert yaml.safe_load(redacted)["command"] == ["--token", MASK, f"{MASK} --verbose"]


def test_secret_block_scalar_lines_masked_in_place():
    text = "env:\n  PRIVATE_KEY: |\n    -----BEGIN KEY-----\n\n    c2VjcmV0\n  USER: netra\n"
    redacted = Redactor().redact(text)
    assert redacted == "env:\n  PRIVATE_KEY: |\n    ***\n\n    ***\n  USER: netra\n"
    assert yaml.safe_load(redacted)["env"]["USER"] == "netra"


def test_multiline_known_secret_masked_line_by_line():
    key = "-----BEGIN KEY-----\nc2VjcmV0c2VjcmV0\n-----END KEY-----"
    redactor = Redactor([key])
    assert redactor.redact("config:\n  key: |\n    c2VjcmV0c2VjcmV0\n") == "config:\n  key: |\n    ***\n"


def test_key_inside_a_quoted_string_keeps_the_quotes():
    assert Redactor().redact("command: 'echo password: hunter22 here'") == "command: 'echo password: *** here'"
    assert Redactor().redact('command: ["sh", "-c", "run --password=hunter22"]') == \
        'command: ["sh", "-c", "run --password=***"]'


def test_log_lines_keep_their_line_structure():
    logs = "db  | starting\ndb  | password: hunter22\n\ndb  | DB_PASSWORD=hunter22 ready\n"
    redacted = Redactor().redact(logs)
    assert redacted.splitlines() == ["db  | starting", "db  | password: '***'", "", "db  | DB_PASSWORD=*** ready"]


def test_redacting_twice_changes_nothing_more():
    text = "A_PASSWORD: hunter22\nB_TOKEN: \"x\"\n- tok-1234\nurl: redis://:pw12@h\n"
    once = Redactor(["tok-1234"]).redact(text)
    assert Redactor(["tok-1234"]).redact(once) == once


def test_value_inside_a_string_is_one_word_and_references_stay():
    """In a command line the value ends at a space, and `$DB_PASSWORD` names a secret, is none."""
    text = ("""      - 'echo "password: $$DB_PASSWORD"; echo "API_TOKEN=${API_TOKEN}"; echo "secret: $$(cat $$F)";"""
            """ login --password=hunter22 x'""")
    assert Redactor().redact(text) == text.replace("hunter22", MASK)
    assert Redactor().redact("password: $ecret") == "password: '***'"
