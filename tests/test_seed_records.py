"""The seed's records: the loader refuses a grouping its facts do not support, naming the record."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.seed.models import SeedError
from app.seed.reader import read_dataset

RECORDS = "drugs/baclofen/records"


@pytest.fixture
def seed_copy(seed_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "seed"
    shutil.copytree(seed_dir, copy)
    return copy


def edit(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def record(records: list[dict[str, Any]], record_id: str) -> dict[str, Any]:
    return next(r for r in records if r["id"] == record_id)


def problems(seed: Path) -> list[str]:
    with pytest.raises(SeedError) as refused:
        read_dataset(seed)
    return [str(problem) for problem in refused.value.problems]


def test_the_real_seed_groups_every_fact_of_the_grouped_sections(seed_dir: Path) -> None:
    dataset = read_dataset(seed_dir)
    [drug] = dataset.drugs
    for section, facts in drug.facts.items():
        gathered = [fact_id for record in drug.records[section] for fact_id in record.facts]
        assert sorted(gathered) == sorted(fact.id for fact in facts), section


def test_a_fact_no_record_gathers_is_refused(seed_copy: Path) -> None:
    def drop(records: list[dict[str, Any]]) -> None:
        dizziness = record(records, "adverse-effects-dizziness")
        dizziness["facts"].remove("adverse-effects-common-dizziness")

    edit(seed_copy / RECORDS / "adverse-effects.yaml", drop)
    assert problems(seed_copy) == [
        # Without the lead's statement the record's frequency is no longer supported...
        f"{RECORDS}/adverse-effects.yaml id=adverse-effects-dizziness: "
        "frequency 'common' is not its facts' best, None",
        # ... and that statement is left without a record.
        f"{RECORDS}/adverse-effects.yaml: fact 'adverse-effects-common-dizziness' belongs to no "
        "record: add it to the record of the thing it states",
    ]


def test_a_fact_two_records_gather_is_refused(seed_copy: Path) -> None:
    def twice(records: list[dict[str, Any]]) -> None:
        record(records, "adverse-effects-weakness")["facts"].append("adverse-effects-dizziness")

    edit(seed_copy / RECORDS / "adverse-effects.yaml", twice)
    assert problems(seed_copy) == [
        f"{RECORDS}/adverse-effects.yaml id=adverse-effects-dizziness: gathers "
        "'adverse-effects-dizziness', which record 'adverse-effects-weakness' gathers too: "
        "a fact belongs to one record"
    ]


@pytest.mark.parametrize(
    ("record_id", "field", "value", "reason"),
    [
        (
            "indications-cerebral-palsy",
            "status",
            "secondary",
            "status 'secondary' is not its facts' strongest, 'primary'",
        ),
        (
            "indications-cerebral-palsy",
            "routes",
            ["oral"],
            "routes ['oral'] differ from its facts' ['intrathecal', 'oral']",
        ),
    ],
)
def test_an_indication_whose_qualifiers_its_facts_do_not_support_is_refused(
    seed_copy: Path, record_id: str, field: str, value: Any, reason: str
) -> None:
    def change(records: list[dict[str, Any]]) -> None:
        record(records, record_id)["attributes"][field] = value

    edit(seed_copy / RECORDS / "indications.yaml", change)
    assert problems(seed_copy) == [f"{RECORDS}/indications.yaml id={record_id}: {reason}"]


def test_an_effect_that_claims_absence_or_another_context_is_refused(seed_copy: Path) -> None:
    def change(records: list[dict[str, Any]]) -> None:
        euphoria = record(records, "adverse-effects-euphoria")["attributes"]
        euphoria["absent"] = True
        euphoria["contexts"] = ["treatment", "abrupt_discontinuation"]

    edit(seed_copy / RECORDS / "adverse-effects.yaml", change)
    where = f"{RECORDS}/adverse-effects.yaml id=adverse-effects-euphoria"
    assert problems(seed_copy) == [
        f"{where}: contexts ['treatment', 'abrupt_discontinuation'] differ from its facts' "
        "['treatment']",
        f"{where}: absent must be true exactly when every fact denies the effect",
    ]


def test_a_record_with_codes_its_facts_lack_is_refused(seed_copy: Path) -> None:
    def change(records: list[dict[str, Any]]) -> None:
        record(records, "withdrawal-symptoms-tremors")["attributes"]["codes"].append(
            {"system": "HPO", "code": "HP:0001250"}
        )

    edit(seed_copy / RECORDS / "withdrawal-symptoms.yaml", change)
    [problem] = problems(seed_copy)
    assert problem.startswith(f"{RECORDS}/withdrawal-symptoms.yaml id=withdrawal-symptoms-tremors")
    assert "a record carries exactly the codes of its facts" in problem


def test_a_record_gathering_another_sections_fact_is_refused(seed_copy: Path) -> None:
    def change(records: list[dict[str, Any]]) -> None:
        record(records, "adverse-effects-seizures")["facts"].append("overdose-seizures")

    edit(seed_copy / RECORDS / "adverse-effects.yaml", change)
    assert problems(seed_copy) == [
        f"{RECORDS}/adverse-effects.yaml id=adverse-effects-seizures: gathers "
        "'overdose-seizures', a fact of 'overdose', not of 'adverse-effects'"
    ]


def test_records_for_a_section_that_does_not_group_are_refused(seed_copy: Path) -> None:
    (seed_copy / RECORDS / "overdose.yaml").write_text("[]\n", encoding="utf-8")
    [problem] = problems(seed_copy)
    assert problem.startswith(f"{RECORDS}/overdose.yaml: section 'overdose' does not group")


def test_a_former_id_that_names_a_current_fact_is_refused(seed_copy: Path) -> None:
    def change(facts: list[dict[str, Any]]) -> None:
        facts[0]["former_ids"] = ["adverse-effects-nausea"]

    edit(seed_copy / "drugs/baclofen/specific-populations.yaml", change)
    [problem] = problems(seed_copy)
    assert "former id 'adverse-effects-nausea' is the id of a current fact or record" in problem
