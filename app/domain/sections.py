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
    specific_populations = "specific-populations"
    abuse_and_dependence = "abuse-and-dependence"
    withdrawal_symptoms = "withdrawal-symptoms"
    withdrawal_syndrome = "withdrawal-syndrome"
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


class Code(Strict):
    """A code in an external terminology (only codes verified in the project's reference sheet)."""

    system: CodeSystem
    code: str = Field(min_length=1, examples=["HP:0000738"])

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
    """A number with its unit and comparator, e.g. Ki = 6 µM or a range 1.5-4 h."""

    measure: str = Field(examples=["Ki"])
    comparator: Literal["=", "<", ">", "~", "range"] = "="
    value: float | None = Field(default=None, examples=[6])
    low: float | None = None
    high: float | None = None
    unit: str = Field(examples=["µM"])
    subject: str | None = Field(
        default=None, description="What was measured, when not the drug itself."
    )


# ----- per-section attributes of the statement-level facts -----------------------------------


class IndicationStanding(StrEnum):
    """How established a use is."""

    primary = "primary"  # the main, approved use
    secondary = "secondary"  # another documented use ("may also be used")
    off_label = "off_label"  # used outside the approved labelling
    investigational = "investigational"  # studied, not established
    not_recommended = "not_recommended"  # the source advises against it


# Strongest first: a use gathered from several statements takes the strongest standing.
STANDING_RANK = list(IndicationStanding)


class IndicationAttributes(Strict):
    condition: str
    status: IndicationStanding
    route: Route | None = Field(
        default=None, description="The route the statement ties the use to; none when unstated."
    )
    codes: list[Code] = []


class RouteAspect(StrEnum):
    """What a detail of a route is about."""

    overview = "overview"  # what the route is
    rationale = "rationale"  # why it is chosen
    formulation = "formulation"  # how the product for this route is made up
    test_dose = "test_dose"  # the test dose given before committing to it
    catheter = "catheter"  # the catheter it needs
    pump = "pump"  # the implanted pump
    refill = "refill"  # refilling the pump
    replacement = "replacement"  # replacing the pump
    indication = "indication"  # what the route is used for


class RouteAttributes(Strict):
    route: Route
    aspect: RouteAspect
    codes: list[Code] = []


class Frequency(StrEnum):
    """How often an effect occurs, as the cited source words it."""

    common = "common"  # listed among the common side effects
    common_or_very_common = "common_or_very_common"  # the BNF's "common or very common"


# Most specific first: a record takes the most specific frequency its statements support.
FREQUENCY_RANK = [Frequency.common_or_very_common, Frequency.common]


class Seriousness(StrEnum):
    """Whether the source calls the effect serious."""

    serious = "serious"
    non_serious = "non_serious"


class EffectContext(StrEnum):
    """When an adverse effect occurs."""

    treatment = "treatment"  # while taking the drug
    abrupt_discontinuation = "abrupt_discontinuation"  # when the drug is stopped rapidly


class AdverseEffectAttributes(Strict):
    term: str
    frequency: Frequency | None = None
    seriousness: Seriousness | None = None
    context: EffectContext
    absent: bool = Field(
        default=False, description="True where the source says the effect does not occur."
    )
    codes: list[Code] = []


class WithdrawalSymptomAttributes(Strict):
    term: str
    codes: list[Code] = []


class WithdrawalSyndromeTopic(StrEnum):
    """What a statement about the withdrawal syndrome is about."""

    resemblance = "resemblance"  # what the syndrome resembles
    risk_factor = "risk_factor"  # what makes it likelier
    severity = "severity"  # what its severity depends on
    tapering = "tapering"  # how tapering the dose prevents it
    reinstatement = "reinstatement"  # how restarting therapy reverses it


class WithdrawalSyndromeAttributes(Strict):
    topic: WithdrawalSyndromeTopic
    term: str


class OverdoseTopic(StrEnum):
    """What a statement about overdose is about."""

    sign = "sign"  # a sign or symptom of overdose
    management = "management"  # what treating it may require
    course = "course"  # how it evolves


class OverdoseAttributes(Strict):
    topic: OverdoseTopic
    term: str | None = None
    codes: list[Code] = []


class PharmacologyTopic(StrEnum):
    """What a pharmacology record is about."""

    target = "target"  # a molecular target, with the drug's action and affinity there
    mechanism = "mechanism"  # how the drug works
    effect = "effect"  # a pharmacological effect of the drug (e.g. sedation)
    related_compound = "related_compound"  # another compound, with its own values, as comparator


class TargetAction(StrEnum):
    """What the drug does at a target."""

    agonist = "agonist"  # activates it
    blocker = "blocker"  # blocks it
    no_significant_affinity = "no_significant_affinity"  # the source denies a significant affinity


