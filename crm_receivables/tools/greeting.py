"""How a reminder addresses a person, as Russian and Kazakh business etiquette expects.

«Уважаемый Иван Петрович!» - first name and patronymic, the adjective agreeing with the person's
gender when the name tells it; «Құрметті Ержан Болатұлы!» in Kazakh (a word without gender);
the company itself when no person is known. Pure functions: no database, no Odoo."""

import re

MALE, FEMALE = "male", "female"

# patronymics: Russian (-ович, -евич, -ич; -овна, -евна, -ична, -инична) and Kazakh (-ұлы/-улы, -қызы/-кызы)
_PATRONYMIC = (
    (re.compile(r"(ович|евич|ьич|ич|[ұу]лы|uly|ovich|evich)$", re.IGNORECASE), MALE),
    (re.compile(r"(овна|евна|ична|инична|[қк]ызы|kyzy|ovna|evna|ichna)$", re.IGNORECASE), FEMALE),
)
# surnames: Russian and Kazakh endings, feminine checked first (-ова before -ов)
_SURNAME = (
    (re.compile(r"(ова|ева|ёва|ина|ына|ская|цкая|ova|eva|ina|skaya)$", re.IGNORECASE), FEMALE),
    (re.compile(r"(ов|ев|ёв|ин|ын|ский|цкий|енко|ук|юк|ov|ev|in|sky|skiy|enko)$", re.IGNORECASE), MALE),
)
# first names ending in -а/-я that belong to men
_MALE_NAMES_IN_A = {"никита", "илья", "кузьма", "фома", "лука", "савва", "данила"}

GREETINGS = {
    # (language, gender, or None when unknown, or "company"): salutation
    ("ru", MALE): "Уважаемый {name}!",
    ("ru", FEMALE): "Уважаемая {name}!",
    ("ru", None): "Здравствуйте, {name}!",
    ("ru", "company"): "Здравствуйте, {name}!",
    ("kk", MALE): "Құрметті {name}!",
    ("kk", FEMALE): "Құрметті {name}!",
    ("kk", None): "Құрметті {name}!",
    ("kk", "company"): "Сәлеметсіз бе, {name}!",
    ("en", MALE): "Dear {name},",
    ("en", FEMALE): "Dear {name},",
    ("en", None): "Dear {name},",
    ("en", "company"): "Hello {name},",
}


def _gender_of(regexes, word):
    for regex, gender in regexes:
        if regex.search(word):
            return gender
    return None


def split_person_name(full_name):
    """``(address, gender)`` of a person's full name: the words to address them by and their
    gender (``male``, ``female`` or ``None`` when the name does not tell).

    - «Петров Иван Петрович», «Иван Петрович Петров», «Иван Петрович» -> «Иван Петрович», male;
    - «Сапаров Ержан Болатұлы» -> «Ержан Болатұлы», male; «Ахметова Гульнара» -> «Гульнара», female;
    - no patronymic: the first name alone when a surname tells which word it is, else the whole name.
    """
    words = [word for word in re.split(r"\s+", (full_name or "").strip()) if word]
    if not words:
        return "", None
    for index, word in enumerate(words):
        gender = _gender_of(_PATRONYMIC, word)
        if gender and index >= 1:
            return f"{words[index - 1]} {word}", gender
    if len(words) == 2:
        first_gender, second_gender = (_gender_of(_SURNAME, word) for word in words)
        if second_gender and not first_gender:  # «Гульнара Ахметова»
            return words[0], second_gender
        if first_gender and not second_gender:  # «Ахметова Гульнара»
            return words[1], first_gender
        return " ".join(words), _first_name_gender(words[0])
    if len(words) == 1:
        return words[0], _first_name_gender(words[0])
    return " ".join(words), None


def _first_name_gender(name):
    """Gender told by a first name alone: only the safe case of a surname-like ending."""
    return _gender_of(_SURNAME, name)


def language_of(lang_code):
    """``ru``, ``kk`` or ``en`` for an Odoo language code (``ru_RU``, ``kk_KZ``, ``en_US``...)."""
    prefix = (lang_code or "en").split("_")[0].lower()
    return prefix if prefix in ("ru", "kk") else "en"


def greeting(name, lang_code, is_company=False):
    """The salutation of a reminder to ``name`` in the language of ``lang_code``."""
    lang = language_of(lang_code)
    if is_company or not (name or "").strip():
        return GREETINGS[(lang, "company")].format(name=(name or "").strip())
    address, gender = split_person_name(name)
    if gender is None and address.lower() in _MALE_NAMES_IN_A:
        gender = MALE
    return GREETINGS[(lang, gender)].format(name=address)
