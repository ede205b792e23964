"""The monograph's sections and the typed attributes of the facts in each.

A fact is stored generically (id, label, note, attributes, evidence); what its ``attributes`` may
hold depends on its section and is declared here once. The seed loader validates every fact
against these models and the API builds its typed response models from them, so the dataset, the
database and the documented contract cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.domain.described import described


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@described(
    {
        "indications": "What the drug is used for: one item per condition, with its standing "
        "and routes.",
        "routes": "How the drug is given (by mouth, by intrathecal pump, through the skin), "
        "with each route's details.",
        "adverse-effects": "The drug's unwanted effects, with frequency, seriousness and context.",
        "specific-populations": "Use in specific populations: pregnancy and breastfeeding.",
        "abuse-and-dependence": "Abuse potential and dependence: addiction, euphoria, abuse.",
        "withdrawal-symptoms": "The symptoms of withdrawal, one item per symptom.",
        "withdrawal-syndrome": "What shapes withdrawal: what it resembles, risk factors, "
        "severity, tapering, reinstatement.",
        "overdose": "Signs, management and course of an overdose.",
        "pharmacology": "Receptor targets, mechanisms, pharmacological effects and related "
        "compounds.",
        "names": "The nonproprietary name, brand names and synonyms.",
        "pharmacokinetics": "Absorption, distribution, metabolism, excretion, half-life.",
        "chemistry": "Chemical class, appearance, molar mass, solubility.",
        "interactions": "What combining the drug with other agents does.",
        "history": "Dated events in the drug's history.",
        "research": "What was studied, and with what outcome.",
        "society": "Prescriptions, generics, availability, regulation and misuse.",
        "overview": "The lead: what the drug is, in a few facts.",
    }
)
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


@described(
    {
        "HPO": "Human Phenotype Ontology (signs and symptoms), e.g. HP:0001297.",
        "MeSH": "Medical Subject Headings of the US National Library of Medicine, e.g. D020521.",
        "NCIt": "NCI Thesaurus of the US National Cancer Institute, e.g. C38288.",
        "UniProt": "UniProtKB protein accession, e.g. Q9UBS5.",
        "HGNC": "HUGO Gene Nomenclature Committee gene id, e.g. HGNC:4070.",
        "NCBIGene": "NCBI Gene id, e.g. 2550.",
    }
)
class CodeSystem(StrEnum):
    """An external terminology a code belongs to."""

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


@described(
    {
        "exact": "The code's concept is the term itself.",
        "broader": "The code's concept is wider than the term (e.g. mania under MeSH "
        '"Bipolar Disorder").',
    }
)
class CodeMatch(StrEnum):
    """How the code's concept relates to the fact's term (as SKOS mapping relations do)."""

    exact = "exact"  # the code's concept is the term
    broader = "broader"  # the code's concept is wider (mania under MeSH "Bipolar Disorder")


class Code(Strict):
    """A code in an external terminology (only codes verified in the project's reference sheet)."""

    system: CodeSystem = Field(description="The terminology the code belongs to.")
    code: str = Field(
        description="The code, as the terminology writes it.", min_length=1, examples=["HP:0000738"]
    )
    match: CodeMatch = Field(
        default=CodeMatch.exact, description="Whether the code names the term or a wider concept."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        """The code's record in its terminology's browser."""
        return CODE_URLS[self.system].format(code=self.code)


@described(
    {
        "oral": "By mouth (tablets, oral solution).",
        "intrathecal": "Into the spinal fluid, by an implanted pump and catheter.",
        "transdermal": "Through the skin.",
    }
)
class Route(StrEnum):
    """A route of administration."""

    oral = "oral"
    intrathecal = "intrathecal"
    transdermal = "transdermal"


@described(
    {
        "=": "The measure equals `value`.",
        "<": "The measure is below `value`.",
        ">": "The measure is above `value`.",
        "~": "The measure is about `value`.",
        "range": "The measure lies between `low` and `high`.",
    }
)
class Comparator(StrEnum):
    """How a quantity's number bounds what was measured."""

    equal = "="
    below = "<"
    above = ">"
    about = "~"
    range = "range"


class Quantity(Strict):
    """A number with its unit and comparator, e.g. Ki = 6 μM or a range 1.5-4 h."""

    measure: str = Field(
        description="What is measured (e.g. Ki, half-life, molar mass).", examples=["Ki"]
    )
    comparator: Comparator = Field(
        default=Comparator.equal, description="How `value` (or `low`-`high`) bounds the measure."
    )
    value: float | None = Field(
        description="The number, for a comparator other than `range`.", default=None, examples=[6]
    )
    low: float | None = Field(default=None, description="The lower bound, for a `range`.")
    high: float | None = Field(default=None, description="The upper bound, for a `range`.")
    unit: str = Field(description="The unit of the number(s).", examples=["μM"])
    subject: str | None = Field(
        default=None, description="What was measured, when not the drug itself."
    )


# ----- per-section attributes of the statement-level facts -----------------------------------


@described(
    {
        "primary": "The approved, main use.",
        "secondary": 'Another documented use ("may also be used").',
        "off_label": "Used outside the approved labelling.",
        "investigational": "Studied, not established.",
        "not_recommended": "The source advises against this use.",
    }
)
class IndicationStanding(StrEnum):
    """How established a use of the drug is."""

    primary = "primary"
    secondary = "secondary"
    off_label = "off_label"
    investigational = "investigational"
    not_recommended = "not_recommended"


# Strongest first: a use gathered from several statements takes the strongest standing.
STANDING_RANK = list(IndicationStanding)


class IndicationAttributes(Strict):
    condition: str = Field(description="The condition the drug is used for.")
    status: IndicationStanding = Field(description="How established the use is.")
    route: Route | None = Field(
        default=None, description="The route the statement ties the use to; none when unstated."
    )
    codes: list[Code] = Field(
        default=[], description="Codes of the condition in external terminologies."
    )


@described(
    {
        "overview": "The route in general.",
        "rationale": "Why the route is used.",
        "formulation": "The product given by the route.",
        "test_dose": "The test dose given before pump administration, to assess the effect.",
        "catheter": "The catheter that delivers the drug.",
        "pump": "The implanted pump.",
        "refill": "Refilling the pump.",
        "replacement": "Replacing the pump.",
        "indication": "Who the route is for.",
    }
)
class RouteAspect(StrEnum):
    """What a fact about a route of administration is about."""

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
    route: Route = Field(description="The route of administration.")
    aspect: RouteAspect = Field(description="What about the route the fact says.")
    codes: list[Code] = Field(
        default=[], description="Codes of the route or device in external terminologies."
    )


@described(
    {
        "common": "Listed among the common side effects.",
        "common_or_very_common": "Common or very common (the BNF does not say which).",
    }
)
class Frequency(StrEnum):
    """How often an adverse effect occurs, as the cited source words it."""

    common = "common"
    common_or_very_common = "common_or_very_common"


# Most specific first: a record takes the most specific frequency its statements support.
FREQUENCY_RANK = [Frequency.common_or_very_common, Frequency.common]


@described(
    {
        "serious": "The source calls it serious.",
        "non_serious": "Not serious.",
    }
)
class Seriousness(StrEnum):
    """How serious an adverse effect is."""

    serious = "serious"
    non_serious = "non_serious"


@described(
    {
        "treatment": "While the drug is taken.",
        "abrupt_discontinuation": "When the drug is stopped rapidly.",
    }
)
class EffectContext(StrEnum):
    """When an adverse effect occurs."""

    treatment = "treatment"
    abrupt_discontinuation = "abrupt_discontinuation"


class AdverseEffectAttributes(Strict):
    term: str = Field(description="The effect, in plain words.")
    frequency: Frequency | None = Field(
        default=None, description="How often it occurs, where the source says."
    )
    seriousness: Seriousness | None = Field(
        default=None, description="How serious it is, where the source says."
    )
    context: EffectContext = Field(description="When it occurs.")
    absent: bool = Field(
        default=False, description="True where the source says the effect does not occur."
    )
    codes: list[Code] = Field(
        default=[], description="Codes of the effect in external terminologies."
    )


class WithdrawalSymptomAttributes(Strict):
    term: str = Field(description="The symptom, in plain words.")
    codes: list[Code] = Field(
        default=[], description="Codes of the symptom in external terminologies."
    )


@described(
    {
        "resemblance": "What the syndrome resembles.",
        "risk_factor": "What makes withdrawal likelier.",
        "severity": "What the severity of withdrawal depends on.",
        "tapering": "Stopping gradually to avoid withdrawal.",
        "reinstatement": "Restarting the drug to ease or reverse withdrawal.",
    }
)
class WithdrawalSyndromeTopic(StrEnum):
    """What a statement about the withdrawal syndrome is about."""

    resemblance = "resemblance"
    risk_factor = "risk_factor"
    severity = "severity"
    tapering = "tapering"
    reinstatement = "reinstatement"


class WithdrawalSyndromeAttributes(Strict):
    topic: WithdrawalSyndromeTopic = Field(description="What the fact is about.")
    term: str = Field(description="What it names, in plain words.")


@described(
    {
        "sign": "A sign or symptom of overdose.",
        "management": "How an overdose is treated.",
        "course": "How an overdose evolves.",
    }
)
class OverdoseTopic(StrEnum):
    """What an overdose fact is about."""

    sign = "sign"
    management = "management"
    course = "course"


class OverdoseAttributes(Strict):
    topic: OverdoseTopic = Field(description="What the fact is about.")
    term: str | None = Field(default=None, description="The sign named, for signs.")
    codes: list[Code] = Field(
        default=[], description="Codes of the term in external terminologies."
    )


@described(
    {
        "agonist": "The drug activates the target.",
        "blocker": "The drug blocks the target.",
        "no_significant_affinity": "The drug binds the target too weakly to matter.",
    }
)
class TargetAction(StrEnum):
    """What the drug does at a target."""

    agonist = "agonist"
    blocker = "blocker"
    no_significant_affinity = "no_significant_affinity"


@described(
    {
        "target": "A receptor or channel the drug acts on (see `target`, `action`, `affinities`).",
        "mechanism": "How the drug works.",
        "effect": "A pharmacological effect of the drug (e.g. sedation).",
        "related_compound": "Another compound, with its relation to the drug and its own values "
        "(see `compound`, `relation`, `affinities` with `subject`), as a comparator.",
    }
)
class PharmacologyTopic(StrEnum):
    """What a pharmacology fact or record is about."""

    target = "target"
    mechanism = "mechanism"
    effect = "effect"
    related_compound = "related_compound"


class PharmacologyAttributes(Strict):
    topic: PharmacologyTopic = Field(description="What it is about.")
    target: str | None = Field(default=None, description="The receptor or channel, for targets.")
    action: TargetAction | None = Field(
        default=None, description="What the drug does at the target."
    )
    genes: list[str] = Field(
        default=[], description="HGNC gene symbols of the target's subunits.", examples=[["GABBR1"]]
    )
    compound: str | None = Field(
        default=None, description="The other compound, for related compounds."
    )
    relation: str | None = Field(default=None, description="How the compound relates to the drug.")
    affinities: list[Quantity] = Field(
        default=[],
        description="Measured affinities (external citations): the drug's own at a target; the "
        "compound's (each with its `subject`) for a related compound.",
    )
    codes: list[Code] = Field(
        default=[], description="Codes of the target in external terminologies."
    )


@described(
    {
        "nonproprietary": "The international nonproprietary (generic) name.",
        "brand": "A brand name.",
        "synonym": "Another name the drug is known by (e.g. chlorophenibut).",
    }
)
class NameKind(StrEnum):
    """What kind of name a name is."""

    nonproprietary = "nonproprietary"
    brand = "brand"
    synonym = "synonym"


class NameAttributes(Strict):
    name: str = Field(description="The name, as written.")
    name_kind: NameKind = Field(description="What kind of name it is.")


@described(
    {
        "absorption": "How the drug enters the blood.",
        "distribution": "Where the drug goes in the body.",
        "metabolism": "How the body transforms the drug.",
        "excretion": "How the drug leaves the body.",
        "half_life": "The time for the blood level to halve.",
        "protein_binding": "The share bound to plasma proteins.",
        "dosing_frequency": "How often a dose is given.",
    }
)
class PharmacokineticParameter(StrEnum):
    """What a pharmacokinetics fact measures."""

    absorption = "absorption"
    distribution = "distribution"
    metabolism = "metabolism"
    excretion = "excretion"
    half_life = "half_life"
    protein_binding = "protein_binding"
    dosing_frequency = "dosing_frequency"


class PharmacokineticsAttributes(Strict):
    parameter: PharmacokineticParameter = Field(description="What the fact measures.")
    quantities: list[Quantity] = Field(
        default=[], description="The numbers, restored from external citations."
    )


@described(
    {
        "classification": "The chemical class.",
        "appearance": "What the substance looks like.",
        "odor": "What the substance smells of.",
        "form": "The chemical form (e.g. a racemic mixture).",
        "molar_mass": "The molar mass.",
        "formula": "The molecular formula.",
        "solubility": "How well it dissolves in a solvent (see `solvent`).",
        "stereochemistry": "Its stereoisomers: the racemate and its enantiomers.",
    }
)
class ChemicalProperty(StrEnum):
    """Which chemical property a chemistry fact states."""

    classification = "classification"
    appearance = "appearance"
    odor = "odor"
    form = "form"
    molar_mass = "molar_mass"
    formula = "formula"
    solubility = "solubility"
    stereochemistry = "stereochemistry"


class ChemistryAttributes(Strict):
    property: ChemicalProperty = Field(description="Which property the fact states.")
    solvent: str | None = Field(default=None, description="The solvent, for solubility.")
    value: str | None = Field(
        default=None, description="The property's value in words, where it is not a number."
    )
    quantities: list[Quantity] = Field(
        default=[], description="The numbers, restored from external citations."
    )


class InteractionAttributes(Strict):
    agents: list[str] = Field(description="The agents combined with the drug.")
    effect: str = Field(description="What the combination does.")


class HistoryAttributes(Strict):
    year: int | None = Field(default=None, description="Restored from an external citation.")
    actors: list[str] = Field(default=[], description="The people or companies involved.")


@described(
    {
        "studied": "The source says it was studied, and gives no outcome.",
        "no_effect": "It was found to have no effect.",
        "inconclusive": "The evidence is inconclusive.",
        "positive": "It was found to help.",
    }
)
class ResearchOutcome(StrEnum):
    """What a study of the drug found."""

    studied = "studied"
    no_effect = "no_effect"
    inconclusive = "inconclusive"
    positive = "positive"


class ResearchAttributes(Strict):
    topic: str = Field(description="What was studied.")
    outcome: ResearchOutcome = Field(description="What the research found.")


@described(
    {
        "prescriptions": "How often the drug is prescribed.",
        "generic": "Its availability as a generic medication.",
        "availability": "Where and how it can be obtained.",
        "regulation": "How it is regulated.",
        "misuse": "Its non-medical use.",
        "poisoning": "Poisonings involving it.",
    }
)
class SocietyTopic(StrEnum):
    """What a fact about the drug in society is about."""

    prescriptions = "prescriptions"
    generic = "generic"
    availability = "availability"
    regulation = "regulation"
    misuse = "misuse"
    poisoning = "poisoning"


class SocietyAttributes(Strict):
    topic: SocietyTopic = Field(description="What the fact is about.")
    quantities: list[Quantity] = Field(
        default=[], description="The numbers, restored from external citations."
    )


class OverviewAttributes(Strict):
    topic: str = Field(description="What the fact introduces.")


@described(
    {
        "pregnancy": "Use during pregnancy.",
        "breastfeeding": "Use while breastfeeding.",
    }
)
class Population(StrEnum):
    """A group of people whose use of the drug the source addresses."""

    pregnancy = "pregnancy"
    breastfeeding = "breastfeeding"


@described(
    {
        "unclear": "Its safety is unclear.",
        "probably_safe": "It is probably safe.",
    }
)
class PopulationSafety(StrEnum):
    """What the source says of the drug's safety in a population."""

    unclear = "unclear"
    probably_safe = "probably_safe"


class SpecificPopulationAttributes(Strict):
    population: Population = Field(description="The population.")
    safety: PopulationSafety = Field(description="What the source says of its safety there.")


@described(
    {
        "addiction": "Addictive properties.",
        "euphoria": 'Drug euphoria, the "high" sought in abuse.',
        "abuse": "Cases of abuse.",
    }
)
class AbuseTopic(StrEnum):
    """What a statement about abuse and dependence is about."""

    addiction = "addiction"
    euphoria = "euphoria"
    abuse = "abuse"


class AbuseAttributes(Strict):
    topic: AbuseTopic = Field(description="What it is about.")
    term: str = Field(description="What it names, in plain words.")
    absent: bool | None = Field(
        default=False,
        description="True where the source says it does not occur; null where the source cannot "
        "tell whether it does (the fact's `ambiguity` gives every reading).",
    )


FACT_ATTRIBUTES: dict[Section, type[Strict]] = {
    Section.indications: IndicationAttributes,
    Section.routes: RouteAttributes,
    Section.adverse_effects: AdverseEffectAttributes,
    Section.specific_populations: SpecificPopulationAttributes,
    Section.abuse_and_dependence: AbuseAttributes,
    Section.withdrawal_symptoms: WithdrawalSymptomAttributes,
    Section.withdrawal_syndrome: WithdrawalSyndromeAttributes,
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


# ----- records: one per real-world thing --------------------------------------------------------
#
# In the sections below the seed declares records, each gathering the statement-level facts about
# one thing (an effect stated in the lead and again in the side-effects section is one effect).
# Every other section's facts are one thing each: the fact is its own record.


class IndicationRecord(Strict):
    condition: str = Field(description="The condition the drug is used for (or advised against).")
    status: IndicationStanding = Field(
        description="How established the use is: the strongest standing of its statements."
    )
    routes: list[Route] = Field(
        description="The routes the use is documented by; a use the source states without a "
        "route is the drug's oral use; a use not recommended has none."
    )
    codes: list[Code] = Field(
        default=[], description="Codes of the condition in external terminologies."
    )


class RouteRecord(Strict):
    route: Route = Field(description="The route of administration.")
    codes: list[Code] = Field(
        default=[], description="The route's code in the NCI Thesaurus (as in FDA labels)."
    )


class AdverseEffectRecord(Strict):
    term: str = Field(description="The effect, in plain words.")
    synonyms: list[str] = Field(default=[], description="Other words the source uses for it.")
    frequency: Frequency | None = Field(
        default=None, description="The most specific frequency its statements support."
    )
    seriousness: Seriousness | None = Field(
        default=None, description="How serious it is, where the source says."
    )
    contexts: list[EffectContext] = Field(description="When it occurs.")
    absent: bool = Field(
        default=False, description="True only where the source says baclofen does not cause it."
    )
    codes: list[Code] = Field(
        default=[], description="Codes of the effect in external terminologies."
    )


class WithdrawalSymptomRecord(Strict):
    term: str = Field(description="The symptom, in plain words.")
    synonyms: list[str] = Field(default=[], description="Other words the source uses for it.")
    codes: list[Code] = Field(
        default=[], description="Codes of the symptom in external terminologies."
    )


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
