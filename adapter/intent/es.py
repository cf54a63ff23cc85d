"""Spanish: "dejen de enviarme mensajes", "denme de baja"; not "para mañana" nor "no pares"."""

from __future__ import annotations

from .grammar import LAUGHING_EMOJI, Grammar, Rule, pattern, spelling

SEND = r"(?:enviar|mandar|escribir|contactar|molestar|textear|spamear|llamar)(?:me|nos|le|les)?"
MSG = r"""(?:mensajes?|msjs?|mjs|sms|textos?|notificaciones|alertas|recordatorios|promociones
    |ofertas|publicidad|correos)"""
POLITE = r"(?:por\s+favor|porfa|porfavor|ya|gracias|stop)"

GRAMMAR = Grammar(
    language="es",
    rules=(
        Rule(
            "dejar/parar de + enviar",
            pattern(
                rf"""\b(?:deja|dejen|deje|dejes|dejar|dejad|para|paren|pare|pares|parar|parad|cesen
                |cese|cesar|terminen|acaben)\s+(?:de|d)\s+(?:(?:me|nos)\s+)?{SEND}\b"""
            ),
        ),
        Rule(
            "no me envíen / escriban",
            pattern(
                rf"""\bno\s+(?:me\s+|nos\s+)?(?:(?:vuelvan|vuelvas|vuelva)\s+a\s+)?
                (?:envien|envies|envie|enviar|manden|mandes|mande|mandar|escriban|escribas|escriba
                |escribir|contacten|contactes|contacte|contactar|molesten)(?:me)?
                (?=\s*$|\s+(?:mas|nunca|ya|jamas|nada|por\s+favor|porfa|porfavor|gracias|otra\s+vez
                |{MSG})\b)"""
            ),
            negatable=False,
        ),
        Rule(
            "no quiero que me escriban",
            pattern(
                r"""\b(?:no|ya\s+no)\s+(?:quiero|deseo|queremos)\s+que\s+(?:me|nos)\s+
                (?:escriban|envien|manden|contacten|molesten|llamen|sigan\s+\w+)\b"""
            ),
            negatable=False,
        ),
        Rule(
            "dejar de recibir mensajes",
            pattern(
                rf"""\b(?:dejar|deje|dejen|dejo|dejamos|parar)\s+de\s+recibir\s+
                (?:(?:sus|tus|estos|esos|los|las|mas)\s+)*{MSG}\b"""
            ),
        ),
        Rule(
            "nunca más me escriban",
            pattern(
                r"\bnunca\s+mas\s+(?:me\s+|nos\s+)?(?:envien|manden|escriban|contacten|escriba|envie|mande)\b"
            ),
            negatable=False,
        ),
        Rule(
            "dar de baja",
            pattern(
                r"\b(?:dar|darme|denme|dame|deme|den|doy|darse|dan|daria)\s+(?:me\s+)?de\s+baja\b"
            ),
            scoped=True,
        ),
        Rule(
            "cancelar la suscripción",
            pattern(
                r"""\b(?:cancelar|cancelen|cancela|cancele|anular|anulen|anula|terminar|quitar)
                \s+(?:mi\s+|la\s+|esta\s+|su\s+)?(?:suscripcion|subscripcion)\b"""
            ),
        ),
        Rule(
            "quítenme de la lista",
            pattern(
                r"""\b(?:quit|saqu|sac|borr|elimin|retir)\w*\s+(?:me\s+|mi\s+(?:numero|telefono)\s+)?
                de\s+(?:la|su|esta|sus|tu|vuestra)\s+(?:lista|listas|base\s+de\s+datos)
                (?!\s+de\s+espera)\b"""
            ),
        ),
        Rule(
            "borren mi número",
            pattern(
                r"""\b(?:borren|borra|borre|borrar|eliminen|elimina|elimine|eliminar|quiten|quitar
                |retiren|retirar)\s+(?:mi|este|el)\s+(?:numero|telefono|contacto)\b"""
            ),
        ),
        Rule(
            "salir de la lista",
            pattern(
                r"\b(?:salir|salirme|sacarme)\s+de\s+(?:la|esta|su|sus|tu)\s+listas?(?!\s+de\s+espera)\b"
            ),
        ),
        Rule(
            "no más mensajes",
            pattern(rf"\bno\s+mas\s+(?:{MSG}|por\s+favor|porfa)\b"),
            negatable=False,
        ),
        Rule(
            "no quiero mensajes",
            pattern(
                rf"""\b(?:no|ya\s+no)\s+(?:quiero|deseo|necesito|queremos)\s+
                (?:(?:recibir|seguir\s+recibiendo|tener)\s+)?
                (?:(?:mas|sus|tus|estos|esos|los|ningun|ninguno|de|otro|otros)\s+)*{MSG}\b"""
            ),
            negatable=False,
        ),
        Rule(
            "basta de mensajes",
            pattern(
                rf"\b(?:basta|suficiente)\s+(?:ya\s+)?(?:de|con)\s+(?:(?:sus|tus|los|estos|tantos)\s+)?{MSG}\b"
            ),
        ),
        Rule("déjenme en paz", pattern(r"\bdej(?:enme|eme|ame|adme|ennos)\s+en\s+paz\b")),
        Rule(
            "bórrenme / elimínenme",
            pattern(
                r"""\b(?:borrenme|borreme|borrame|eliminenme|elimineme|eliminame|quitenme|quiteme
                |saquenme|saqueme|desuscribanme|retirenme)\b"""
            ),
        ),
        Rule(
            "no quiero recibir más",
            pattern(r"\b(?:no|ya\s+no)\s+(?:quiero|deseo)\s+recibir\s+(?:nada\s+)?mas\b"),
            negatable=False,
        ),
        Rule("desuscribirse", pattern(r"\b(?:desuscrib|desinscrib|dessuscrib|desubscrib)\w*")),
        Rule(
            "parar los mensajes",
            pattern(
                rf"""\b(?:parar|paren|pare|detener|detengan|detenga|cancelar|cancelen)\s+
                (?:(?:los|estos|sus|todos|tus|las|esos)\s+)*{MSG}\b"""
            ),
        ),
        Rule(
            "a clause that is only 'baja' / 'basta'",
            pattern(
                rf"^\W*(?:(?:{POLITE}|baja|basta|alto)\W*)*(?:baja|basta|alto)\b\W*(?:(?:{POLITE}|baja|basta|alto)\W*)*$"
            ),
            bare=True,
        ),
    ),
    negation=pattern(
        r"""\b(?:no|nunca|ni|jamas|tampoco)\s+(?:(?:me|te|nos|lo|la|les|quiero|queremos|deseo
        |vayan\s+a|vayas\s+a|pienso|a|que)\s+)*$"""
    ),
    reported=pattern(
        r"""\b(?:(?:el|ella|ellos|ellas|alguien|mi\s+\w+|su\s+\w+)\s+(?:\w+\s+)?
            (?:dijo|dice|escribio|respondio|mando|envio|puso)
        |si\s+(?:respondo|escribo|mando|envio|pongo|contesto)|que\s+pasa\s+si)\b"""
    ),
    conditional=pattern(r"^(?:que\s+pasa\s+)?(?:si|cuando)\s+(?:yo\s+)?\w+o\b"),
    request=pattern(
        r"""^(?:(?:hola|oye|por\s+favor|porfa)\s+)*(?:(?:me|nos|le|les)\s+)?
            (?:pueden|podrian|puede|podria|puedes|podrias|quieren)\b
        |^(?:(?:hola|oye)\s+)*como\b
        |^(?:me\s+)?(?:puedo|podria)\s+(?:dar|darme|desuscribir)"""
    ),
    # "Dar de baja" a thing is to cancel it ("doy de baja mi tarjeta"); only the list, the
    # messages or everything make it an opt-out.
    scope_intro=pattern(
        r"^\s+(?:de\s+|del\s+|al\s+|de\s+la\s+|mi\s+|mis\s+|la\s+|el\s+|los\s+|las\s+|su\s+|tu\s+|este\s+|esta\s+)"
    ),
    scope_ok=pattern(
        rf"""^\s*(?:(?:la|su|sus|esta|estos|los|las|mi|tu|todos|todo)\s+)*
        (?:lista|listas|{MSG}|suscripcion|numero|todo|servicio)\b"""
    ),
    mention=pattern(r"^\s+(?:es|significa|quiere\s+decir)\b"),
    support=pattern(rf"\b(?:numero\s+equivocado|no\s+me\s+interesa|{MSG}|numero|lista)\b"),
    mistake=pattern(r"\b(?:sin\s+querer|por\s+error|por\s+equivocacion)\b"),
    playful=pattern(r"\b(?:(?:ja){2,}j?|(?:je){2,}|xd|lol)\b|" + LAUGHING_EMOJI),
    own_quote=pattern(r"\b(?:ya\s+)?(?:dije|escribi|respondi|puse|mande)\s*:?\s*$"),
    spelling=spelling(
        "mensajes", "enviarme", "escribirme", "mandarme", "suscripción", "desuscribirme"
    ),
    known=spelling(
        "mensaje",
        "mensajero",
        "enviarle",
        "enviarte",
        "enviarse",
        "escribirte",
        "escribirle",
        "escribirse",
        "mandarle",
        "mandarte",
        "mandarse",
        "suscripciones",
    ),
)
