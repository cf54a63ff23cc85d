"""English: how people ask a business to stop texting them, and what only looks like it."""

from __future__ import annotations

from .grammar import LAUGHING_EMOJI, Grammar, Rule, pattern, spelling

# What a request can name as the thing to stop.
MSG = r"""(?:text\s+messages?|texts?|txts?|messages?|msgs?|sms|notifications?|alerts?|reminders?
    |promotions?|promos?|ads|adverts?|offers|updates|spam|communications?|emails?|marketing)"""
# Words allowed between a verb and that thing ("cancel all text alerts").
DET = r"""(?:text|sms|marketing|promotional|spam|automated|daily|weekly|these|those|your|ur|the
    |all|any|this|my|more|further|such|of|another)"""
SENDING = r"""(?:texting|txting|texing|messaging|msging|msgng|sending|contacting|spamming
    |bothering|harassing|calling|writing|emailing|bugging
    |(?:hitting|blowing)\s+(?:me|my\s+(?:phone|cell))\s+up|(?:hitting|blowing)\s+up\s+my\s+(?:phone|cell))"""
POLITE = r"""(?:please|pls|plz|now|already|it|them|these|this|all|just|right\s+now|seriously
    |immediately|asap|stop|thanks|thank\s+you|thx|ok|okay|for\s+real)"""

