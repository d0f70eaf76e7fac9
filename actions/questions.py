"""What a question asks for, read from its words: several questions in one message, a yes/no
question, a comparison of two named things, and what the two source documents never give
(salaries, durations, figures, named employers or schools, places, remote work, the future,
exam details, or a name they never mention).

The word lists are plain and deliberate: a wording they miss is a line to add here, and the
answer-level held-out set (tests/heldout/answers.yml, `make evaluate`) measures them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actions.knowledge_base import ItemInfo, KnowledgeBase


def _words(*phrases: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# --- several questions in one message -------------------------------------------------------
_QUESTION_WORD = (
    r"what|which|how|why|where|when|who|is|are|am|can|could|do|does|did|should|would|will|must"
)
# "what degree and which certifications do I need?", "...? And is the CCRP worth it?"
_SECOND_QUESTION = re.compile(
    rf"\?\s+|(?:,?\s+(?:and|also|plus)\s+|;\s*)(?=(?:{_QUESTION_WORD})\b)", re.IGNORECASE
)


_LEADING_JOIN = re.compile(r"^(?:and|also|plus|so)\s+", re.IGNORECASE)


def split_questions(text: str) -> list[str]:
    """The questions a message asks, each as its own text (one when it asks one)."""
    parts = [_LEADING_JOIN.sub("", part.strip(" ,;")) for part in _SECOND_QUESTION.split(text)]
    parts = [part for part in parts if len(re.findall(r"\w+", part)) >= 2]
    return parts or [text]


# --- yes/no questions -------------------------------------------------------------------------
_YES_NO = re.compile(
    r"^\W*(?:(?:so|and|but|ok|okay|hi|hey|also)\W+)*"
    r"(?:is|are|am|can|could|do|does|did|should|shall|would|will|must|have|has|need|was|were|"
    r"isn't|aren't|don't|doesn't|won't|can't|shouldn't|wouldn't|r|u)\b",
    re.IGNORECASE,
)
_OR_QUESTION = re.compile(r"\bor\b", re.IGNORECASE)
# The answer is conditional when the fact hedges.
_HEDGE = _words(
    "some", "may", "might", "often", "typically", "prefer", "prefers", "vary", "varies",
    "depending", "depends", "instead of", "frequently", "usually", "more commonly",
)  # fmt: skip
_REQUIREMENT = _words("need", "needs", "required", "require", "requires", "must", "have to",
                      "has to", "necessary", "mandatory", "enough", "without", "only")  # fmt: skip


def is_yes_no(question: str) -> bool:
    """ "is a bachelor's enough?", "should I be on LinkedIn?"; not "is it X or Y?"."""
    return bool(_YES_NO.match(question)) and not _OR_QUESTION.search(question)


def yes_no_lead(question: str, fact: str) -> str:
    """How the answer to a yes/no question starts, given the fact that answers it: "It depends"
    when the fact hedges (some employers, may, typically...), else "Yes"."""
    if _HEDGE.search(fact.lower()) or (
        _REQUIREMENT.search(question.lower()) and "essential" not in fact.lower()
    ):
        return "It depends"
    return "Yes"


# --- comparisons ------------------------------------------------------------------------------
_COMPARING = re.compile(
    r"\b(?:or|vs\.?|versus|compared? (?:to|with)|differen\w*|better|rather than|instead of)\b",
    re.IGNORECASE,
)


def compared_items(question: str, named: list[ItemInfo]) -> list[ItemInfo]:
    """The two things of one kind a question compares ("MBA or MHA?", "CCRP vs CHOM"), or []."""
    if not _COMPARING.search(question):
        return []
    for first in named:
        same_kind = [item for item in named if item.kind == first.kind and item != first]
        if same_kind:
            return [first, same_kind[0]]
    return []


# --- what the documents never give ----------------------------------------------------------
@dataclass(frozen=True)
class NotCovered:
    kind: str  # money, duration, numbers, employer, school, place, remote, future, exam, age,
    # other, name
    name: str = ""  # for kind "name": the name the documents never mention


# fmt: off
_NOT_COVERED = {
    "money": _words(
        r"salar(?:y|ies)", "pay", "paid", "pays", "wage", "wages", "income", r"earn\w*",
        "compensation", "how much (?:does|do|did|will|would|is|are|money|can)", r"cost\w*",
        "fee", "fees", "price", "prices", "tuition", "expensive", "cheap", r"afford\w*",
        "money", r"dollars?", r"euros?", r"pounds?", "usd", "gbp", r"\d+k", "six figures",
    ),
    "duration": _words(
        "how long", r"how many (?:years?|months?|weeks?|days?)", "how much time",
        r"how (?:quickly|fast|soon)", "fastest", r"time ?frame", "timeline",
        r"(?:years?|months?) (?:does|will|would) it take", "take to become",
        r"long (?:does|will|would) it take",
    ),
    "numbers": _words(
        r"how many (?:\w+ ){0,3}(?:people|jobs|openings|positions|posts|postings|hours|"
        r"applicants|roles|managers|members|vacancies|graduates|nurses)",
        r"how many [\w ]{0,40} are there", r"percent\w*", "pass rate", r"statistic\w*",
        "odds", "chances", "ratio", "number of", "acceptance rate", "success rate",
        "how competitive", r"what (?:share|proportion|fraction) of",
        r"(?:each|per) (?:month|year|week)",
    ),
    "employer": _words(
        "hiring (?:right )?now", "currently hiring", "still hiring", r"is \w+ hiring",
        r"are \w+ hiring", "job openings (?:right )?now", "open positions now",
        "best companies", "top companies", "best employers", "top employers",
        "which companies are", "big pharma companies",
    ),
    "school": _words(
        # A named, ranked or chosen school, not "what should I study at university?"
        r"(?:which|best|top|good|recommended|cheapest|affordable|accredited|ranked|state|"
        r"online(?:-only)?|particular|specific|name (?:an?|some)|(?:from|at) (?:an?|the)) "
        r"(?:[\w-]+ ){0,3}?(?:universit(?:y|ies)|(?<!american )colleges?|schools?)",
        r"what (?:universit(?:y|ies)|colleges?|schools?)",
        r"(?:universit(?:y|ies)|(?<!american )colleges?|schools?) (?:should|would|do|can|could|"
        r"to (?:attend|choose|apply)|(?:is|are) (?:the )?best|offers?|has|have|runs?)",
        "best (?:mha|mba|mph) program", r"programs? ranking", "ranked", "ranking", "rankings",
        r"bootcamps?", r"online (?:mha|mba|mph|degree|program|programme)s?", "accredited",
    ),
    "place": _words(
        r"visas?", r"relocat\w*", r"immigra\w*", "abroad",
        r"(?:which|what|best|top) (?:us |uk )?(?:country|countries|city|cities|state|states|"
        r"region|regions|area|areas)", "in the uk", "in canada",
        "in australia", "in india", "in germany", "in texas", "in california", "in new york",
        "in london", "in ontario", "in ireland", "in dubai", "in singapore", "in nigeria",
        "in the philippines", "near me",
    ),
    "remote": _words(
        "remote", "remotely", "work from home", "working from home", "wfh", "hybrid",
        r"telecommut\w*", "home office",
    ),
    "future": _words(
        r"future (?:of|for|demand|outlook|prospects)", "the future hold", "outlook",
        r"in \d+ years", "in ten years", "in five years", "next decade", "in demand",
        "demand for", "job market", r"automat\w*", "ai", "artificial intelligence",
        "replaced by", r"replace (?:clinical|managers|me|us|humans|people|jobs|the role)",
        "obsolete", "growing field", "job growth", "recession", "layoffs", "be around",
        r"in (?:a|the next|ten|five) (?:decade|few years)", "in future", "in the years ahead",
        r"outsourc\w*", r"offshor\w*", r"disappear\w*", "still be worth", "still exist",
    ),
    "exam": _words(
        r"(?:the|an|this|that) exams?", r"exam (?:fee|date|format|questions|topics|content)",
        r"on the (?:\w+ )?exam", "test questions", "practice questions", "study guide",
        r"eligib\w*", "register for", "registration", r"renew\w*", r"recertif\w*",
        "prerequisites", "sit for", "sit the",
    ),
    "age": _words(
        "too old", "too young", "my age", r"at (?:age )?\d\d", r"in my \d0s", "age limit",
    ),
    # Things the guides never go into: software, personality types, what interviewers ask.
    "other": _words(
        "software", r"personality(?: type)?", "introvert", "extrovert",
        r"interview questions", r"(?:ask|asked) (?:in|at) (?:an|the|my) interview",
        "dress code", "work-life balance", "work life balance",
    ),
}
# fmt: on
# Where the closest thing the guides do say usually is, when NLU placed the question on no topic.
RELATED_TOPIC = {
    "money": "role_overview",
    "duration": "career_path",
    "numbers": "role_overview",
    "employer": "work_settings",
    "school": "degrees",
    "place": "schedule_travel",
    "remote": "schedule_travel",
    "future": "role_overview",
    "exam": "certifications",
    "age": "experience",
    "other": None,
}

# Words that look like names (capitalised mid-sentence) but are not: the documents' own
# vocabulary is added from the knowledge base.
_ORDINARY = set(
    """I I'm I've I'd I'll OK Ok Hi Hey Thanks Yes No Also And But So Or The A An If Is Are Do
    Does Can Could Should Would Will What Which How Why Where When Who Please Mr Mrs Ms Dr
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December""".split()
)
# Abbreviations learners use for their own background (not things the guides should name).
_BACKGROUND = set(
    """RN RNs BSN MSN LPN LVN CNA NP PA MD DO PhD PHD CRC CRCs GED HR IT ICU ER OR US USA UK EU
    BA BS BSc MSc MS MA CV CVs""".split()
)


def not_covered(
    question: str, kb: KnowledgeBase, entity_spans: list[tuple[int, int]] = ()
) -> NotCovered | None:
    """What a question asks for that the two documents never give, or None. `entity_spans`:
    where NLU found entities (a job title such as "Registered Nurse" is not an unknown name)."""
    lowered = question.lower().replace("’", "'")
    for kind, pattern in _NOT_COVERED.items():
        if pattern.search(lowered):
            return NotCovered(kind)
    unknown = unknown_name(question, kb, entity_spans)
    return NotCovered("name", unknown) if unknown else None


_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*|[A-Z]{2,6}s?)\b")


def unknown_name(
    question: str, kb: KnowledgeBase, entity_spans: list[tuple[int, int]] = ()
) -> str | None:
    """A name (a capitalised word not at the start of a sentence, or an acronym) that appears
    nowhere in the knowledge base: "is Pfizer hiring?", "should I get the PMP?"."""
    known = kb.vocabulary()
    for match in _NAME.finditer(question):
        name = match.group()
        sentence_start = re.search(r"(?:^|[.!?]\s+)\W*$", question[: match.start()])
        introduced = re.search(
            r"\b(?:i'm|i am|my name is|this is)\s+$", question[: match.start()].lower()
        )
        in_entity = any(a <= match.start() < b for a, b in entity_spans)
        if sentence_start or introduced or in_entity or name in _ORDINARY | _BACKGROUND:
            continue
        words = re.findall(r"[a-z']+", name.lower())
        if words and not all(word in known or word.rstrip("s") in known for word in words):
            return name
    return None


_CAREER_WORDS = re.compile(r"\b(?:job|jobs|career|role|roles|work|manager|managers|com|cpm|cpms)\b")


def about_this_career(question: str, kb: KnowledgeBase) -> bool:
    """Whether a message NLU put out of scope still talks about these roles ("what's the salary
    of a clinical ops manager?"), rather than something else ("what's the weather in Paris?"):
    a word of the knowledge base's own (four letters or more) or of the job search."""
    lowered = question.lower()
    words = {word for word in re.findall(r"[a-z']+", lowered) if len(word) >= 4}
    return bool(words & kb.vocabulary() - _COMMON) or bool(_CAREER_WORDS.search(lowered))


# Everyday words that also occur in the knowledge base's text.
_COMMON = frozenset(
    """what with that this your have from they them there their when which will would could
    should about also more most some such than then these those into over only other very
    much many well good best like make made take time year years people""".split()
)
