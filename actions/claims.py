"""Whether a learner says something is done ("I passed the CCRP", "I'm a member of ACRP") or not
("I'm planning to join ACRP", "should I get the CHOM", "I don't have an MHA yet"). Only what is
said as done belongs in their record.

A statement is read clause by clause: its sentences, cut at commas, semicolons and conjunctions.
The word lists are deliberately plain; a wording they miss is a line to add here.
"""

from __future__ import annotations

import re

from actions.conversation import Utterance


def _words(*phrases: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april"
_MONTHS += "|june|july|august|september|october|november|december"
_PERIODS = f"week|month|year|spring|summer|autumn|fall|winter|term|semester|quarter|{_MONTHS}"

# Denied: "I don't have the CCRP yet", "I never finished my degree", "no MBA", "I failed it".
_NEGATION = _words(
    r"\w+n't", "not", "never", "no", "without", "yet", "fail", "failed", "failing", "dropped out",
    "dont", "didnt", "doesnt", "havent", "hasnt", "hadnt", "isnt", "wasnt", "arent", "werent",
    "wont", "cant", "aint",
)  # fmt: skip

# Still to come: wishes, plans, intentions, possibilities, needs, conditions, and times ahead.
_NOT_YET = _words(
    "want", "wants", "wanted", "wanna", "would", "'d like", "'d love", "wish", "hope", "hopes",
    "hoping", "hopefully", "plan", "plans", "planning", "planned", "going to", "gonna", "will",
    "'ll", "shall", "intend", "intends", "intending", "aim", "aims", "aiming", "aspire", "goal",
    "dream", "thinking about", "thinking of", "think about", "considering", "consider",
    "looking into", "looking to", "interested in", "might", "i may", "maybe", "perhaps",
    "possibly", "probably", "should", "could", "need", "needs", "have to", "has to", "must",
    "try", "trying", "apply", "applying", "studying", "preparing", "working towards?",
    "if", "unless", "once i", "someday", "some day", "one day", "eventually", "soon",
    "in the future", rf"next (?:{_PERIODS})", rf"by (?:the end|end|next|this|\d|{_MONTHS})",
)  # fmt: skip

# A question asked without its question mark: "is the CCRP worth it".
_QUESTION = re.compile(r"^\W*(?:is|are|do|does|can|what|which|how|why)\b")

# Clauses end after sentence punctuation, commas and semicolons, and before a conjunction (which
# opens the next clause: "I have a BSN | and I want an MHA").
_CLAUSE_END = re.compile(
    r"[.!?;,]+|(?=\b(?:and|but|so|or|then|because|although|though|while|whereas|plus|with|who|"
    r"which)\b)"
)
# A clause with its own subject, opened by a contrast, or saying "already" says its own thing;
# any other clause goes on from the one before ("I want an MHA | and an MBA": the MBA is wanted
# too; "I'm planning to join ACRP | and already have a BSN": the BSN is had).
_STANDS_ALONE = re.compile(r"\b(?:i|im|ive|we|already)\b|^\W*(?:but|although|though|whereas)\b")


def stated_as_done(clause: str) -> bool:
    """Whether a clause says something is done or held now ("finished my MHA last year", "I'm a
    member of ACRP") rather than denied, planned, wished, supposed or asked about."""
    words = clause.lower().replace("’", "'")
    return not (_NEGATION.search(words) or _NOT_YET.search(words) or _QUESTION.match(words))


def achieved_part(statement: Utterance) -> Utterance:
    """The clauses of a statement that say something is done, with their entities."""
    text = statement.text.lower().replace("’", "'")
    done, kept, start = True, [], 0
    for end in [match.end() for match in _CLAUSE_END.finditer(text)] + [len(text)]:
        clause = text[start:end]
        if clause.strip(" .!?;,"):
            done = stated_as_done(clause) and (done or bool(_STANDS_ALONE.search(clause)))
            if done:
                kept.append((start, end))
        start = end
    return statement.part(kept)