GRAMMAR = Grammar(
    language="en",
    rules=(
        Rule(
            "stop + a sending verb",
            pattern(
                rf"""\b(?:stop|quit|cease|refrain\s+from|desist\s+from|cease\s+and\s+desist(?:\s+from)?)
                \s+(?:(?:all|just|fucking|freaking|effing|damn|bloody
                |the|your|calling\s+and|emailing\s+and|texting\s+and)\s+)*{SENDING}\b"""
            ),
        ),
        Rule(
            "stop + receiving messages",
            pattern(rf"\b(?:stop|quit)\s+(?:getting|receiving)\s+(?:{DET}\s+)*{MSG}\b"),
        ),
        Rule(
            "'if you stopped' + a sending verb",
            pattern(
                rf"\bif\s+(?:you|u|y'all)\s+(?:would\s+|could\s+|please\s+)?(?:stopped|quit)\s+{SENDING}\b"
            ),
        ),
        Rule(
            "stop/cancel/end + messages",
            pattern(
                rf"""\b(?:stop|quit|end|cancel|cease|halt|discontinue|terminate)\s+(?:it\s+)?(?:with\s+)?
                (?:{DET}\s+)*(?:{MSG}|subscription|texting)\b"""
            ),
        ),
        Rule(
            "messages that must stop",
            pattern(
                rf"""\b(?:{DET}\s+)+(?:\w+\s+)?{MSG}\s+(?:need\s+to|needs\s+to|have\s+to|has\s+to
                |must|gotta|should|got\s+to|to)\s+(?:stop|end|cease)\b"""
            ),
        ),
        Rule(
            "'I have asked you to stop'",
            pattern(
                r"""\bi(?:'ve|\s+have|ve)?\s+(?:already\s+|repeatedly\s+|just\s+)?(?:asked|told)
                \s+(?:you|u|y'all)\s+(?:\w+\s+){0,3}?to\s+(?:stop|unsubscribe|remove|quit)\b"""
            ),
        ),
        Rule(
            "'how many times must I say stop'",
            pattern(
                r"""\bhow\s+many\s+times\s+(?:do|must|should|will|have|did)\s+i\s+
                (?:have\s+to\s+|need\s+to\s+|got\s+to\s+|gotta\s+)?
                (?:say|tell\s+(?:you|u)|text|ask|write|reply|type)\s+(?:(?:you\s+)?to\s+)?
                (?:stop|unsubscribe|no)\b"""
            ),
        ),
        Rule(
            "revoking consent",
            pattern(
                r"""\b(?:revoke|revoking|withdraw|withdrawing|rescind|retract)\s+
                (?:(?:my|all|any)\s+)*(?:consent|permission|authorization)\b"""
            ),
        ),
        Rule(
            "'I do not consent to' messages",
            pattern(
                rf"""\bi\s+(?:do\s+not|don't|dont|no\s+longer)\s+(?:consent|agree)\s+to\s+
                (?:{DET}\s+)*(?:{MSG}|receiving|being|be)\b"""
            ),
            negatable=False,
        ),
        Rule("unsubscribe", pattern(r"\bunsub(?:scribe)?\b"), scoped=True),
        Rule(
            "opt out",
            pattern(
                r"\b(?:opt|opting)\s+(?:me\s+|us\s+|this\s+number\s+|my\s+number\s+)?out\b|\boptout\b"
            ),
            scoped=True,
        ),
        Rule(
            "take/remove me or my number",
            pattern(
                r"""\b(?:take|remove|delete|erase|get|lose|scratch)\s+
                (?:me|us|my\s+(?:phone\s+|cell\s+)?(?:number|\#)|this\s+(?:phone\s+|cell\s+)?number
                |my\s+(?:contact\s+)?(?:info|information|details)|my\s+name)
                (?=\s*$|\s+(?:from|off|out\s+of|please|pls|plz|now|thanks|thank\s+you|asap|and
                |immediately|too|already)\b)"""
            ),
            scoped=True,
        ),
        Rule(
            "remove from the list",
            pattern(
                rf"""\b(?:remove|take|delete|get|unsubscribe|erase)\s+(?:me\s+|us\s+|my\s+number\s+
                |this\s+number\s+|it\s+)?(?:from|off|out\s+of)\s+(?:{DET}\s+)*
                (?:(?:mailing|texting|text|sms|contact|messaging|marketing|call|calling|distribution
                |subscriber|broadcast)\s+)?(?:list|lists|database|system|records)\b"""
            ),
        ),
        Rule(
            "my number removed",
            pattern(
                r"\bmy\s+(?:phone\s+|cell\s+)?number\s+(?:removed|taken\s+off|deleted|erased)\b"
            ),
            scoped=True,
        ),
        Rule(
            "to be removed or unsubscribed",
            pattern(
                r"\b(?:be|get|been|being)\s+(?:removed|taken\s+off|deleted|unsubscribed|opted\s+out)\b"
            ),
            scoped=True,
        ),
        Rule(
            "no more messages",
            pattern(
                rf"""\bno\s+more\s+(?:(?:text|sms|marketing|promotional|spam|automated)\s+)?
                (?:{MSG}|texting|messaging|please|pls|plz)\b"""
            ),
            negatable=False,
        ),
        Rule(
            "don't text me",
            pattern(
                rf"""\b(?:don't|dont|do\s+not|never)\s+(?:ever\s+)?
                (?:text|txt|message|msg|contact|send|sms|email|bother|spam|write)(?:\s+to)?
                \s+(?:me|this\s+number|us|my\s+number|here)
                (?=\s*$|\s+(?:again|anymore|any\s*more|ever|please|pls|thanks|thank\s+you|any|more
                |these|those|such|at\s+all|anything|nothing|{MSG})\b)"""
            ),
            negatable=False,
        ),
        Rule(
            "don't send any more messages",
            pattern(
                rf"""\b(?:don't|dont|do\s+not|never|stop)\s+(?:ever\s+)?(?:send|sending|text|texting)
                \s+(?:me\s+|us\s+)?(?:any\s*more|more|another|any\s+further|further)\s+{MSG}\b"""
            ),
            negatable=False,
        ),
        Rule(
            "don't want to hear from you",
            pattern(
                r"""\b(?:don't|dont|do\s+not|never)\s+(?:want|wish|need)\s+to\s+(?:ever\s+)?hear\s+from
                \s+(?:you|u|y'all|this\s+number|your\s+\w+)\b"""
            ),
            negatable=False,
        ),
        Rule(
            "no longer interested in messages",
            pattern(
                rf"""\b(?:not|no\s+longer)\s+interested\s+in\s+(?:(?:receiving|getting)\s+)?
                (?:{DET}\s+)*{MSG}\b"""
            ),
            negatable=False,
        ),
        Rule(
            "would rather not get messages",
            pattern(
                rf"\b(?:rather|prefer)\s+not\s+(?:to\s+)?(?:receive|get|see)\s+(?:{DET}\s+)*{MSG}\b"
            ),
            negatable=False,
        ),
        Rule(
            "don't want messages",
            pattern(
                rf"""\b(?:don't|dont|do\s+not|no\s+longer|never)\s+(?:want|wish|need|wanna|like)
                (?:\s+to)?(?:\s+(?:receive|get|see|be\s+sent|keep\s+getting|keep\s+receiving))?
                \s+(?:{DET}\s+)*{MSG}\b"""
            ),
            negatable=False,
        ),
        Rule("leave me alone", pattern(r"\bleave\s+(?:me|us|this\s+number)\s+alone\b")),
        Rule(
            "wanting out / done with messages",
            pattern(
                rf"""\bi\s+(?:want|wanna|would\s+like|'d\s+like|d\s+like)\s+out\b
                |\bi\s+(?:want|wanna|would\s+like|'d\s+like|d\s+like)\s+(?:to\s+(?:get|be)\s+)?off\s+
                (?:{DET}\s+)*(?:\w+\s+)?list\b
                |\b(?:i'm|im|i\s+am)\s+done\s+with\s+(?:{DET}\s+)*{MSG}\b
                |\benough\s+(?:with\s+|of\s+)?(?:{DET}\s+)*{MSG}\b"""
            ),
        ),
        Rule(
            "a clause that is only 'stop'",
            pattern(rf"^\W*(?:{POLITE}\W*)*(?:stop|remove|unsubscribe)\b\W*(?:{POLITE}\W*)*$"),
            bare=True,
        ),
    ),
    negation=pattern(
        r"""\b(?:don't|dont|do\s+not|does\s+not|doesn't|doesnt|didn't|didnt|did\s+not|never|not
        |can't|cant|cannot|can\s+not|won't|wont|will\s+not|wouldn't|shouldn't|no\s+need\s+to|no
        |(?:i'd|i\s+would|i)\s+hate)
        \s+(?:(?:want|wanna|need|to|me|you|u|please|pls|ever|going|gonna|just|really|ask|asked
        |be|get|let|have)\s+)*$"""
    ),
    reported=pattern(
        r"""\b(?:(?:he|she|they|someone|somebody|(?:my|his|her|their)\s+\w+(?:\s+\w+)?)
            \s+(?:\w+\s+)?(?:said|says|saying|texted|texts|wrote|writes|replied|replies|typed|sent
            |told|asked)
        |(?:tell|told|ask|asked)\s+(?:him|her|them|my\s+\w+)
        |(?:if|when|what\s+if|what\s+happens\s+if)\s+(?:i|we|you)\s+(?:\w+\s+)?
            (?:text|reply|send|say|type|write|respond|hit))\b
        |\b(?:if|what\s+if|when|whether|once|unless)\s+(?:i|we)\s+(?:\w+\s+)?$"""
    ),
    conditional=pattern(r"^(?:what\s+)?(?:if|when|whether|once|unless)\s+(?:i|we)\b"),
    self_subject=pattern(
        r"""\b(?:i'll|ill|i\s+will|i'm\s+going\s+to|im\s+going\s+to|i\s+am\s+going\s+to
        |i'm\s+gonna|im\s+gonna|we'll|we\s+will|let\s+me|i\s+promise\s+to)\s+(?:\w+\s+)?$"""
    ),
    request=pattern(
        r"""^(?:(?:hi|hey|hello|ok|okay|so|um|please|pls|and|but)\s+)*
        (?:(?:can|could|would|will|can't|won't|cant|wont)\s+(?:you|u|y'all|ya|someone)
        |(?:how|where)\s+(?:do|can|would|should|could|does\s+one)\s+(?:i|we)
        |(?:can|may|could)\s+i|is\s+there\s+(?:a|any)\s+way\s+to|how\s+many\s+times
        |why\s+(?:won't|wont|don't|dont|can't|cant)\s+(?:you|u|y'all))\b"""
    ),
    rhetorical=pattern(
        r"^(?:\w+\s+)?why\s+(?:won't|wont|don't|dont|can't|cant)\s+(?:you|u|y'all)\b"
    ),
    scope_intro=pattern(
        r"^\s+(?:me\s+|us\s+|this\s+number\s+|my\s+number\s+)?(?:from|off|out\s+of|of)\b"
    ),
    scope_ok=pattern(
        rf"""^\s*(?:$|(?:(?:the|your|ur|this|these|that|our|all|any|every|mailing|texting|text|sms
        |contact|marketing|email|distribution|call|calling|phone|subscriber|promotional|messaging
        |notification|alert|promo|broadcast|customer|newsletter|vip|future|further|more|upcoming)\s+)*
        (?:list|lists|{MSG}|system|database|contacts|records|everything|it|this|them|these|number
        |subscription|service|here|you|y'all)\b)"""
    ),
    mention=pattern(r"^\s+(?:is|was|means|mean|does|button|link|option)\b"),
    support=pattern(
        rf"""\b(?:wrong\s+(?:number|person)|not\s+interested|who\s+is\s+this|who's\s+this|{MSG}|{SENDING}
        |number|list|subscribed|unsubscribe|spam)\b"""
    ),
    mistake=pattern(r"\b(?:by\s+(?:accident|mistake|error)|accidentally|didn't\s+mean)\b"),
    playful=pattern(r"\b(?:lol+|lmao|rofl|jk|(?:ha){2,}h?|(?:he){2,})\b|" + LAUGHING_EMOJI),
    own_quote=pattern(
        r"\bi\s+(?:already\s+|just\s+)?(?:said|say|texted|replied|wrote|sent|typed|told\s+you)\s*:?\s*$"
    ),
    spelling=spelling(
        "unsubscribe",
        "texting",
        "messaging",
        "messages",
        "contacting",
        "stop",
        "subscription",
        "remove",
    ),
    known=spelling(
        "testing",
        "tenting",
        "textile",
        "massaging",
        "massages",
        "messing",
        "contracting",
        "contacted",
        "contacts",
        "contact",
        "subscriptions",
        "unsubscribed",
        "unsubscribes",
        "unsubscribing",
        "messaged",
        "messenger",
        "messager",
        "message",
        "texted",
        "removed",
        "removes",
        "remover",
        "remote",
        "top",
        "sop",
        "tops",
        "spot",
        "post",
        "pots",
        "step",
    ),
)
