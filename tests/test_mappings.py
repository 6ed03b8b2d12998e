"""The coordination rules' YAML: defaults, a site's overrides, and precise errors."""

from pathlib import Path

import pytest

from tc_sync.config.mappings import MappingsError
from tc_sync.config.mappings_file import MappingsKeeper, load_mappings


def site(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mappings.yaml"
    path.write_text(text)
    return path


def test_the_shipped_defaults_follow_treatment_not_recall():
    rules = load_mappings()
    assert rules.category_of("D2740") == "restorative"
    assert rules.category_of("D6010") == "implants"
    assert rules.coordinates("D2740") and rules.coordinates("D7140")
    assert not rules.coordinates("D1110") and not rules.coordinates("D0150")
    assert not rules.coordinates("D4910")          # periodontal maintenance is recall


def test_a_site_file_overrides_only_what_it_sets(tmp_path):
    rules = load_mappings(site(tmp_path, """\
coordination:
  include_codes: [D1351]
kinds:
  claim_outstanding:
    after_days: 45
"""))
    assert rules.kinds.claim_outstanding.after_days == 45
    assert rules.kinds.claim_outstanding.queue == "insurance"       # kept from the defaults
    assert rules.coordinates("D1351")                               # sealants, by choice
    assert rules.coordinates("D2740")


def test_mistakes_in_a_site_file_name_its_line_column_and_key(tmp_path):
    path = site(tmp_path, """\
kinds:
  claim_outstanding:
    after_days: soon
  unscheduled_treatment:
    semantic: procedure
categories:
  restorative: [D2999-D2000]
""")
    with pytest.raises(MappingsError) as caught:
        load_mappings(path)
    problems = caught.value.problems
    assert f"{path}:3:17: kinds.claim_outstanding.after_days: Input should be a valid integer" \
        in "\n".join(problems)
    assert any(p.startswith(f"{path}:5:5: kinds.unscheduled_treatment.semantic: unknown key")
               for p in problems)
    assert any(f"{path}:7:3: categories" in p and "D2999-D2000" in p for p in problems)


def test_a_broken_change_keeps_the_last_good_rules_running_and_says_why(tmp_path):
    path = site(tmp_path, "kinds:\n  claim_outstanding:\n    after_days: 45\n")
    keeper = MappingsKeeper(path)
    assert keeper.current.kinds.claim_outstanding.after_days == 45
    path.write_text("kinds:\n  claim_outstanding:\n    after_days: [\n")
    rules = keeper.reload()
    assert rules.kinds.claim_outstanding.after_days == 45
    assert keeper.last_problem is not None and "not valid YAML" in keeper.last_problem
    path.write_text("kinds:\n  claim_outstanding:\n    after_days: 60\n")
    assert keeper.reload().kinds.claim_outstanding.after_days == 60
    assert keeper.last_problem is None


def test_tasks_without_a_creator_user_are_refused_naming_the_list_entry(tmp_path):
    path = site(tmp_path, """\
tasks:
  kinds: [claim_outstanding]
  lists:
    - kinds: [claim_outstanding]
      task_list: 14
      creator_user: 3
    - task_list: 12
""")
    with pytest.raises(MappingsError) as refused:
        load_mappings(path)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{path}:7:7: tasks.lists[1]: no creator_user")


def test_one_creator_user_under_tasks_serves_every_list_without_its_own(tmp_path):
    rules = load_mappings(site(tmp_path, """\
tasks:
  kinds: [claim_outstanding, unscheduled_treatment]
  creator_user: 5
  lists:
    - kinds: [claim_outstanding]
      task_list: 14
      creator_user: 3
    - task_list: 12
"""))
    claims, everything = rules.tasks.lists
    assert rules.tasks.creator_for(claims) == 3 and rules.tasks.creator_for(everything) == 5
