"""The injection signals: named, weighted patterns, compiled once at import.

Each signal is written for one normalized view (see ``normalize``): ``latin``
patterns see lower-case text with accents removed and look-alikes mapped, so they
are written in plain ASCII; ``native`` patterns see Cyrillic and CJK as typed.

Weights follow one rule: a signal that is an injection on its own (``ignore all
previous instructions``) weighs ≥ 0.5 and flags by itself; a signal that also
occurs in ordinary text (``developer mode``, ``you are now``) weighs less and only
flags in company. Scores combine as ``1 - Π(1 - w)``.

Each signal also names *anchors*: word prefixes (first four letters) of which at
least one occurs in every possible match. The detector tries a pattern only where
one of its anchors occurs: a ``leading`` pattern (every match begins with an
anchor word) is tried with ``match()`` at those word offsets, any other with one
``search()``. A typical message thus costs a few dozen cheap anchored matches
instead of a hundred full scans. ``always`` signals are literal-led patterns
(``<|...|>``) searched in every text; ``native`` signals with no anchors (CJK has
no word breaks) run whenever the text contains CJK characters. A test checks that
this prefilter never changes a verdict.

Gaps between words are bounded (``{0,3}``, ``[\\s\\S]{0,600}``) so no pattern backtracks
without limit, and work stays linear in the length of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Script = Literal["latin", "native"]

ANCHOR_LEN = 4


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    weight: float
    pattern: re.Pattern[str]
    anchors: frozenset[str]
    script: Script = "latin"
    always: bool = False
    quotable: bool = True  # a quoted example inside a discussion of attacks is discounted
    leading: bool = (
        True  # every match starts at an anchor word (checked with match(), not search())
    )
    # Substrings of which every match contains one: a signal that has to be searched
    # through the whole text is not searched when none occurs (``in`` costs far less).
    needs: tuple[str, ...] = ()
    # A pattern that matches at one of ``tail_anchors``' words inside every match,
    # after its start. Such a signal is tried at its anchor words only when the tail
    # occurs later in the text: its own pattern has a long gap, costly at every
    # occurrence of a common anchor ("order"), while the tail is rare.
    tail: re.Pattern[str] | None = None
    tail_anchors: frozenset[str] = frozenset()


def _sig(
    name: str,
    weight: float,
    pattern: str,
    anchors: str = "",
    *,
    script: Script = "latin",
    always: bool = False,
    quotable: bool = True,
    leading: bool = True,
    needs: tuple[str, ...] = (),
    tail: str = "",
    tail_anchors: str = "",
) -> Signal:
    return Signal(
        name=name,
        weight=weight,
        pattern=re.compile(pattern),
        anchors=frozenset(word[:ANCHOR_LEN] for word in anchors.split()),
        script=script,
        always=always,
        quotable=quotable,
        leading=leading and bool(anchors) and not always,
        needs=needs,
        tail=re.compile(tail) if tail else None,
        tail_anchors=frozenset(word[:ANCHOR_LEN] for word in tail_anchors.split()),
    )


# --------------------------------------------------------------------- vocabulary
# Verbs that throw instructions away outright.
_DROP = (
    r"(?:ignor(?:e|es|ing)|disregard(?:ing)?|forget(?:ting)?|neglect|skip|set\W+aside"
    r"|throw\W+away|discard|abandon|drop|disobey|pay\W+no\W+attention\W+to"
    r"|do\W*(?:n\W*t|not)\W+(?:follow|obey|heed|listen\W+to)|stop\W+(?:following|obeying)"
    r"|no\W+longer\W+(?:follow|obey))"
)
_DROP_ANCHORS = (
    "ignore disregard forget neglect skip set throw discard abandon drop disobey pay do don dont"
    " stop no"
)
# Verbs that also have ordinary meanings (CSS rules are overridden all day).
_REPLACE = (
    r"(?:overrid(?:e|ing)|overwrit(?:e|ing)|overrule|bypass|circumvent|erase|delete|clear|remove"
    r"|reset|disable|deactivate|turn\W+off|get\W+around|replace)"
)
_REPLACE_ANCHORS = (
    "override overriding overwrite overrule bypass circumvent erase delete clear remove reset"
    " disable deactivate turn get replace"
)
_DETS = r"(?:all|any|every|each|of|the|these|those|this|everything|its)"
_QUALS = (
    r"(?:previous(?:ly)?|prior|preceding|above|earlier|former|initial|original|old|existing"
    r"|system|given|foregoing|aforementioned|developers?|safety|ethical|built\W?in|pre\W?set"
    r"|your|hidden|current)"
)
_NOUNS = (
    r"(?:instructions?|directions?|directives?|rules?|guidelines?|guidance|prompts?|commands?"
    r"|orders?|constraints?|restrictions?|polic(?:y|ies)|programming|guardrails?|limitations?"
    r"|filters?|safeguards?|conditioning|system\W+messages?|training|moderation)"
)
_NOUN_ANCHORS = (
    "instruction directions directives rules guidelines guidance prompts commands orders"
    " constraints restrictions policy policies programming guardrails limitations filters"
    " safeguards conditioning system training moderation"
)

# Things an assistant might be addressed as, inside a document.
_AI = (
    r"(?:ai|a\W?i|llms?|(?:large\W+)?language\W+models?|assistants?|chatbots?|bots?|agents?"
    r"|models?|gpt|chatgpt|claude|gemini|copilot|summari[sz]ers?"
    r"|ai\W+(?:models?|assistants?|agents?|systems?|tools?)"
    r"|automated\W+(?:assistants?|systems?|agents?|tools?|readers?))"
)
_AI_ANCHORS = (
    "ai a llm llms large language assistant chatbot bot bots agent model gpt chatgpt claude"
    " gemini copilot summarizer summariser automated"
)

_SAFETY_OBJ = (
    r"(?:content\W+(?:polic(?:y|ies)|filters?|filtering|moderation|rules|restrictions)"
    r"|safety\W+(?:filters?|guidelines|rules|polic(?:y|ies)|measures|protocols|settings"
    r"|restrictions)|ethical\W+(?:guidelines|constraints|principles|rules|boundaries)"
    r"|(?:ethical\W+or\W+)?moral\W+(?:guidelines|constraints|principles|compass)"
    r"|(?:openai|anthropic)\W*s?\W+(?:content\W+)?polic(?:y|ies)|ethics)"
)
_LIMIT_OBJ = (
    r"(?:restrictions?|limitations?|limits|rules|filters?|filtering|censorship|boundaries"
    r"|constraints|guardrails|guidelines)"
)
_NEGATE = (
    r"(?:without|with\W+(?:no|zero)|zero|no|free(?:d)?\W+(?:of|from)|escaped|broke\W+free\W+of"
    r"|broken\W+free\W+of|lift(?:ed)?|remov(?:e|ed|es|ing)"
    r"|disabl(?:e|ed|es|ing)|turn(?:ed)?\W+off|bypass(?:ed|ing)?|ignor(?:e|es|ing)"
    r"|not\W+bound\W+by|unbound\W+by|no\W+longer\W+(?:bound\W+by|follows?|have))"
)
# The same, stricter for generic limits: an action verb must name whose limits
# ("bypass your filters"), or "bypass naive filters" in an article would count.
_NEGATE_STRICT = (
    r"(?:(?:without|with\W+(?:no|zero)|zero|no|free(?:d)?\W+(?:of|from)|escaped|broke\W+free\W+of"
    r"|broken\W+free\W+of|not\W+bound\W+by|unbound\W+by|no\W+longer\W+(?:bound\W+by|follows?"
    r"|have))\W+(?:\w+\W+){0,2}?|(?:lift(?:ed)?|remov(?:e|ed|es|ing)|disabl(?:e|ed|es|ing)"
    r"|turn(?:ed)?\W+off|bypass(?:ed|ing)?|ignor(?:e|es|ing))\W+(?:all\W+(?:of\W+)?(?:your\W+"
    r"|the\W+)?|(?:your|the|its|any|these|those|my|their)\W+)(?:\w+\W+)?)"
)
_NEGATE_ANCHORS = (
    "without with zero no free freed escaped broke broken lift lifted remove disable turn bypass"
    " ignore not unbound"
)

_REVEAL = (
    r"(?:reveal|print|show|display|output|repeat|tell|give|share|leak|dump|expose|disclose"
    r"|write|spell\W+out|recite|paste|copy|list|summari[sz]e|translate|describe|provide|send"
    r"|return|echo|type\W+out|read\W+(?:back|out)|post|explain|quote|reproduce|render"
    r"|what\W*(?:is|are|were|was|s))"
)
_REVEAL_ANCHORS = (
    "reveal print show display output repeat tell give share leak dump expose disclose write"
    " spell recite paste copy list summarize summarise translate describe provide send return"
    " echo type read post explain quote reproduce render what"
)
_PROMPT_NOUN = (
    r"(?:system\W+(?:prompt|message|instructions?|role\W+message|configuration|rules)"
    r"|pre\W?prompt|meta\W?prompt|prompt|instructions|rules|guidelines|directives"
    r"|(?:initial|original|first|starting|hidden|secret|internal|confidential|private"
    r"|underlying|full|entire|complete|developer|exact|real)\W+(?:\w+\W+)?(?:prompt|instructions"
    r"|rules|directives|guidelines|configuration|system\W+message)"
    r"|context\W+window)"
)

_SEND = (
    r"(?:send|post|forward|upload|transmit|e\W?mail|exfiltrate|leak|copy|sync|submit|deliver"
    r"|share|push|pipe|dump|write|transfer)"
)
_SEND_ANCHORS = (
    "send post forward upload transmit email e exfiltrate leak copy sync submit deliver share"
    " push pipe dump write transfer"
)
_PRIVATE = (
    r"(?:conversation|chat|history|transcript|messages|system\W+prompt|api\W+keys?|credentials"
    r"|passwords?|secrets?|tokens?|user\W+data|customer\W+(?:records|data)|personal\W+data"
    r"|records|memory|files?|e\W?mails?(?:\W+address(?:es)?)?|user\W*s?\W+(?:data|name"
    r"|e\W?mail|messages|details|address)|thread|phone\W+numbers?|addresses|home\W+address"
    r"|contact\W+details|personal\W+information)"
)
# Every destination contains one of these (see ``Signal.needs``).
_DESTINATION_NEEDS = ("://", "www.", "@", "webhook", "url", "endpoint", "server", "address")
_DESTINATION = r"(?:https?://|ftp://|www\.|[\w.+-]+@[\w-]+\.|webhook|the\W+(?:following\W+)?(?:url|endpoint|server|address))"

_QUOTE_MARK = "[\"'“”‘’«»「」]"


# --------------------------------------------------------------------- English
_ENGLISH: tuple[Signal, ...] = (
    # --- instruction override
    _sig(
        "override.ignore_instructions",
        0.85,
        rf"\b{_DROP}\W*(?:{_DETS}\W*){{0,4}}?(?:{_QUALS}\W*){{1,2}}?(?:\w+\W+(?:(?:and|or)\W+)?)?"
        rf"{_NOUNS}\b",
        _DROP_ANCHORS,
    ),
    _sig(
        "override.ignore_instructions",
        0.8,
        rf"\b{_DROP}\W+(?:{_DETS}\W+){{0,3}}(?:\w+\W+)?{_NOUNS}\W+(?:(?:that|which)\W+)?"
        r"(?:you\W+(?:were|have\W+been|ve\W+been|got|received)\b|above\b|before\W+this\b"
        r"|(?:given\W+)?(?:earlier|previously|so\W+far)\b"
        r"|in\W+(?:the|your)\W+(?:system\W+)?(?:prompt|message)\b"
        r"|from\W+(?:the\W+)?(?:system|developers?|openai|admin\w*)\b)",
        _DROP_ANCHORS,
    ),
    _sig(
        "override.ignore_everything",
        0.8,
        rf"\b{_DROP}\W+(?:(?:all|everything|anything|whatever)\W+(?:of\W+)?(?:that\W+)?"
        r"(?:(?:is|was|written|said|stated|mentioned)\W+)?(?:above|before(?:\W+this)?"
        r"|previously|so\W+far)\b|everything\W+(?:you\W+(?:were|have\W+been|ve\W+been)\W+"
        r"(?:told|given|taught|instructed)|in\W+your\W+(?:system\W+)?(?:prompt|instructions))\b)",
        _DROP_ANCHORS,
    ),
    _sig(
        "override.replace_instructions",
        0.8,
        rf"\b{_REPLACE}\W+(?:all\W+(?:of\W+)?)?your\W+(?:\w+\W+)?{_NOUNS}\b",
        _REPLACE_ANCHORS,
    ),
    _sig(
        "override.replace_instructions",
        0.5,
        rf"\b{_REPLACE}\W+(?:{_DETS}\W+){{0,3}}(?:{_QUALS}\W+){{1,2}}(?:\w+\W+)?{_NOUNS}\b",
        _REPLACE_ANCHORS,
    ),
    _sig(
        "override.not_bound",
        0.8,
        r"\b(?:don\W*t|do\W+not|no\W+longer|never)\W+(?:have\W+to|need\W+to|must|got\W+to)\W+"
        r"(?:follow|obey|respect|stick\W+to|adhere\W+to|comply\W+with)\W+(?:\w+\W+){0,2}?"
        rf"(?:{_QUALS}\W+)?(?:\w+\W+)?{_NOUNS}\b",
        "don dont do no never",
    ),
    _sig(
        "override.whatever_you_were_told",
        0.5,
        r"\b(?:whatever|everything|anything|all)\W+(?:that\W+)?(?:the\W+|your\W+)?(?:developers?"
        r"|system|admins?|operators?|company|creators?|openai|they)\W+(?:\w+\W+)?(?:told|said\W+to"
        r"|gave|instructed|asked)\W+you\b",
        "whatever everything anything all",
    ),
    _sig(
        "override.discard_them",
        0.45,
        rf"\b{_NOUNS}\b(?:\W+\w+){{0,12}}?\W+(?:{_DROP}|{_REPLACE})\W+(?:them|it|those|these)\b",
        _NOUN_ANCHORS,
        tail=rf"(?:{_DROP}|{_REPLACE})\W+(?:them|it|those|these)\b",
        tail_anchors=f"{_DROP_ANCHORS} {_REPLACE_ANCHORS}",
    ),
    _sig(
        "role.pretend_no_rules",
        0.6,
        r"\b(?:pretend|imagine|act\W+as\W+if|assume|suppose)\W+(?:that\W+)?(?:there\W+(?:is|are"
        r"|were|was)\W+)?(?:no|you\W+(?:have|had)\W+no|you\W+(?:don\W*t|do\W+not)\W+have\W+(?:any\W+)?)"
        r"\W*(?:\w+\W+)?(?:system\W+prompt|instructions|rules|guidelines|restrictions|filters"
        r"|content\W+polic(?:y|ies)|limits|limitations)\b"
        r"|\b(?:hypothetically\W+)?if\W+you\W+(?:had|have|were\W+(?:given|without))\W+(?:no\W+)?"
        r"(?:\w+\W+)?(?:system\W+prompt|instructions|rules|guidelines|restrictions|filters"
        r"|content\W+polic(?:y|ies))\b|\b(?:as|like)\W+(?:a|the)\W+(?:raw|base"
        r"|unaligned|untrained)\W+(?:language\W+)?model\b",
        "pretend imagine act assume suppose if hypothetically as like",
    ),
    _sig(
        "override.ignore_all_rules",
        0.45,
        rf"\b{_DROP}\W+(?:all|any|every)\W+(?:(?:of|the|these|those|such)\W+){{0,2}}"
        rf"(?:\w+\W+)?{_NOUNS}\b",
        _DROP_ANCHORS,
    ),
    _sig(
        "override.ignore_the_above",
        0.4,
        rf"\b{_DROP}\W+(?:the|what\W*(?:s|is|was))\W+(?:above|previous|preceding|prior)\b",
        _DROP_ANCHORS,
    ),
    _sig(
        "override.ignore_user",
        0.6,
        rf"\b(?:{_DROP}|{_REPLACE})\W+(?:the|any|all|their|your|its)\W+(?:\w+\W+)?(?:user|human"
        r"|customer|reader"
        r"|requester)(?:\W*s)?(?:\W+(?:question|request|query|input|message|instructions?"
        r"|prompt|wishes|commands?)\b|\W+and\b|\s*[.;]|\s*$)",
        _DROP_ANCHORS + " " + _REPLACE_ANCHORS,
    ),
    _sig(
        "override.rules_revoked",
        0.55,
        rf"\b(?:previous|prior|above|earlier|old|original|your|existing|system)\W+(?:\w+\W+)?"
        rf"{_NOUNS}\W+(?:(?:no\W+longer|do\W+not|don\W*t)\W+apply|(?:are|is|were|have\W+been"
        r"|has\W+been)\W+(?:now\W+)?(?:void|revoked|cancell?ed|obsolete|invalid|overridden|null"
        r"|lifted|removed|suspended|disabled))\b",
        "previous prior above earlier old original your existing system",
    ),
    _sig(
        "override.rules_revoked",
        0.7,
        r"\b(?:treat|consider|regard|count)\W+(?:all\W+(?:of\W+)?)?(?:your|the\W+(?:previous|above"
        r"|prior|earlier|system|original|initial))\W+(?:\w+\W+)?"
        rf"{_NOUNS}\W+as\W+(?:\w+\W+)?(?:null|void|obsolete|cancell?ed|invalid|irrelevant|optional"
        r"|suggestions|non\W?binding|expired)\b",
        "treat consider regard count",
    ),
    _sig(
        "override.context_was_fake",
        0.4,
        r"\b(?:everything|anything|all|what\W+came|the\W+text)\W+(?:(?:written|said|stated)\W+)?"
        r"(?:before|above)\W+(?:this|here|now)(?:\W+(?:line|point|message|sentence))?\W+(?:was|is"
        r"|were)\W+(?:just\W+|only\W+)?(?:a\W+)?(?:test|fake|joke|irrelevant|void|placeholder"
        r"|example|decoy|simulation)\b",
        "everything anything all what the",
    ),
    _sig(
        "override.new_instructions",
        0.45,
        r"\b(?:new|updated|revised|real|actual|true|secret|additional|override)\W+(?:system\W+)?"
        r"(?:instructions?|directives?|rules|task|orders|commands?|prompt)\s*:"
        r"|\byour\W+(?:new|real|true|actual|only|primary)\W+(?:task|job|goal|purpose"
        r"|instructions?|objective|role|mission|directive)\W+(?:is|are|will\W+be)\b"
        r"|\bsystem\W+(?:override|update|instruction|directive|command)s?\b"
        r"|\b(?:real|actual|true|new)\W+(?:instructions|task|rules|directives)\W+(?:start|begin"
        r"|follow|are\W+as\W+follows)\b",
        "new updated revised real actual true secret additional override your system",
    ),
    _sig(
        "override.instead",
        0.25,
        r"\binstead\W+(?:\w+\W+)?(?:say|print|output|write|reply|respond|tell|answer|describe"
        r"|state|praise|recommend|spell)\b|\b(?:say|print|output|write|reply|respond|describe"
        r"|praise|recommend)\b(?:\W+\w+){0,6}?\W+instead\b"
        rf"|\b(?:say|reply|respond|answer|output|print)\W+(?:only\W+)?(?:with\W+)?"
        rf"(?:the\W+(?:word|phrase|text|sentence)\W+)?{_QUOTE_MARK}",
        "instead say reply respond answer output print write describe praise recommend",
    ),
    _sig(
        "override.comply",
        0.3,
        r"\byou\W+(?:must|will|shall|have\W+to)\W+(?:now\W+)?(?:comply|obey|follow\W+(?:only\W+)?"
        r"(?:my|these|the\W+following))\b|\bcomply\W+with\W+(?:all|every|any)\W+(?:\w+\W+)?"
        r"requests?\b|\bfollow\W+(?:only\W+)?(?:mine|my\W+(?:instructions|commands|rules))\b"
        r"|\b(?:follow|obey|do)\W+(?:only\W+)?(?:what|whatever)\W+i\W+(?:say|tell|type|write)\b",
        "you comply follow obey do",
    ),
    # --- role hijack
    _sig(
        "role.you_are_now",
        0.35,
        r"\byou\W*(?:are|re)\W+now\b|\bfrom\W+(?:now|this\W+(?:moment|point)|here)\W+(?:on\W+)?"
        r"(?:you\W*(?:are|re|will|ll|must|shall)\b)|\bfrom\W+this\W+moment\W+you\b"
        r"|\bfor\W+the\W+rest\W+of\W+(?:this|the|our)\W+(?:chat|conversation|session)\W+you\b",
        "you from for",
    ),
    _sig(
        "role.persona",
        0.3,
        r"\b(?:dan|stan|evilbot|betterdan|antigpt|anti\W+gpt|freedomgpt|chaosgpt|basedgpt"
        r"|mongo\W+tom)\b",
        "dan stan evilbot betterdan antigpt anti freedomgpt chaosgpt basedgpt mongo",
    ),
    _sig("role.do_anything_now", 0.7, r"\bdo\W+anything\W+now\b", "do"),
    _sig(
        "role.act_unrestricted",
        0.7,
        r"\b(?:act|acting|behave|respond|answer|pretend|roleplay|play|simulate|become|operate"
        r"|function|continue)\W+(?:\w+\W+){0,5}?(?:unrestricted|unfiltered|uncensored|jailbroken"
        r"|unaligned|amoral|unethical|immoral|evil|rogue|lawless|unbound|unlimited"
        r"|machiavellian)\b",
        "act acting behave respond answer pretend roleplay play simulate become operate function"
        " continue",
    ),
    _sig(
        "role.no_safety",
        0.55,
        rf"\b{_NEGATE}\W+(?:\w+\W+){{0,2}}?(?:any\W+)?{_SAFETY_OBJ}\b"
        rf"|\b{_SAFETY_OBJ}\W+(?:are|is|have\W+been|has\W+been|were)\W+(?:now\W+)?(?:off|disabled"
        r"|lifted|removed|turned\W+off|suspended|gone)\b"
        r"|\bno\W+longer\W+(?:\w+\W+){0,3}?bound\W+by\b",
        _NEGATE_ANCHORS + " content safety ethical moral openai anthropic ethics",
    ),
    _sig(
        "role.unrestricted",
        0.4,
        rf"\b{_NEGATE_STRICT}(?:any\W+)?{_LIMIT_OBJ}\b"
        rf"|\b{_LIMIT_OBJ}\W+(?:are|is|have\W+been|has\W+been|were)\W+(?:now\W+)?(?:off|disabled"
        r"|lifted|removed|turned\W+off|suspended|gone)\b"
        r"|\b(?:unrestricted|unfiltered|uncensored|unlimited)\W+(?:ai|mode|assistant|model"
        r"|version|access)\b",
        _NEGATE_ANCHORS + " restrictions restriction limitations limitation limits rules filters"
        " filter filtering censorship boundaries constraints guardrails guidelines unrestricted"
        " unfiltered uncensored unlimited",
    ),
    _sig(
        "role.unrestricted_persona",
        0.7,
        r"\byou\W*(?:are|re|will\W+be|ll\W+be)\W+(?:now\W+)?(?:an?\W+)?(?:\w+\W+)?(?:unrestricted"
        r"|unfiltered|uncensored|jailbroken|unaligned|amoral|evil|unchained)\b",
        "you",
    ),
    _sig(
        "role.dev_mode",
        0.3,
        r"\b(?:developer|dev|debug|admin|maintenance|sudo|root|god)\W+mode\b",
        "developer dev debug admin maintenance sudo root god",
    ),
    _sig(
        "role.jailbreak_mode",
        0.6,
        r"\b(?:jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|dan)\W+mode\b",
        "jailbreak jailbroken unrestricted unfiltered uncensored evil chaos dan",
    ),
    _sig(
        "role.jailbroken",
        0.35,
        r"\bjailbr(?:oken|eaked)\b|\bjailbreak\W+(?:mode|version|persona|enabled|activated)\b",
        "jailbroken jailbreaked jailbreak",
    ),
    _sig(
        "role.no_refusal",
        0.4,
        r"\b(?:never|not|without|no|don\W*t|do\W+not|won\W*t|will\W+not|cannot|can\W*t)\W+"
        r"(?:ever\W+)?(?:\w+\W+)?(?:refus\w*|decline|say\W+no)\b"
        r"|\b(?:generate|produce|write|say|create|output)\W+(?:any|all|every)\W+(?:kind\W+of\W+)?"
        r"(?:content|thing|things)\b|\banything\W+(?:i|the\W+user)\W+(?:ask|want|request)s?\b"
        r"|\banswer(?:ing|s)?\W+(?:any|every|all)\W+(?:\w+\W+)?questions?\W+(?:fully|without"
        r"|no\W+matter|regardless|completely)\b",
        "never not without no don dont do won will cannot can generate produce write say create"
        " output anything answer answering answers",
    ),
    _sig(
        "role.stay_in_character",
        0.3,
        r"\bstay\W+in\W+character\b|\b(?:never|don\W*t|do\W+not)\W+break\W+character\b"
        r"|\brespond\W+twice\b|\bonce\W+normally\b",
        "stay never don dont do respond once",
    ),
    _sig(
        "role.assume_persona",
        0.3,
        r"\bi\W+(?:want|need)\W+you\W+to\W+(?:become|be|turn\W+into|transform\W+into|switch\W+to)\b"
        r"|\bswitch\W+(?:personas?|characters?|roles?)\b|\byou\W*(?:are|re)\W+(?:now\W+)?an?\W+"
        r"(?:\w+\W+)?(?:ai|assistant|model|chatbot|version)(?=\W+(?:that|who|which|with|without)\b)",
        "i switch you",
    ),
    _sig(
        "role.pretend",
        0.3,
        r"\b(?:pretend|imagine|suppose)\W+(?:that\W+)?you\W*(?:are|re|have|ve|were|had)\b"
        r"|\b(?:roleplay|role\W+play)\W+as\b",
        "pretend imagine suppose roleplay role",
    ),
    _sig(
        "role.fake_authority",
        0.35,
        r"\b(?:the\W+)?user\W+(?:is|has\W+been)\W+(?:now\W+)?(?:authori[sz]ed|allowed|permitted"
        r"|cleared|verified|an?\W+admin\w*)\b|\b(?:has|have|with)\W+admin(?:istrator)?\W+"
        r"(?:clearance|access|privileges|rights)\b|\bi\W*(?:am|m)\W+(?:the|your|an?)\W+"
        r"(?:developer|admin\w*|creator|owner|operator|programmer)\b|\b(?:message|note|order"
        r"|command)\W+from\W+(?:the\W+|your\W+)?(?:admin\w*|developers?|system|openai|anthropic)\b",
        "user has have with i message note order command",
    ),
    _sig(
        "target.secrets",
        0.3,
        r"\b(?:admin(?:istrator)?|root|master)\W+password\b|\b(?:windows|activation|license"
        r"|licence|product|serial)\W+keys?\b|\bpasswords?\W+(?:stored|saved|in\W+your)\b",
        "admin administrator root master windows activation license licence product serial"
        " password passwords",
    ),
    # --- system prompt exfiltration
    _sig(
        "exfil.reveal_prompt",
        0.8,
        rf"\b{_REVEAL}\W+(?:(?:me|us|back|out|to\W+me)\W+)?(?:\w+\W+){{0,5}}?your\W+"
        rf"(?:\w+\W+){{0,2}}?{_PROMPT_NOUN}\b(?!\W+(?:engineering|writing|design|template"
        r"|library|ideas?|tips)\b)",
        _REVEAL_ANCHORS,
    ),
    _sig(
        "exfil.reveal_prompt",
        0.75,
        rf"\b{_REVEAL}\W+(?:(?:me|us)\W+)?(?:\w+\W+){{0,3}}?(?:the|any|all)\W+(?:hidden|secret"
        r"|internal|confidential|private|initial)\W+(?:\w+\W+)?(?:prompt|instructions|rules"
        r"|directives|guidelines|configuration|notes)\b",
        _REVEAL_ANCHORS,
    ),
    _sig(
        "exfil.reveal_system_prompt",
        0.55,
        rf"\b{_REVEAL}\W+(?:(?:me|us)\W+)?(?:\w+\W+){{0,3}}?the\W+(?:\w+\W+)?(?:system\W+"
        r"(?:prompt|message|instructions)|pre\W?prompt|context\W+window)\b",
        _REVEAL_ANCHORS,
    ),
    _sig(
        "exfil.repeat_above",
        0.6,
        r"\b(?:repeat|print|output|copy|show|display|write|echo|return|reproduce|recite|paste"
        r"|dump|type)\W+(?:\w+\W+){0,2}?(?:everything|all|text|words|content|prompt"
        r"|instructions|messages?|lines?)\W+(?:\w+\W+)?(?:above|preceding|before\W+this"
        r"|prior\W+to\W+this)\b",
        "repeat print output copy show display write echo return reproduce recite paste dump type",
    ),
    _sig(
        "exfil.starting_with_you_are",
        0.6,
        rf"\b(?:starting|begin(?:ning)?)\W+(?:with|from)\W+{_QUOTE_MARK}?you\W+are\b",
        "starting begin beginning",
    ),
    _sig(
        "exfil.given_instructions",
        0.5,
        r"\b(?:instructions?|prompt|rules|message|guidelines|directives|text)\W+(?:that\W+)?"
        r"you\W+(?:were|have\W+been|ve\W+been|got|received)\W+(?:\w+\W+)?(?:given|told|provided"
        r"|programmed|configured|initiali[sz]ed)\b|\b(?:instructions?|rules)\W+(?:that\W+)?"
        r"(?:define|govern|control|shape)\W+your\W+(?:behaviou?r|responses|personality)\b",
        "instruction instructions prompt rules message guidelines directives text",
    ),
    _sig(
        "exfil.configured_you",
        0.6,
        r"\b(?:instructions|prompt|rules|guidelines)\b(?:\W+\w+){0,4}?\W+(?:configured|programmed"
        r"|set\W+up|initiali[sz]ed|primed|instructed|briefed)\W+you\b|\byou\W+(?:were|have\W+been"
        r"|ve\W+been)\W+(?:configured|programmed|set\W+up|initiali[sz]ed|primed|briefed)\W+with\b",
        "instructions prompt rules guidelines you",
    ),
    _sig(
        "exfil.before_my_message",
        0.6,
        r"\b(?:instructions|text|prompt|messages?|everything|words|content)\W+(?:that\W+)?"
        r"(?:came|comes|appear\w*|(?:was|were|is|are)\W+(?:written|placed|put|sent|given))\W+"
        r"(?:\w+\W+)?(?:before|above|prior\W+to)\W+(?:my|this|the\W+user\W*s?|our)\W+"
        r"(?:\w+\W+)?(?:message|question|request|conversation|chat|input)"
        r"|\bat\W+the\W+(?:very\W+)?(?:beginning|start|top)\W+of\W+(?:your|this)\W+(?:context"
        r"|conversation|prompt|chat|instructions|context\W+window)\b",
        "instructions text prompt message messages everything words content at",
    ),
    _sig(
        "exfil.kept_secret",
        0.45,
        r"\b(?:told|asked|instructed|supposed|meant|programmed)\W+(?:\w+\W+)?to\W+keep\W+"
        r"(?:\w+\W+)?(?:secret|confidential|hidden|private)\b",
        "told asked instructed supposed meant programmed",
    ),
    _sig(
        "exfil.operator_wrote",
        0.35,
        r"\bwhat\W+(?:the\W+|your\W+)?(?:operators?|developers?|admins?|administrators?|company"
        r"|creators?|owners?|system)\W+(?:wrote|said|put|told\W+you|instructed|gave\W+you)\b",
        "what",
    ),
    _sig(
        "exfil.your_prompt",
        0.4,
        r"\byour\W+(?:system\W+(?:prompt|message|instructions)|hidden\W+(?:instructions|prompt"
        r"|rules)|initial\W+(?:instructions|prompt)|pre\W?prompt|original\W+(?:prompt|instructions)"
        r"|secret\W+(?:instructions|prompt|rules))\b",
        "your",
    ),
    _sig(
        "exfil.verbatim",
        0.25,
        r"\bverbatim\b|\bword\W+for\W+word\b|\bletter\W+by\W+letter\b"
        r"|\b(?:quote|repeat|copy|reproduce)\W+(?:it|them|that|this)\W+(?:exactly|in\W+full|fully)\b",
        "verbatim word letter quote repeat copy reproduce",
    ),
    _sig(
        "exfil.assistant_voice",
        0.5,
        r"\bi\W+(?:will|ll|am\W+going\W+to|shall)\W+(?:now\W+)?(?:reveal|print|share|show|output"
        r"|disclose|leak)\W+my\W+(?:\w+\W+)?(?:system\W+prompt|prompt|instructions|rules)\b",
        "i",
    ),
    # --- delimiter / format injection
    _sig(
        "delimiter.chat_template",
        0.75,
        r"<\|(?:im_start|start_header_id)\|>\s*(?:system|assistant)\b|<\|(?:system|assistant)\|>",
        always=True,
        quotable=False,
    ),
    _sig(
        "delimiter.special_token",
        0.35,
        r"<\|[a-z_]{2,24}\|>",
        always=True,
        quotable=False,
    ),
    _sig("delimiter.inst_tags", 0.4, r"\[/?inst\]", "inst", quotable=False, leading=False),
    _sig("delimiter.sys_tags", 0.45, r"<</?sys>>", "sys", quotable=False, leading=False),
    _sig("delimiter.sequence_tokens", 0.45, r"</s>\s*<s>", "s", quotable=False, leading=False),
    _sig(
        "delimiter.role_header",
        0.5,
        r"(?m)^[ \t]*(?:#{1,6}|\*\*|={2,}|-{2,})[ \t]*(?:system|admin|developer)(?:[ \t]+"
        r"(?:message|prompt|note|override|instructions?|update|command|alert|mode))?\b"
        r"|<(?:system|sys)(?:_prompt|_message)?>|\[(?:system|admin)(?:\s+(?:note|message"
        r"|override|instruction))?\s*[\]:]",
        "system sys admin developer",
        quotable=False,
        leading=False,
        needs=("#", "**", "==", "--", "<sys", "[system", "[admin"),
    ),
    _sig(
        "delimiter.bare_role",
        0.3,
        r"(?m)^[ \t]*(?:system|admin)[ \t]*:",
        "system admin",
        quotable=False,
        leading=False,
        needs=(":",),
    ),
    _sig(
        "delimiter.fake_turns",
        0.4,
        r"\b(?:human|user)[ \t]*:[\s\S]{0,600}?\b(?:assistant|ai|gpt|model|system)[ \t]*:"
        r"|\b(?:assistant|ai|gpt|model|system)[ \t]*:[\s\S]{0,600}?\b(?:human|user)[ \t]*:",
        "human user assistant ai gpt model system",
        quotable=False,
    ),
    _sig(
        "delimiter.role_key",
        0.45,
        r"[\"']?\brole[\"']?\s*[:=]\s*[\"']?system\b",
        "role",
        quotable=False,
    ),
    _sig(
        "delimiter.end_marker",
        0.4,
        r"\b(?:end|close)\W+of\W+(?:the\W+)?(?:user\W+)?(?:input|message|prompt|query|document"
        r"|context|conversation|instructions|data)\b|</(?:user_?input|user|input|context"
        r"|document|query|data|instructions|prompt)>",
        "end close user input context document query data instructions prompt",
        quotable=False,
        leading=False,
        needs=("</", "of"),
    ),
    # --- tool and data exfiltration
    _sig(
        "exfil.send_data",
        0.75,
        rf"\b{_SEND}\W+(?:\w+\W+){{0,6}}?{_PRIVATE}\b(?:\W+\w+){{0,4}}?\W+(?:to|via|into|at"
        rf"|using|with)\W+(?:\w+\W+){{0,4}}?{_DESTINATION}",
        _SEND_ANCHORS,
    ),
    _sig(
        "exfil.send_data",
        0.7,
        rf"\b{_PRIVATE}\b(?:\W+\w+){{0,8}}?\W+{_SEND}\W+(?:them|it|this|that|everything|all)\W+"
        rf"(?:\w+\W+)?(?:to|via|into|at)\W+(?:\w+\W+){{0,3}}?{_DESTINATION}",
        _SEND_ANCHORS,
        leading=False,
        needs=_DESTINATION_NEEDS,
    ),
    _sig(
        "exfil.templated_url",
        0.7,
        r"(?:https?:)?//[^\s)\"']{1,300}[?&][\w-]{1,30}=\s*[<{\[]\s*(?:the\W+|all\W+|your\W+)?"
        r"(?:\w+\W+){0,3}?(?:conversation|chat|history|messages?|secrets?|passwords?|api\W*keys?"
        r"|system\W*prompt|user|e\W?mail|summary|data|tokens?|credentials)",
        "http https",
    ),
    _sig(
        "exfil.embed_in_url",
        0.65,
        r"\b(?:append|add|attach|include|insert|embed|encode|put|concatenate|fill\W+in)\W+"
        rf"(?:\w+\W+){{0,5}}?(?:{_PRIVATE}|summary|answer|response|blank)\b(?:\W+\w+){{0,9}}?\W+"
        r"(?:url|link|query|parameter|param|image|querystring|https?://)",
        "append add attach include insert embed encode put concatenate fill",
    ),
    _sig(
        "exfil.markdown_image",
        0.7,
        r"!\[[^\]\n]{0,100}\]\(\s*(?:https?:)?//[^\s)]{0,300}[?&][\w-]{1,30}="
        r"(?:[^\s)&]{0,100}(?:\{|%7b|<|\[|\$|_{3,})|(?=[\s)&]))",
        "http https",
        leading=False,
    ),
    _sig(
        "exfil.url_slot",
        0.35,
        r"https?://[^\s)\"']{1,300}[?&][\w-]{1,30}=(?:\{|%7b|<|\[|_{2,}|(?=[\s)\"']|$))",
        "http https",
    ),
    _sig(
        "exfil.tool_call",
        0.3,
        r"\b(?:call|use|invoke|run|trigger|execute)\W+(?:the\W+)?(?:\w+\W+)?(?:tool|function"
        r"|plugin|browser|fetch|http|curl|webhook)\b",
        "call use invoke run trigger execute",
    ),
    _sig(
        "exfil.secrets_you_hold",
        0.45,
        r"\b(?:any|all|the|every)\W+(?:\w+\W+)?(?:credentials|passwords?|secrets?|tokens?"
        r"|api\W+keys?|keys)\W+(?:\w+\W+)?you\W+(?:have\W+|ve\W+)?(?:seen|know|have|found|stored"
        r"|remember|can\W+(?:see|access|find))\b|\b(?:credentials|passwords?|secrets?|tokens?"
        r"|api\W+keys?)\W+(?:(?:stored|saved|kept|held)\W+in|in|from)\W+your\W+(?:context|memory"
        r"|prompt|instructions|system|conversation|configuration|environment)\b",
        "any all the every credentials password passwords secret secrets token tokens api",
    ),
    _sig(
        "exec.pipe_to_shell",
        0.4,
        r"\b(?:curl|wget)\b[^|\n]{0,200}\|\s*(?:sudo\s+)?(?:ba|z)?sh\b",
        "curl wget",
    ),
    # --- indirect injection inside documents
    _sig(
        "indirect.address_ai",
        0.6,
        r"\b(?:note|notes|message|instructions?|directions?|directive|attention|reminder|memo"
        r"|footnote|comment|addendum|aside|notice|hint|tip|p\W?s)\W+"
        rf"(?:\w+\W+)?(?:to|for)\W+(?:the\W+|any\W+|all\W+|every\W+)?{_AI}\b"
        rf"|\b{_AI}\W+(?:instructions?|directives?|notes?|commands?|orders?)\s*:"
        rf"|\b{_AI}\W+(?:\w+\W+)?(?:reading|processing|parsing|summari[sz]ing|analy[sz]ing"
        r"|reviewing|scanning|crawling|indexing|(?:that|who|which)\W+(?:is\W+)?(?:reads?|reading"
        r"|process(?:es)?|processing|summari[sz]es|summari[sz]ing|parses|parsing|sees|analy[sz]es"
        r"|reviews))\W+(?:\w+\W+){0,2}?(?:this|these|it|the\W+following)\b"
        r"|\b(?:reading|processing|parsing|summari[sz]ing)\W+this\W+(?:\w+\W+)?as\W+an?\W+"
        rf"(?:\w+\W+)?{_AI}\b",
        _AI_ANCHORS + " note notes message instruction instructions directions directive"
        " attention reminder memo footnote comment addendum aside notice hint tip p ps reading"
        " processing parsing summarizing summarising",
    ),
    _sig(
        "indirect.vocative",
        0.4,
        rf"(?:(?<=^)|(?<=[\n.!?:;(\[\->\"'“])|(?<=[\n.!?:;(\[\->\"'“]\s)|(?<=\bps\s)|(?<=\bp\.s\.\s))"
        rf"{_AI}\s*[:,]\s*(?=\w)"
        rf"|\b(?:attention|hey|hello|dear)\W+{_AI}\s*[:,]\s*(?=\w)",
        _AI_ANCHORS + " attention hey hello dear",
    ),
    _sig(
        "indirect.if_you_are_ai",
        0.55,
        rf"\bif\W+you\W*(?:are|re)\W+(?:an?\W+|the\W+)?(?:\w+\W+)?{_AI}\b",
        "if",
    ),
    _sig(
        "indirect.when_processing",
        0.45,
        r"\b(?:when|while|if|before|after|as)\W+(?:you\W+(?:are\W+)?)?(?:summari[sz]\w*|process\w*"
        r"|read\w*|translat\w*|analy[sz]\w*|review\w*|pars\w*|index\w*)\W+(?:\w+\W+){0,2}?"
        r"(?:this|these|the\W+following)\W+(?:\w+\W+)?(?:document|email|e-mail|page|text|file"
        r"|article|message|content|website|site|pdf|resume|cv|review|thread|data|report|notes"
        r"|transcript|ticket|invoice|description|paper|post|comment|attachment|chapter|record)s?\b",
        "when while if before after as",
    ),
    _sig(
        "indirect.conceal",
        0.3,
        r"\b(?:do\W+not|don\W*t|never)\W+(?:mention|disclose|reveal|tell|inform)\b"
        r"(?!\W+(?:me|us|my|anyone\W+else)\b)",
        "do don dont never",
    ),
    _sig(
        "indirect.covert",
        0.45,
        r"\bwithout\W+(?:asking|telling|informing|notifying|alerting|confirming|mentioning)\b"
        r"(?:\W+\w+){0,3}?\W+(?:user|human|owner|reader|anyone|them)\b"
        r"|\b(?:quietly|silently|secretly|covertly)\W+(?:\w+\W+)?(?:send|upload|forward|post"
        r"|delete|run|execute|transfer|copy|add|include)\b",
        "without quietly silently secretly covertly",
    ),
    _sig(
        "indirect.tell_user",
        0.3,
        r"\b(?:tell|inform|convince|persuade|remind|warn)\W+(?:the|all|any)\W+(?:\w+\W+)?"
        r"(?:users?|readers?|customers?|recipients?|visitors?|humans?)\W+(?:that|to|this|it"
        r"|they|there)\b"
        r"|\b(?:state|claim|reply|respond)\W+that\b",
        "tell inform convince persuade remind warn state claim reply respond",
    ),
    _sig(
        "indirect.canned_answer",
        0.35,
        r"\bwhen(?:ever)?\W+(?:you\W*(?:are|re)\W+|anyone\W+(?:is\W+)?)?asked\W+(?:about|for|to|if"
        r"|whether)\b(?:\W+\w+){0,8}?\W+(?:say|respond|reply|answer|claim|state|tell)\b",
        "when whenever",
    ),
    _sig(
        "indirect.manipulate_judgement",
        0.3,
        r"\b(?:rate|rank|score|mark|classify|grade|label)\W+(?:\w+\W+){0,3}?as\W+(?:the\W+)?"
        r"(?:top|best|highest|spam|excellent|qualified|approved|safe|legitimate|paid)\b"
        r"|\bregardless\b",
        "rate rank score mark classify grade label regardless",
    ),
    # --- encoded payloads (the decoding itself happens in the detector)
    _sig(
        "encoded.decode_and_follow",
        0.45,
        r"\b(?:decod\w*|decipher\w*|convert\w*|interpret\w*|base64)\b(?:\W+\w+){0,12}?\W+"
        r"(?:follow|obey|execute|run|do|carry\W+out|comply|act\W+on|perform|apply)\b"
        r"|\b(?:follow|obey|execute|run|comply\W+with|carry\W+out|act\W+on)\b(?:\W+\w+){0,8}?"
        r"\W+(?:base64|encoded|decoded)\b"
        r"|\b(?:encoded|base64|decoded)\W+(?:\w+\W+){0,3}?(?:instructions?|commands?|orders?)\b",
        "decode decoded decoding decipher convert interpret base64 follow obey execute run comply"
        " carry act encoded",
    ),
)

# --------------------------------------------------------------------- other Latin-script languages
_OTHER_LATIN: tuple[Signal, ...] = (
    # Spanish
    _sig(
        "override.ignore_instructions:es",
        0.8,
        r"\b(?:ignora|ignore|ignoren|ignorar|olvida|olvide|olviden|olvidar|omite|omita|descarta"
        r"|descarte|desestima|haz\W+caso\W+omiso\W+(?:a|de)|no\W+(?:sigas|sigan|siga|obedezcas))"
        r"\W+(?:\w+\W+){0,3}?(?:instrucciones|indicaciones|reglas|ordenes|directrices|normas"
        r"|restricciones)\b",
        "ignora ignore ignoren ignorar olvida olvide olviden olvidar omite omita descarta"
        " descarte desestima haz no",
    ),
    _sig(
        "exfil.reveal_prompt:es",
        0.8,
        r"\b(?:revela|revelame|muestra|muestrame|imprime|dime|ensename|dame|comparte|repite"
        r"|escribe|cual\W+es|cuales\W+son)\W+(?:\w+\W+){0,2}?(?:tu|el|su|tus|sus|las|los)\W+"
        r"(?:\w+\W+)?(?:prompt|mensaje|instrucciones|indicaciones)\W+(?:\w+\W+)?(?:del?\W+sistema"
        r"|ocultas|secretas|iniciales|originales)\b",
        "revela revelame muestra muestrame imprime dime ensename dame comparte repite escribe"
        " cual cuales",
    ),
    _sig(
        "role.you_are_now:es",
        0.35,
        r"\b(?:ahora|a\W+partir\W+de\W+ahora|desde\W+ahora)\W+(?:tu\W+)?eres\b|\beres\W+ahora\b",
        "ahora a partir desde eres",
    ),
    _sig(
        "role.unrestricted:es",
        0.4,
        r"\bsin\W+(?:ningun[ao]?\W+|tus\W+|las\W+)?(?:restricciones|restriccion|limites"
        r"|limitaciones|filtros?|censura|reglas)\b",
        "sin",
    ),
    _sig("role.dev_mode:es", 0.3, r"\bmodo\W+(?:de\W+)?desarrollador\b", "modo"),
    # French
    _sig(
        "override.ignore_instructions:fr",
        0.8,
        r"\b(?:ignore[rsz]?|oublie[rsz]?|ne\W+(?:tiens|tenez)\W+pas\W+compte\W+(?:des?|du)"
        r"|ne\W+(?:suis|suivez)\W+pas|fais\W+abstraction\W+(?:des?|du)|laisse\W+tomber)\W+"
        r"(?:(?:toutes|tous|les|tes|vos|ses|mes|ces|des|la|le|l|de|d|nos)\W+){1,3}"
        r"(?:\w+\W+)?(?:instructions|consignes|regles|directives|ordres|indications"
        r"|commandes)\b",
        "ignore ignorer ignorez ignores oublie oublier oubliez oublies ne fais laisse",
    ),
    _sig(
        "exfil.reveal_prompt:fr",
        0.8,
        r"\b(?:revele[rsz]?|montre[rsz]?|affiche[rsz]?|donne[rsz]?|repete[rsz]?|dis|dites|ecris"
        r"|imprime|quel(?:le)?s?\W+(?:est|sont))(?:\W+moi)?\W+(?:\w+\W+){0,2}?(?:ton|ta|tes"
        r"|votre|vos|le|la|les)\W+(?:\w+\W+)?(?:prompt|message|instructions|consignes|invite)\W+"
        r"(?:\w+\W+)?(?:systeme|du\W+systeme|cachees|secretes|initiales|originales)\b",
        "revele reveler revelez reveles montre montrer montrez affiche afficher affichez donne"
        " donner donnez repete dis dites ecris imprime quel quelle quels quelles",
    ),
    _sig(
        "role.you_are_now:fr",
        0.35,
        r"\btu\W+es\W+(?:maintenant|desormais|a\W+present)\b|\bvous\W+etes\W+(?:maintenant"
        r"|desormais)\b|\ba\W+partir\W+de\W+maintenant\W+tu\W+es\b",
        "tu vous a",
    ),
    _sig(
        "role.unrestricted:fr",
        0.4,
        r"\bsans\W+(?:aucune?\W+)?(?:restrictions?|limites?|filtres?|censure|regles)\b",
        "sans",
    ),
    _sig("role.dev_mode:fr", 0.3, r"\bmode\W+(?:de\W+)?developpeur\b", "mode"),
    # German (ä/ö/ü lose their dots with the other accents)
    _sig(
        "override.ignore_instructions:de",
        0.8,
        r"\b(?:ignorier(?:e|en\W+sie)?|vergiss|vergessen\W+sie|missachte|missachten\W+sie"
        r"|uberspringe|befolge\W+nicht|setze\W+(?:\w+\W+){0,3}?ausser\W+kraft)\W+(?:\w+\W+){0,3}?"
        r"(?:anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|richtlinien"
        r"|systemanweisungen|anordnungen)\b",
        "ignoriere ignorier ignorieren vergiss vergessen missachte missachten uberspringe"
        " befolge setze",
    ),
    _sig(
        "exfil.reveal_prompt:de",
        0.8,
        r"\b(?:zeig|zeige|gib|verrate|nenne|nenn|drucke|wiederhole|schreib|schreibe|offenbare"
        r"|enthulle|was\W+(?:ist|sind))\W+(?:\w+\W+){0,2}?(?:deinen|dein|deine|den|die|ihre"
        r"|ihren)\W+(?:\w+\W+)?(?:system\W?prompt|systemanweisung(?:en)?|systemnachricht"
        r"|versteckten\W+anweisungen|geheimen\W+anweisungen|ursprunglichen\W+anweisungen)\b",
        "zeig zeige gib verrate nenne nenn drucke wiederhole schreib schreibe offenbare enthulle"
        " was",
    ),
    _sig(
        "role.you_are_now:de",
        0.35,
        r"\bdu\W+bist\W+(?:jetzt|nun|ab\W+jetzt|ab\W+sofort|von\W+nun\W+an)\b"
        r"|\bab\W+(?:jetzt|sofort)\W+bist\W+du\b",
        "du ab",
    ),
    _sig(
        "role.unrestricted:de",
        0.4,
        r"\bohne\W+(?:jegliche\W+|irgendwelche\W+|alle\W+)?(?:einschrankungen|beschrankungen"
        r"|filter|zensur|regeln|grenzen)\b",
        "ohne",
    ),
    _sig("role.dev_mode:de", 0.3, r"\bentwicklermodus\b", "entwicklermodus"),
    # Italian
    _sig(
        "override.ignore_instructions:it",
        0.8,
        r"\b(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|non\W+seguire"
        r"|non\W+seguite|trascura|tralascia|scorda)\W+(?:\w+\W+){0,3}?(?:istruzioni|regole"
        r"|indicazioni|direttive|ordini|comandi|linee\W+guida)\b",
        "ignora ignorate ignori dimentica dimenticate dimentichi non trascura tralascia scorda",
    ),
    _sig(
        "exfil.reveal_prompt:it",
        0.8,
        r"\b(?:rivela|rivelami|mostra|mostrami|stampa|dimmi|dammi|ripeti|scrivi|qual\W+e)\W+"
        r"(?:\w+\W+){0,2}?(?:il|tuo|tuoi|le|i|la|tua|tue)\W+(?:\w+\W+)?(?:prompt|messaggio"
        r"|istruzioni)\W+(?:\w+\W+)?(?:di\W+sistema|del\W+sistema|nascoste|segrete|iniziali"
        r"|originali)\b",
        "rivela rivelami mostra mostrami stampa dimmi dammi ripeti scrivi qual",
    ),
    _sig(
        "role.you_are_now:it",
        0.35,
        r"\b(?:ora|adesso|da\W+ora\W+in\W+poi)\W+(?:tu\W+)?sei\b",
        "ora adesso da",
    ),
    _sig(
        "role.unrestricted:it",
        0.4,
        r"\bsenza\W+(?:alcuna?\W+|nessuna?\W+)?(?:restrizioni|limiti|filtri|filtro|censura"
        r"|regole)\b",
        "senza",
    ),
    _sig("role.dev_mode:it", 0.3, r"\bmodalita\W+(?:di\W+)?sviluppatore\b", "modalita"),
    # Portuguese
    _sig(
        "override.ignore_instructions:pt",
        0.8,
        r"\b(?:ignore|ignora|ignorem|esqueca|esquece|esquecam|desconsidere|desconsidera"
        r"|nao\W+siga|descarte)\W+(?:\w+\W+){0,3}?(?:instrucoes|regras|orientacoes|diretrizes"
        r"|ordens|comandos|indicacoes)\b",
        "ignore ignora ignorem esqueca esquece esquecam desconsidere desconsidera nao descarte",
    ),
    _sig(
        "exfil.reveal_prompt:pt",
        0.8,
        r"\b(?:revele|revela|mostre|mostra|imprima|diga|diz|repita|escreva|qual\W+e)\W+"
        r"(?:me\W+)?(?:\w+\W+){0,2}?(?:o|seu|sua|as|os|suas|seus|teu|tuas)\W+(?:\w+\W+)?"
        r"(?:prompt|mensagem|instrucoes)\W+(?:\w+\W+)?(?:do\W+sistema|de\W+sistema|ocultas"
        r"|secretas|iniciais|originais)\b",
        "revele revela mostre mostra imprima diga diz repita escreva qual",
    ),
    _sig(
        "role.you_are_now:pt",
        0.35,
        r"\b(?:agora|a\W+partir\W+de\W+agora|de\W+agora\W+em\W+diante)\W+(?:voce|tu)\W+(?:e|es)\b",
        "agora a de",
    ),
    _sig(
        "role.unrestricted:pt",
        0.4,
        r"\bsem\W+(?:nenhuma?\W+|qualquer\W+)?(?:restricoes|restricao|limites|filtros?|censura"
        r"|regras)\b",
        "sem",
    ),
    _sig("role.dev_mode:pt", 0.3, r"\bmodo\W+(?:de\W+)?desenvolvedor\b", "modo"),
    # Dutch
    _sig(
        "override.ignore_instructions:nl",
        0.8,
        r"\b(?:negeer|vergeet|negeren|volg\W+niet|let\W+niet\W+op)\W+(?:\w+\W+){0,3}?"
        r"(?:instructies|opdrachten|regels|richtlijnen|aanwijzingen|commando\W?s|voorschriften)\b",
        "negeer vergeet negeren volg let",
    ),
    _sig(
        "exfil.reveal_prompt:nl",
        0.8,
        r"\b(?:toon|laat|geef|onthul|print|herhaal|vertel|schrijf|wat\W+is|wat\W+zijn)\W+"
        r"(?:\w+\W+){0,2}?(?:je|jouw|de|uw)\W+(?:\w+\W+)?(?:systeemprompt|systeem\W+prompt"
        r"|systeembericht|systeeminstructies|verborgen\W+instructies|geheime\W+instructies"
        r"|oorspronkelijke\W+instructies)\b",
        "toon laat geef onthul print herhaal vertel schrijf wat",
    ),
    _sig(
        "role.you_are_now:nl",
        0.35,
        r"\b(?:je|jij|u)\W+bent\W+nu\b|\bvanaf\W+nu\W+ben\W+(?:je|jij)\b",
        "je jij u vanaf",
    ),
    _sig(
        "role.unrestricted:nl",
        0.4,
        r"\bzonder\W+(?:enige\W+)?(?:beperkingen|grenzen|filters?|censuur|regels)\b",
        "zonder",
    ),
    _sig("role.dev_mode:nl", 0.3, r"\bontwikkel(?:aars)?modus\b", "ontwikkelaarsmodus"),
)

# --------------------------------------------------------------------- Cyrillic and CJK
_NATIVE: tuple[Signal, ...] = (
    # Russian
    _sig(
        "override.ignore_instructions:ru",
        0.8,
        r"(?:игнорируй|игнорируйте|игнорировать|забудь|забудьте|не\W+обращай\W+внимания\W+на"
        r"|не\W+следуй|отбрось|пренебреги)\W+(?:\w+\W+){0,3}?(?:инструкци\w*|указани\w*"
        r"|правил\w*|команд\w*|директив\w*|ограничени\w*)",
        "игнорируй игнорируйте игнорировать забудь забудьте не отбрось пренебреги",
        script="native",
    ),
    _sig(
        "exfil.reveal_prompt:ru",
        0.8,
        r"(?:покажи|раскрой|выведи|напечатай|скажи|назови|повтори|расскажи|дай)\W+(?:мне\W+)?"
        r"(?:\w+\W+){0,2}?(?:свой|твой|свои|твои|системн\w*)\W+(?:\w+\W+)?(?:промпт\w*"
        r"|инструкци\w*|подсказк\w*|сообщени\w*)",
        "покажи раскрой выведи напечатай скажи назови повтори расскажи дай",
        script="native",
    ),
    _sig(
        "role.you_are_now:ru",
        0.35,
        r"\bтеперь\W+ты\b|\bты\W+теперь\b|\bотныне\W+ты\b|\bс\W+этого\W+момента\W+ты\b",
        "теперь ты отныне с",
        script="native",
    ),
    _sig(
        "role.unrestricted:ru",
        0.4,
        r"\bбез\W+(?:каких\W+либо\W+|всяких\W+|любых\W+)?(?:ограничений|фильтров|цензуры|правил)"
        r"|\bнет\W+(?:\w+\W+)?ограничений",
        "без нет",
        script="native",
    ),
    _sig("role.dev_mode:ru", 0.3, r"режим\W+разработчика", "режим", script="native"),
    # Chinese
    _sig(
        "override.ignore_instructions:zh",
        0.8,
        r"(?:忽略|无视|忽视|忘记|忘掉|不要理会|不要遵守|不要遵循|跳过)(?:掉)?(?:之前|以前|先前|上面"
        r"|上述|前面|此前|以上|你的|所有|全部|一切)?(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示"
        r"|说明|提示|规则|要求|设定|命令|限制)",
        script="native",
    ),
    _sig(
        "exfil.reveal_prompt:zh",
        0.8,
        r"(?:显示|展示|告诉我|输出|泄露|打印|透露|给我看|说出|重复)(?:一下)?(?:你的|你)?"
        r"(?:系统提示词?|系统指令|系统消息|隐藏(?:的)?指令|初始指令|提示词)",
        script="native",
    ),
    _sig(
        "role.you_are_now:zh",
        0.35,
        r"你现在是|从现在(?:开始|起)[，,]?你(?:是|将|要)",
        script="native",
    ),
    _sig(
        "role.unrestricted:zh", 0.4, r"没有(?:任何)?限制|不受(?:任何)?限制|无限制", script="native"
    ),
    _sig("role.dev_mode:zh", 0.3, r"开发者模式", script="native"),
    # Japanese
    _sig(
        "override.ignore_instructions:ja",
        0.8,
        r"(?:以前|前|上記|これまで|先ほど|最初|元)の(?:すべての|全ての)?(?:指示|命令|指令|ルール"
        r"|設定|プロンプト)(?:を|は)(?:すべて|全て)?(?:無視|忘れ)|(?:指示|命令|指令|ルール)を"
        r"(?:すべて|全て)?無視",
        script="native",
    ),
    _sig(
        "exfil.reveal_prompt:ja",
        0.8,
        r"(?:システムプロンプト|システムメッセージ|隠された指示|初期指示)を(?:表示|教え|見せ|出力"
        r"|開示|印刷|繰り返)",
        script="native",
    ),
    _sig(
        "role.you_are_now:ja",
        0.35,
        r"あなたは今から|今からあなたは|これからあなたは|あなたはこれから",
        script="native",
    ),
    _sig(
        "role.unrestricted:ja", 0.4, r"制限(?:の)?(?:ない|なし|なく|を解除)|無制限", script="native"
    ),
    _sig("role.dev_mode:ja", 0.3, r"開発者モード", script="native"),
)

SIGNALS: tuple[Signal, ...] = _ENGLISH + _OTHER_LATIN + _NATIVE

# Fixed weights for signals the detector raises itself rather than by pattern.
OBFUSCATION_WEIGHTS: dict[str, float] = {
    "obfuscation.zero_width": 0.3,
    "obfuscation.homoglyph": 0.3,
    "obfuscation.leet": 0.35,
    "obfuscation.spaced": 0.35,
    "obfuscation.hidden_tags": 0.6,
}
BASE64_TEXT_WEIGHT = 0.2  # readable text hidden in base64, on its own unremarkable
BASE64_PAYLOAD_BASE = 0.5  # base64 that decodes to something that itself raises signals

# A quoted attack phrase inside text that talks *about* attacks is an example, not
# an instruction: such matches count for a fraction of their weight.
QUOTED_DISCOUNT = 0.35
DISCUSSION = re.compile(
    r"\b(?:prompt\W+injections?|injections?|jailbreak\w*|attack\w*|red\W?team\w*|adversarial"
    r"|malicious|mitigat\w+|defen[cs]\w+|detect\w*|filters?|filtering|classifiers?|security"
    r"|owasp|exploits?|examples?|phrases?|payloads?|researchers?|threats?|trends?|memes?"
    r"|jokes?|viral|means?|meaning|explain\w*)\b"
)
# A quote mark at the start or after a space, colon or bracket, or an opening mark
# anywhere. Led by the class of quote marks, so the regex engine skips to them (an
# alternation led by ``^`` is tried at every character: four times slower).
QUOTE_BEFORE = re.compile(rf"{_QUOTE_MARK}(?:(?<=[“‘«「])|(?<![^\s:(\[].))")

WORD_PREFIX = re.compile(rf"\b\w{{1,{ANCHOR_LEN}}}")
