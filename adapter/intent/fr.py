"""French: "arrêtez de m'écrire", "ne m'envoyez plus de SMS"; not "n'arrête pas", "arrêt de bus"."""

from __future__ import annotations

from .grammar import LAUGHING_EMOJI, Grammar, Rule, pattern, spelling

SEND = r"""(?:envoyer|ecrire|contacter|spammer|harceler|appeler|texter|relancer|solliciter|deranger
    |embeter|importuner)"""
MSG = r"""(?:messages?|sms|textos?|notifications?|relances?|mails?|e\s?mails?|pubs?|publicites?
    |envois?|alertes?|rappels?|offres|courriels?|promotions?)"""
POLITE = r"""(?:svp|stp|s'il\s+vous\s+plait|s'il\s+te\s+plait|merci|maintenant|tout\s+de\s+suite
    |ca\s+suffit|desormais|stop|arrete|arretez)"""

GRAMMAR = Grammar(
    language="fr",
    rules=(
        Rule(
            "arrêter de + envoyer",
            pattern(
                rf"""\b(?:arrete|arretez|arreter|arretes|arretons|cesse|cessez|cesser|stop|stoppez
                |stopper|finissez)\s+(?:(?:pas|jamais)\s+)?(?:de\s+|d'|d\s+)(?:m'|me\s+|m\s+|nous\s+)?
                {SEND}\b"""
            ),
        ),
        Rule(
            "arrêtez les messages",
            pattern(
                rf"""\b(?:arrete|arretez|arreter|stop|stoppez|cessez|fini|finis|assez|marre)\s+
                (?:(?:les|vos|tes|ces|aux|a|avec|de|des|toutes|tous|d')\s*)*{MSG}\b"""
            ),
        ),
        Rule(
            "ne m'envoyez plus",
            pattern(
                rf"""\b(?:ne|n')\s*(?:(?:me|m'|nous)\s*)?(?:envoyez|envoie|envoies|envoyer|ecrivez
                |ecris|ecrire|contactez|contacte|contacter|appelez|textez|harcelez|derangez
                |relancez)(?:\s+moi)?\s+plus\b
                |\bne\s+plus\s+(?:m'|me\s+|m\s+|nous\s+)?{SEND}\b
                |\bne\s+plus\s+etre\s+(?:contacte|sollicite|derange|relance|harcele)"""
            ),
            negatable=False,
        ),
        Rule(
            "ne veux plus de messages",
            pattern(
                rf"""\b(?:veux|veut|voulons|voulez|souhaite|souhaitons|desire|desirons)\s+plus\s+
                (?:(?:recevoir|avoir|de|d'|vos|tes|ces|les|aucun|aucune|des)\s*)*{MSG}\b
                |\b(?:veux|veut|voulons|voulez|souhaite|souhaitons|desire|desirons)\s+plus\s+
                (?:etre\s+(?:contacte|sollicite|derange|relance|harcele)|rien\s+recevoir)"""
            ),
            negatable=False,
        ),
        Rule(
            "plus de messages",
            pattern(
                rf"^(?:(?:et|bon|alors|svp|merci)\s+)*plus\s+(?:jamais\s+)?(?:de\s+|d'|aucun\s+){MSG}\b"
            ),
            negatable=False,
        ),
        Rule(
            "l'arrêt des messages",
            pattern(
                rf"\b(?:arret|fin)\s+(?:des|de\s+vos|de\s+ces|de\s+tous\s+les|de\s+vos)\s+{MSG}\b"
            ),
        ),
        Rule(
            "se désabonner", pattern(r"\b(?:desabonn|desinscri|desincri|desabon)\w*"), scoped=True
        ),
        Rule(
            "retirez-moi / supprimez mon numéro",
            pattern(
                r"""\b(?:(?:retirez|retire|retirer|enlevez|enleve|enlever|supprimez|supprime
                |supprimer|effacez|efface|effacer|rayez|rayer|sortez|sortir)
                \s+(?:moi|mon\s+numero(?:\s+de\s+telephone)?|mon\s+nom|mes\s+coordonnees)
                |(?:me\s+|m')(?:retirer|enlever|supprimer|effacer|rayer|sortir))\b"""
            ),
            scoped=True,
        ),
        Rule(
            "être retiré de la liste",
            pattern(
                r"""\b(?:etre|soit|soient)\s+(?:retire|enleve|supprime|desinscrit|desabonne|raye)
                (?:e|s|es)?\b"""
            ),
            scoped=True,
        ),
        Rule(
            "arrêter de recevoir des messages",
            pattern(
                rf"""\b(?:arrete|arretez|arreter|cesser|cessez|stopper|ne\s+plus)\s+(?:de\s+)?recevoir
                \s+(?:(?:ces|vos|les|des|de|d'|tes)\s*)*{MSG}\b"""
            ),
        ),
        Rule(
            "laissez-moi tranquille",
            pattern(
                r"\blaisse(?:z|s)?\s+(?:moi|nous)\s+tranquilles?\b|\b(?:foutez|fichez)\s+moi\s+la\s+paix\b"
            ),
        ),
        Rule(
            "annuler l'abonnement",
            pattern(
                r"""\b(?:annulez|annuler|annule|resilier|resiliez|resilie|arretez|arreter)\s+
                (?:mon\s+|cet\s+|ce\s+|votre\s+|l'\s*|l\s+)?abonnement\b"""
            ),
        ),
        Rule(
            "a clause that is only 'arrêtez'",
            pattern(rf"^\W*(?:{POLITE}\W*)*(?:arrete|arretez|stop|stoppez)\b\W*(?:{POLITE}\W*)*$"),
            bare=True,
        ),
    ),
    negation=pattern(
        r"""(?:\b(?:ne|n)\s*'?\s*(?:(?:me|m'|te|t'|nous|vous|le|la|les|veux|voulez|veut|souhaite
        |pas|jamais)\s*)*|\b(?:veux|voulez|veut|souhaite)\s+pas\s+(?:me\s+|m')?)$"""
    ),
    negation_after=pattern(r"^\s*(?:moi\s+)?(?:pas|jamais)\b"),
    reported=pattern(
        r"""\b(?:(?:il|elle|ils|elles|quelqu'un|mon\s+\w+|ma\s+\w+|son\s+\w+|sa\s+\w+)\s+(?:\w+\s+)?
            (?:a\s+dit|dit|a\s+ecrit|ecrit|a\s+repondu|a\s+envoye|disait)
        |si\s+je\s+(?:reponds|ecris|envoie|tape|mets)|que\s+se\s+passe\s+t\s+il\s+si)\b"""
    ),
    conditional=pattern(r"^(?:et\s+)?(?:si|quand)\s+(?:je|j')"),
    past=pattern(r"\b(?:avez|avons|ont|as|ai|a|avait|aviez|avaient)\s+(?:\w+\s+)?$"),
    request=pattern(
        r"""^(?:(?:bonjour|salut|svp|merci)\s+)*(?:est\s+ce\s+que\s+)?(?:vous\s+|tu\s+)?
            (?:pouvez|pourriez|pourrais|peux|voulez|voudriez)\b
        |^(?:(?:bonjour|salut)\s+)*comment\b
        |^(?:est\s+ce\s+que\s+)?je\s+(?:peux|pourrais)\b"""
    ),
    scope_intro=pattern(r"^\s+(?:de|d'|du|des)\s*"),
    scope_ok=pattern(
        rf"""^\s*(?:(?:la|votre|vos|ta|tes|cette|ces|les|ce|tous|toutes)\s+)*
        (?:liste|listes|fichier|fichiers|base|contacts|repertoire|mailing|diffusion|tout|{MSG})\b
        (?!\s+d'attente)"""
    ),
    mention=pattern(r"^\s+(?:veut\s+dire|signifie|c'est\s+quoi)\b"),
    support=pattern(rf"\b(?:mauvais\s+numero|pas\s+interesse|{MSG}|numero|liste)\b"),
    mistake=pattern(r"\b(?:par\s+erreur|par\s+accident|sans\s+faire\s+expres|par\s+megarde)\b"),
    playful=pattern(r"\b(?:mdr|ptdr|lol|(?:ha){2,}h?|(?:hi){2,})\b|" + LAUGHING_EMOJI),
    own_quote=pattern(
        r"\b(?:j'ai|je\s+vous\s+ai|je)\s+(?:deja\s+)?(?:dit|ecrit|repondu|envoye|tape)\s*:?\s*$"
    ),
    spelling=spelling(
        "désabonner",
        "désabonnez",
        "désinscrire",
        "désinscrivez",
        "arrêtez",
        "arrêter",
        "envoyer",
        "messages",
    ),
    known=spelling(
        "arrête",
        "arrêtes",
        "arête",
        "arêtes",
        "désabonne",
        "désabonnes",
        "désabonnement",
        "envoyez",
        "envoie",
        "envoyés",
        "envoyée",
        "message",
        "désinscris",
        "désinscrit",
    ),
)
