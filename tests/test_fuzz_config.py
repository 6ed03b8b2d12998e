"""Bad configuration and mappings files, generated, fed to the real command line.

Whatever an admin writes (wrong types, unknown keys, junk, unicode, huge strings, broken YAML,
binary files), `tc-sync check` and `tc-sync status` answer with exit code 2 and one line per
problem, ``file:line:col: field.path: message`` (or ``file: message`` for the whole file):
never a traceback, never exit code 1 from an unexpected exception. Every generated file holds
at least one certain mistake, so a file that loaded would fail these tests too.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tc_sync.cli import EXIT_CONFIG, main
from tc_sync.config import ConfigError, load_settings
from tc_sync.config.mappings import MappingsError
from tc_sync.config.mappings_file import default_mappings_file, load_mappings

pytestmark = pytest.mark.reliability(
    "bad input: fuzzed configuration and mappings",
    figure="tests; 150 hypothesis files per property through the real CLI: exit 2, "
           "file:line:col, never a traceback")

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture
def place(tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder for the generated files; the only secret known is od_password; cwd is the
    folder, so a configuration that wrongly loaded could not write anywhere else."""
    folder = tmp_path_factory.mktemp("fuzz")
    for name in [n for n in os.environ if n.startswith("TC_SYNC_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("TC_SYNC_SECRET_OD_PASSWORD", "synthetic")
    monkeypatch.chdir(folder)
    yield folder


def base_config(folder: Path) -> dict[str, Any]:
    """A configuration that loads (checked by a test below)."""
    return {
        "site_id": "fuzz-site",
        "timezone": "America/Chicago",
        "ledger": {"url": f"sqlite:///{folder / 'ledger.db'}"},
        "sync": {"batch_size": 500, "window_keys": 50_000},
        "health": {"amber_after_minutes": 30, "red_after_minutes": 240},
        "sources": {"main": {
            "kind": "opendental",
            "connection": {"host": "127.0.0.1", "port": 1, "user": "tc_sync_ro",
                           "password": "secret:od_password", "connect_timeout": 1},
            "schedule": {"interval_seconds": 300, "full_sweep_at": "02:00",
                         "quiet_windows": ["01:00-03:00"]},
        }},
    }


LINE = r"(?P<line>\d+):(?P<col>\d+): (?P<field>.+?): (?P<message>.+)"


def assert_reported(argv_tail: list[str], config: Path, files: list[Path],
                    capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Run the CLI; exit code 2 and every problem line well formed. Returns the lines."""
    capsys.readouterr()
    code = main(["--config", str(config), *argv_tail])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == EXIT_CONFIG, err
    header, *problems = err.split("\n")
    assert header in ("tc-sync: configuration problem:", "tc-sync: mappings problem:"), err
    assert problems[-1] == "", err
    problems = problems[:-1]
    assert problems, err
    for problem in problems:
        assert problem.startswith("  "), problem
        text = problem[2:]
        named = [f for f in files if text.startswith(f"{f}:") or text.startswith(f"{f}: ")]
        assert named, f"names no file: {problem!r}"
        rest = text[len(str(named[0])):]
        located = re.fullmatch(":" + LINE, rest) or re.fullmatch(
            r":(?P<line>\d+):(?P<col>\d+): (?P<message>[^\d\s].*)", rest)
        if located:
            lines = named[0].read_bytes().count(b"\n") + 2
            assert 1 <= int(located["line"]) <= lines, problem
        else:   # the whole file: `file: message`, the message not starting with a number
            assert re.fullmatch(r": [^\d\s].*", rest), problem
        assert "\r" not in text and "\x00" not in text
    return problems


# ---- values that can never be right where they are put ------------------------------------

junk_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=40), st.text(alphabet="é€😀\u200b\u2028\t\n", max_size=20),
    st.integers(1000, 20_000).map(lambda n: "ü" * n))
junk = st.recursive(junk_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
never_a_number = st.one_of(
    st.lists(junk, max_size=3), st.dictionaries(st.text(max_size=5), junk, min_size=1,
                                                max_size=3),
    st.text(max_size=30).map(lambda t: "x" + t))
never_text = st.one_of(st.lists(junk, max_size=3),
                       st.dictionaries(st.text(max_size=5), junk, min_size=1, max_size=3))
never_a_section = st.one_of(st.lists(junk, max_size=3), st.integers(), st.text(max_size=30),
                            st.booleans())

INT_FIELDS = [("sources", "main", "connection", "port"),
              ("sources", "main", "connection", "connect_timeout"),
              ("sources", "main", "connection", "retries"),
              ("sources", "main", "schedule", "interval_seconds"),
              ("sync", "batch_size"), ("sync", "window_keys"), ("sync", "safety_lag_seconds"),
              ("health", "amber_after_minutes")]
TEXT_FIELDS = [("site_id",), ("timezone",), ("ledger", "url"), ("sources", "main", "kind"),
               ("sources", "main", "connection", "host"),
               ("sources", "main", "schedule", "full_sweep_at")]
SECTIONS = [(), ("ledger",), ("sync",), ("health",), ("queues",), ("push",), ("reports",),
            ("logging",), ("http",), ("sentry",), ("sources", "main"),
            ("sources", "main", "connection"), ("sources", "main", "schedule")]


def put(path: tuple[str, ...], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        parent: Any = data
        for part in path[:-1]:
            parent = parent.setdefault(part, {}) if isinstance(parent, dict) else None
        if isinstance(parent, dict):   # a section an earlier mistake replaced stays replaced
            parent[path[-1]] = value
    return mutate


def _secret_name_unknown(name: str) -> bool:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper() != "OD_PASSWORD"


certain_mistake: st.SearchStrategy[Mutation] = st.one_of(
    # unknown keys, at every level
    st.builds(lambda section, key, value: put((*section, "zz_" + key), value),
              st.sampled_from(SECTIONS), st.text(max_size=20), junk),
    # wrong types
    st.builds(put, st.sampled_from(INT_FIELDS), never_a_number),
    st.builds(put, st.sampled_from(TEXT_FIELDS), never_text),
    # nested junk instead of a section
    st.builds(put, st.sampled_from([s for s in SECTIONS if s]), never_a_section),
    # negative and enormous numbers
    st.builds(put, st.sampled_from(INT_FIELDS),
              st.one_of(st.integers(max_value=-1), st.integers(min_value=10**8))),
    # bad time zones
    st.builds(put, st.just(("timezone",)), st.one_of(
        st.sampled_from(["", "America", "America/", "../etc/passwd", "Mars/Olympus_Mons",
                         "a" * 400, "UTC\n", "Europe/Lond0n"]),
        st.text(max_size=30).map(lambda t: "Nowhere/" + t))),
    # bad quiet windows
    st.builds(put, st.just(("sources", "main", "schedule", "quiet_windows")), st.one_of(
        st.lists(st.sampled_from(["25:00-26:00", "1:00-3:00", "01:00", "01:00-03:00 ",
                                  "01:60-02:00", ""]) | st.text(max_size=15).map(
            lambda t: "x" + t), min_size=1, max_size=3).map(lambda w: ["01:00-03:00", *w]),
        never_a_section.filter(lambda v: not isinstance(v, list)))),
    # missing secrets
    st.builds(put, st.sampled_from([("sources", "main", "connection", "password"),
                                    ("sentry", "dsn")]),
              st.from_regex(r"[A-Za-z0-9_.-]{1,40}", fullmatch=True).filter(
                  _secret_name_unknown).map(lambda name: f"secret:{name}")),
    # source ids that are not plain names
    st.builds(lambda sid: put(("sources", sid), {"kind": "opendental"}),
              st.text(min_size=1, max_size=20).map(lambda t: "X " + t)),
)
any_change: st.SearchStrategy[Mutation] = st.builds(
    put, st.sampled_from(INT_FIELDS + TEXT_FIELDS), junk)


@pytest.mark.parametrize("command", ["check", "status"])
def test_the_base_configuration_loads_so_each_mistake_is_what_is_reported(place, command):
    path = place / "tc-sync.yaml"
    path.write_text(yaml.safe_dump(base_config(place)), encoding="utf-8")
    settings_ = load_settings(path)
    assert settings_.sources["main"].connection.port == 1
    # without a mistake the command gets past the configuration (exit 1: nothing answers)
    assert main(["--config", str(path), command]) == 1


@FUZZ
@given(noise=st.lists(any_change, max_size=3),
       mistakes=st.lists(certain_mistake, min_size=1, max_size=3),
       command=st.sampled_from(["check", "status"]))
def test_a_configuration_with_mistakes_is_reported_line_by_line(place, capsys, noise, mistakes,
                                                                command):
    data = base_config(place)
    for change in [*noise, *mistakes]:
        change(data)
    path = place / "tc-sync.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert_reported([command], path, [path], capsys)


# ---- text that is not YAML, or not text ---------------------------------------------------

GOOD_TEXT = "site_id: fuzz-site\nsources:\n  main:\n    kind: opendental\n"


def _with_byte(data: bytes, where: int, byte: int) -> bytes:
    where %= len(data) + 1
    return data[:where] + bytes([byte]) + data[where:]


broken_text = st.one_of(
    # a tab indenting a block
    st.integers(0, 3).map(lambda n: GOOD_TEXT.replace("  main:", "\t" * (n + 1) + "main:")),
    # unclosed brackets, braces and quotes
    st.builds(lambda opener, tail: f"sources: {opener}{tail}\n",
              st.sampled_from(["[", "{", "[main, {", "'", '"', "{main: [1, 2"]),
              st.text(alphabet="abc: ,\n", max_size=20)),
    st.builds(lambda text, cut: text[:cut] + "\n  - [1, 2\n",
              st.just(GOOD_TEXT), st.integers(0, len(GOOD_TEXT))),
    # a scalar or a list instead of a mapping
    st.sampled_from(["just text\n", "- a\n- b\n", "42\n", "~\n", "[]\n", "''\n"]),
    # empty, blank, comments only
    st.sampled_from(["", "\n\n", "   \n", "# only a comment\n", "---\n", "---\n...\n"]),
    # duplicate keys
    st.just(GOOD_TEXT + "site_id: again\n"),
)
broken_bytes = st.one_of(
    broken_text.map(lambda t: t.encode("utf-8")),
    # a BOM in front of broken text
    broken_text.map(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8")),
    # binary bytes: never UTF-8 (a lone 0xff), or control characters YAML refuses
    st.builds(_with_byte, st.binary(max_size=200), st.integers(), st.sampled_from([0xFF, 0xC3])),
    st.builds(_with_byte, st.just(GOOD_TEXT.encode()), st.integers(),
              st.sampled_from([0x00, 0x07, 0x1B])),
    # deep nesting and self-referring aliases
    st.integers(10, 1500).map(lambda n: ("a: " + "[" * n + "]" * n + "\n").encode()),
    st.sampled_from([b"a: &x [*x]\n", b"a: &x {b: *x}\n", b"a: *nothing\n",
                     b"? [a, b]\n: 1\n", b"base: &b {x: 1}\nsync:\n  <<: *b\n",
                     b"site_id: 2026-13-45\n", b"site_id: !!int abc\n", b"site_id: !foo x\n",
                     b"site_id: !!python/object/apply:os.system [ls]\n", b"1: a\n",
                     b"null: a\n"]),
)


@FUZZ
@given(content=broken_bytes, command=st.sampled_from(["check", "status"]))
def test_a_file_that_is_not_a_yaml_mapping_is_reported_line_by_line(place, capsys, content,
                                                                     command):
    path = place / "tc-sync.yaml"
    path.write_bytes(content)
    assert_reported([command], path, [path], capsys)


def test_examples_found_by_fuzzing(place, capsys):
    """Each was a traceback or an unclear message before the fix in yamlfile.py/config.py."""
    path = place / "tc-sync.yaml"
    expected = {
        b"site_id: \xff\xfe\n": ":1:10: not UTF-8 text",
        b"site_id: a\x00b\n": ":1:11: not valid YAML: character #x0000 is not allowed",
        b"site_id: 2026-13-45\n": ":1:10: site_id: 'timestamp' value that cannot be read",
        b"site_id: !foo bar\n": ":1:10: site_id: could not determine a constructor",
        b"? [a, b]\n: 1\n": ":1:3: (top level): a key must be a plain name",
        b"a: &x [*x]\n": ":1:4: a[0]: an alias (*name) refers to a value that contains it",
        b"base: &b {x: 1}\nsync:\n  <<: *b\n": ":3:3: sync: merge keys (<<) are not supported",
        b"1: a\n": ":1:1: 1: unknown key",
        b"timezone: America\n": ":1:11: timezone: Value error, unknown time zone 'America'",
        ("timezone: " + "a" * 400 + "\n").encode(): ":1:11: timezone: Value error, unknown",
        b'timezone: "Amer\\nica"\n': ":1:11: timezone: Value error, unknown time zone "
                                     "'Amer\\nica'",
        b"sources:\n  m:\n    kind: dentrix\n    connection:\n      driver: odbc\n"
        b"      odbc:\n        dsn: X\n        session: 5\n":
            ":8:18: sources.m.connection.odbc.session: Input should be a valid list",
        b"# nothing here\n": ": the file is empty",
        b"site_id: a\nsite_id: b\n": ":2:1: site_id: appears twice",
    }
    for content, message in expected.items():
        path.write_bytes(content)
        [problem] = assert_reported(["check"], path, [path], capsys)
        assert problem.startswith(f"  {path}{message}"), (content, problem)
    # a secret whose file cannot be read is a problem, not a traceback (nor its content)
    (place / "secrets").mkdir()
    path.write_text(f"secrets_dir: {place / 'secrets'}\nsources:\n  main:\n    kind: "
                    f"opendental\n    connection:\n      password: secret:{'p' * 300}\n")
    [problem] = assert_reported(["status"], path, [path], capsys)
    assert f"{path}:6:17: sources.main.connection.password: cannot read secret" in problem
    (place / "secrets" / "binary").write_bytes(b"\xff\xfeS3CRET")
    path.write_text(path.read_text().replace("p" * 300, "binary"))
    [problem] = assert_reported(["status"], path, [path], capsys)
    assert "(not UTF-8 text)" in problem and "S3CRET" not in problem
    # a BOM in front of a good file changes nothing, line numbers included
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_TEXT.encode() + b"    port: none\n")
    [problem] = assert_reported(["check"], path, [path], capsys)
    assert problem.startswith(f"  {path}:5:5: sources.main.port: unknown key")


def test_the_checker_itself_can_fail(place, capsys):
    """A file that loads is not reported: the assertions above can fail."""
    path = place / "tc-sync.yaml"
    path.write_text(yaml.safe_dump(base_config(place)), encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_reported(["status"], path, [path], capsys)
    with pytest.raises(ConfigError):
        load_settings(Path(__file__).with_suffix(".missing"))


# ---- the site's mappings file ---------------------------------------------------------------

def base_mappings() -> dict[str, Any]:
    """A site file that loads (checked below): a few overrides of the defaults."""
    return {
        "cadence": {"after_days": [2, 7, 30], "then_every_days": 30,
                    "escalate_after_attempts": 3},
        "coordination": {"categories": ["restorative"], "exclude_codes": ["D2140"]},
        "categories": {"restorative": ["D2000-D2999"]},
        "kinds": {"claim_outstanding": {"queue": "insurance", "after_days": 30},
                  "unscheduled_treatment": {"queue": "treatment", "min_age_days": 0}},
        "priority": {"per_100_dollars": 1.5},
        "routing": [{"kinds": ["claim_denied"], "queue": "insurance", "owners": ["dana"]}],
        "tasks": {"kinds": [], "lists": []},
    }


MAPPING_SECTIONS = [(), ("cadence",), ("coordination",), ("kinds",),
                    ("kinds", "claim_outstanding"), ("kinds", "unscheduled_treatment"),
                    ("priority",), ("tasks",)]

mappings_mistake: st.SearchStrategy[Mutation] = st.one_of(
    st.builds(lambda section, key, value: put((*section, "zz_" + key), value),
              st.sampled_from(MAPPING_SECTIONS), st.text(max_size=20), junk),
    st.builds(put, st.sampled_from([("cadence", "then_every_days"),
                                    ("cadence", "escalate_after_attempts"),
                                    ("kinds", "claim_outstanding", "after_days"),
                                    ("kinds", "unscheduled_treatment", "min_age_days"),
                                    ("priority", "per_100_dollars")]), never_a_number),
    st.builds(put, st.sampled_from([("cadence", "then_every_days"),
                                    ("cadence", "escalate_after_attempts"),
                                    ("kinds", "claim_denied", "within_days"),
                                    ("kinds", "unscheduled_treatment", "min_age_days")]),
              st.integers(max_value=-1)),
    st.builds(put, st.just(("cadence", "after_days")), st.one_of(
        never_a_section.filter(lambda v: not isinstance(v, list)),
        st.lists(st.integers(-5, 100), min_size=2, max_size=5).filter(
            lambda days: days != sorted(days) or min(days) < 0),
        st.just([]))),
    st.builds(put, st.sampled_from([("kinds", "claim_outstanding", "queue"),
                                    ("kinds", "claim_outstanding", "semantics")]), never_text),
    st.builds(put, st.just(("kinds", "unscheduled_treatment", "semantics")),
              st.text(max_size=10).map(lambda t: "x" + t)),
    st.builds(put, st.just(("version",)), st.one_of(
        st.integers().filter(lambda n: n != 1), st.text(max_size=5).map(lambda t: "v" + t))),
    st.builds(lambda name, ranges: put(("categories", name), ranges),
              st.text(min_size=1, max_size=10), st.one_of(
                  st.lists(st.text(max_size=12).map(lambda t: "x" + t), min_size=1,
                           max_size=3),
                  st.just(["D2999-D2000"]), never_a_section.filter(
                      lambda v: not isinstance(v, list)))),
    st.builds(put, st.just(("tasks", "kinds")),
              st.lists(st.text(max_size=12).map(lambda t: "zz_" + t), min_size=1, max_size=2)),
    st.builds(put, st.just(("routing",)), st.one_of(
        st.just([{"kinds": ["claim_denied"]}]),
        st.lists(never_a_section, min_size=1, max_size=2),
        st.dictionaries(st.text(max_size=5), junk, min_size=1, max_size=2))),
    st.builds(put, st.sampled_from([s for s in MAPPING_SECTIONS if s]), never_a_section),
)


def _config_with_mappings(place: Path, mappings: Path) -> Path:
    config = place / "tc-sync.yaml"
    data = base_config(place)
    data["sources"] = {}
    data["mappings_file"] = str(mappings)
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_the_base_mappings_load_so_each_mistake_is_what_is_reported(place, capsys):
    site = place / "mappings.yaml"
    site.write_text(yaml.safe_dump(base_mappings()), encoding="utf-8")
    assert load_mappings(site).cadence.escalate_after_attempts == 3
    capsys.readouterr()
    # a valid file gets past the mappings (exit 1: no sources to check)
    assert main(["--config", str(_config_with_mappings(place, site)), "check"]) == 1
    assert "mappings: ok" in capsys.readouterr().out


@FUZZ
@given(mistakes=st.lists(mappings_mistake, min_size=1, max_size=3))
def test_a_mappings_file_with_mistakes_is_reported_line_by_line(place, capsys, mistakes):
    data = copy.deepcopy(base_mappings())
    for change in mistakes:
        change(data)
    site = place / "mappings.yaml"
    site.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = _config_with_mappings(place, site)
    problems = assert_reported(["check"], config, [site, default_mappings_file()], capsys)
    with pytest.raises(MappingsError) as caught:
        load_mappings(site)
    assert [f"  {p}" for p in caught.value.problems] == problems


@FUZZ
@given(content=broken_bytes.filter(lambda b: b.strip(b"\xef\xbb\xbf \n-.") not in (
    b"", b"# only a comment")))
def test_a_mappings_file_that_is_not_yaml_is_reported_line_by_line(place, capsys, content):
    site = place / "mappings.yaml"
    site.write_bytes(content)
    config = _config_with_mappings(place, site)
    assert_reported(["check"], config, [site, default_mappings_file()], capsys)
