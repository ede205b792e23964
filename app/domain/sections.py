"""The monograph's sections and the typed attributes of the facts in each.

A fact is stored generically (id, label, note, attributes, evidence); what its ``attributes`` may
hold depends on its section and is declared here once. The seed loader validates every fact
against these models and the API builds its typed response models from them, so the dataset, the
database and the documented contract cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(StrEnum):
    """A part of the monograph; its value is the path segment under /v1/drugs/{drug}/."""

    indications = "indications"
    routes = "routes"
    adverse_effects = "adverse-effects"
    withdrawal_symptoms = "withdrawal-symptoms"
    overdose = "overdose"
    pharmacology = "pharmacology"
    names = "names"
    pharmacokinetics = "pharmacokinetics"
    chemistry = "chemistry"
    interactions = "interactions"
    history = "history"
    research = "research"
    society = "society"
    overview = "overview"


class CodeSystem(StrEnum):
    HPO = "HPO"
    MeSH = "MeSH"
    NCIt = "NCIt"
    UniProt = "UniProt"
    HGNC = "HGNC"
    NCBIGene = "NCBIGene"


CODE_URLS: dict[CodeSystem, str] = {
    CodeSystem.HPO: "https://hpo.jax.org/browse/term/{code}",
    CodeSystem.MeSH: "https://meshb.nlm.nih.gov/record/ui?ui={code}",
    CodeSystem.NCIt: "https://ncit.nci.nih.gov/ncitbrowser/ConceptReport.jsp?dictionary=NCI_Thesaurus&code={code}",
    CodeSystem.UniProt: "https://www.uniprot.org/uniprotkb/{code}/entry",
    CodeSystem.HGNC: "https://www.genenames.org/data/gene-symbol-report/#!/hgnc_id/{code}",
    CodeSystem.NCBIGene: "https://www.ncbi.nlm.nih.gov/gene/{code}",
}


class CodeMatch(StrEnum):
    """How the code's concept relates to the fact's term (as SKOS mapping relations do)."""

    exact = "exact"  # the code's concept is the term
    broader = "broader"  # the code's concept is wider (mania under MeSH "Bipolar Disorder")


class Code(Strict):
    """A code in an external terminology (only codes verified in the project's reference sheet)."""

    system: CodeSystem
    code: str = Field(min_length=1, examples=["HP:0000738"])
    match: CodeMatch = Field(
        default=CodeMatch.exact, description="Whether the code names the term or a wider concept."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        """The code's record in its terminology's browser."""
        return CODE_URLS[self.system].format(code=self.code)


class Route(StrEnum):
    oral = "oral"
    intrathecal = "intrathecal"
    transdermal = "transdermal"


class Quantity(Strict):
    """A number with its unit and comparator, e.g. Ki = 6 μM or a range 1.5-4 h."""

    measure: str = Field(examples=["Ki"])
    comparator: Literal["=", "<", ">", "~", "range"] = "="
    value: float | None = Field(default=None, examples=[6])
    low: float | None = None
    high: float | None = None
    unit: str = Field(examples=["μM"])
    subject: str | None = Field(
        default=None, description="What was measured, when not the drug itself."
    )


# ----- per-section attributes ---------------------------------------------------------------


class IndicationStatus(StrEnum):
    primary = "primary"  # the approved, main use
    secondary = "secondary"  # other documented uses
    off_label = "off_label"
    intrathecal = "intrathecal"  # uses specific to intrathecal delivery
    investigational = "investigational"  # studied, not established
    not_recommended = "not_recommended"


class IndicationAttributes(Strict):
    condition: str
    status: IndicationStatus
    route: Route | None = None
    codes: list[Code] = []


class RouteAspect(StrEnum):
    overview = "overview"
    rationale = "rationale"
    formulation = "formulation"
    test_dose = "test_dose"
    catheter = "catheter"
    pump = "pump"
    refill = "refill"
    replacement = "replacement"
    indication = "indication"


class RouteAttributes(Strict):
    route: Route
    aspect: RouteAspect
    codes: list[Code] = []


class Frequency(StrEnum):
    common = "common"
    common_or_very_common = "common_or_very_common"


class Seriousness(StrEnum):
    serious = "serious"
    non_serious = "non_serious"


class EffectContext(StrEnum):
    treatment = "treatment"
    abrupt_discontinuation = "abrupt_discontinuation"
    combination = "combination"
    pregnancy = "pregnancy"
    breastfeeding = "breastfeeding"
    abuse_potential = "abuse_potential"


class AdverseEffectAttributes(Strict):
    term: str
    frequency: Frequency | None = None
    seriousness: Seriousness | None = None
    context: EffectContext
    absent: bool | None = Field(
        default=False,
        description="True where the source says the effect does not occur "
        "(e.g. no addictive properties at standard dosing); null where the source cannot tell "
        "whether it does (the fact's `ambiguity` gives both readings).",
    )
    agents: list[str] = Field(
        default=[], description="Co-administered agents, for combination risks."
    )
    codes: list[Code] = []


class WithdrawalTopic(StrEnum):
    symptom = "symptom"
    resemblance = "resemblance"
    risk_factor = "risk_factor"
    timing = "timing"
    severity = "severity"
    tapering = "tapering"
    reinstatement = "reinstatement"


class WithdrawalAttributes(Strict):
    topic: WithdrawalTopic
    term: str | None = None
    codes: list[Code] = []


class OverdoseAttributes(Strict):
    topic: Literal["sign", "management", "course"]
    term: str | None = None
    codes: list[Code] = []


class TargetAction(StrEnum):
    agonist = "agonist"
    blocker = "blocker"
    no_significant_affinity = "no_significant_affinity"


class PharmacologyAttributes(Strict):
    topic: Literal["target", "mechanism", "related_compound", "effect"]
    target: str | None = None
    action: TargetAction | None = None
    genes: list[str] = Field(
        default=[], description="HGNC gene symbols of the target's subunits.", examples=[["GABBR1"]]
    )
    compound: str | None = None
    relation: str | None = None
    affinities: list[Quantity] = []
    codes: list[Code] = []


class NameKind(StrEnum):
    nonproprietary = "nonproprietary"
    brand = "brand"
    synonym = "synonym"


class NameAttributes(Strict):
    name: str
    name_kind: NameKind


class PharmacokineticsAttributes(Strict):
    parameter: Literal[
        "absorption",
        "distribution",
        "metabolism",
        "excretion",
        "half_life",
        "protein_binding",
        "dosing_frequency",
    ]
    quantities: list[Quantity] = []


class ChemistryAttributes(Strict):
    property: Literal[
        "classification",
        "appearance",
        "odor",
        "form",
        "molar_mass",
        "formula",
        "solubility",
        "stereochemistry",
    ]
    solvent: str | None = None
    value: str | None = None
    quantities: list[Quantity] = []


class InteractionAttributes(Strict):
    agents: list[str]
    effect: str


class HistoryAttributes(Strict):
    year: int | None = Field(default=None, description="Restored from an external citation.")
    actors: list[str] = []


class ResearchOutcome(StrEnum):
    studied = "studied"  # the source says it was studied, no outcome
    no_effect = "no_effect"
    inconclusive = "inconclusive"
    positive = "positive"


class ResearchAttributes(Strict):
    topic: str
    outcome: ResearchOutcome


class SocietyAttributes(Strict):
    topic: Literal["prescriptions", "generic", "availability", "regulation", "misuse", "poisoning"]
    quantities: list[Quantity] = []


class OverviewAttributes(Strict):
    topic: str


SECTION_ATTRIBUTES: dict[Section, type[Strict]] = {
    Section.indications: IndicationAttributes,
    Section.routes: RouteAttributes,
    Section.adverse_effects: AdverseEffectAttributes,
    Section.withdrawal_symptoms: WithdrawalAttributes,
    Section.overdose: OverdoseAttributes,
    Section.pharmacology: PharmacologyAttributes,
    Section.names: NameAttributes,
    Section.pharmacokinetics: PharmacokineticsAttributes,
    Section.chemistry: ChemistryAttributes,
    Section.interactions: InteractionAttributes,
    Section.history: HistoryAttributes,
    Section.research: ResearchAttributes,
    Section.society: SocietyAttributes,
    Section.overview: OverviewAttributes,
}