class PharmacologyAttributes(Strict):
    topic: PharmacologyTopic
    target: str | None = None
    action: TargetAction | None = None
    genes: list[str] = Field(
        default=[], description="HGNC gene symbols of the target's subunits.", examples=[["GABBR1"]]
    )
    compound: str | None = Field(
        default=None, description="The other compound, for a related compound."
    )
    relation: str | None = Field(default=None, description="How that compound relates to the drug.")
    affinities: list[Quantity] = Field(
        default=[],
        description="Measured affinities: the drug's at a target; the compound's own "
        "(with `subject`) for a related compound.",
    )
    codes: list[Code] = []


class NameKind(StrEnum):
    """What kind of name it is."""

    nonproprietary = "nonproprietary"  # the generic name
    brand = "brand"  # a trade name
    synonym = "synonym"  # another name for the substance


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
    """What a study found."""

    studied = "studied"  # the source says it was studied, no outcome
    no_effect = "no_effect"  # no evidence of an effect was found
    inconclusive = "inconclusive"  # the evidence is not conclusive
    positive = "positive"  # an effect was found


class ResearchAttributes(Strict):
    topic: str
    outcome: ResearchOutcome


class SocietyAttributes(Strict):
    topic: Literal["prescriptions", "generic", "availability", "regulation", "misuse", "poisoning"]
    quantities: list[Quantity] = []


class OverviewAttributes(Strict):
    topic: str


class Population(StrEnum):
    """A group of people whose use of the drug the source addresses."""

    pregnancy = "pregnancy"
    breastfeeding = "breastfeeding"


class PopulationSafety(StrEnum):
    """What the source says of the drug's safety in a population."""

    unclear = "unclear"
    probably_safe = "probably_safe"


class SpecificPopulationAttributes(Strict):
    population: Population
    safety: PopulationSafety


class AbuseTopic(StrEnum):
    """What a statement about abuse and dependence is about."""

    addiction = "addiction"  # addictive properties
    euphoria = "euphoria"  # drug euphoria, the "high" sought in abuse
    abuse = "abuse"  # cases of abuse


class AbuseAttributes(Strict):
    topic: AbuseTopic
    term: str
    absent: bool = Field(default=False, description="True where the source says it does not occur.")


FACT_ATTRIBUTES: dict[Section, type[Strict]] = {
    Section.indications: IndicationAttributes,
    Section.routes: RouteAttributes,
    Section.adverse_effects: AdverseEffectAttributes,
    Section.withdrawal_symptoms: WithdrawalSymptomAttributes,
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
    Section.specific_populations: SpecificPopulationAttributes,
    Section.abuse_and_dependence: AbuseAttributes,
    Section.withdrawal_syndrome: WithdrawalSyndromeAttributes,
}


# ----- records: one per real-world thing --------------------------------------------------------
#
# In the sections below the seed declares records, each gathering the statement-level facts about
# one thing (an effect stated in the lead and again in the side-effects section is one effect).
# Every other section's facts are one thing each: the fact is its own record.


class IndicationRecord(Strict):
    condition: str
    status: IndicationStanding = Field(
        description="How established the use is: the strongest standing of its statements."
    )
    routes: list[Route] = Field(
        description="The routes the use is documented by; a use the source states without a "
        "route is the drug's oral use."
    )
    codes: list[Code] = []


class RouteRecord(Strict):
    route: Route
    codes: list[Code] = []


class AdverseEffectRecord(Strict):
    term: str
    synonyms: list[str] = Field(default=[], description="Other words the source uses for it.")
    frequency: Frequency | None = Field(
        default=None, description="The most specific frequency its statements support."
    )
    seriousness: Seriousness | None = None
    contexts: list[EffectContext] = Field(description="When it occurs.")
    absent: bool = Field(
        default=False, description="True only where the source says baclofen does not cause it."
    )
    codes: list[Code] = []


class WithdrawalSymptomRecord(Strict):
    term: str
    synonyms: list[str] = Field(default=[], description="Other words the source uses for it.")
    codes: list[Code] = []


class PharmacologyRecord(PharmacologyAttributes):
    pass


class NameRecord(NameAttributes):
    pass


RECORD_ATTRIBUTES: dict[Section, type[Strict]] = {
    Section.indications: IndicationRecord,
    Section.routes: RouteRecord,
    Section.adverse_effects: AdverseEffectRecord,
    Section.withdrawal_symptoms: WithdrawalSymptomRecord,
    Section.pharmacology: PharmacologyRecord,
    Section.names: NameRecord,
}


def record_attributes(section: Section) -> type[Strict]:
    """The attributes of a section's list items: its declared records', or its facts'."""
    return RECORD_ATTRIBUTES.get(section, FACT_ATTRIBUTES[section])
