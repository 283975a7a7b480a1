"""What common MediaWiki templates show as text.

Templates are expanded on the wiki from pages we do not have, so only a table of well-known
ones can be rendered: characters ({{ndash}}, {{nbsp}}), formatting wrappers whose argument is
the visible text ({{nowrap|...}}, {{lang|fr|...}}), dates, numbers and units, citations. Every
other template (maintenance tags, navboxes, sidebars, hatnotes, footnote templates) shows
nothing here: dropping a word is better than leaking a template's parameters into prose.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable

from mwparserfromhell.nodes import Template
from mwparserfromhell.wikicode import Wikicode

Plain = Callable[[Wikicode], str]

# Marks the sides of a dash template: the reader spaces the dash unless it joins two digits. On
# the wiki {{ndash}} and {{mdash}} once rendered spaced ("X{{ndash}} Y", 2007) and now render
# bare ("1990{{ndash}}1995"); spacing all but digit ranges reads right in pages of either era.
DASH_SIDE = "\ue000"
_ND = f"{DASH_SIDE}–{DASH_SIDE}"
_MD = f"{DASH_SIDE}—{DASH_SIDE}"

CHARACTERS = {
    "ndash": _ND, "en dash": _ND, "endash": _ND, "mdash": _MD, "em dash": _MD, "emdash": _MD,
    "snd": " – ", "spnd": " – ", "sndash": " – ", "spaced ndash": " – ", "spaced en dash": " – ",
    "spaced mdash": " — ", "spaced em dash": " — ", "nbsp": " ", "nbs": " ", "thinsp": " ",
    "thin space": " ", "hair space": " ", "hairsp": " ", "sp": " ", "space": " ", "spaces": " ",
    "zwsp": "", "zwj": "", "shy": "", "'": "'", '"': '"', "'\"": "'\"", "\"'": "\"'", "'s": "'s",
    "=": "=", "!": "|", "·": " · ", "dot": " · ", "middot": "·", "•": " • ", "bull": " • ",
    "bullet": "•", "minus": "−", "times": "×", "pm": "±", "plusminus": "±", "deg": "°",
    "degree": "°", "...": "…", "ellipsis": "…", "nbhyph": "‑", "br": "\n", "break": "\n",
}  # fmt: skip

# Wrappers that only style their text: the visible text is the `text=` argument, else this
# positional argument (-1: the last one, as in {{lang|fr|texte}} or {{font color|red|text}}).
WRAPPERS = {
    "nowrap": 1, "nobr": 1, "nobreak": 1, "small": 1, "smaller": 1, "big": 1, "bigger": 1,
    "large": 1, "larger": 1, "huge": 1, "midsize": 1, "resize": -1, "font": -1, "font color": -1,
    "color": -1, "colour": -1, "colored": -1, "em": 1, "strong": 1, "code": 1, "mono": 1,
    "monospace": 1, "kbd": 1, "var": 1, "samp": 1, "tt": 1, "smallcaps": 1, "sc": 1, "sc1": 1,
    "allcaps": 1, "caps": 1, "underline": 1, "u": 1, "strikethrough": 1, "strike": 1, "s": 1,
    "del": 1, "ins": 1, "bold": 1, "italic": 1, "italics": 1, "center": 1, "centre": 1,
    "highlight": 1, "mark": 1, "abbr": 1, "abbrlink": 1, "tooltip": 1, "sup": 1, "sub": 1,
    "visible anchor": 1, "math": 1, "mvar": 1, "not a typo": 1, "notatypo": 1, "proper name": 1,
    "as written": 1, "url": 1, "flag": 1, "lang": -1, "langx": -1, "transl": -1,
    "transliteration": -1, "ipa": 1, "ill": 1, "interlanguage link": 1, "illm": 1,
}  # fmt: skip
WRAPPER_FAMILIES = (("lang-", 1), ("ipa-", 1))

IDENTIFIERS = {"isbn": "ISBN ", "oclc": "OCLC ", "issn": "ISSN ", "doi": "doi:", "jstor": "JSTOR ", "pmid": "PMID "}
CITE_FIELDS = ("author", "title", "work", "website", "newspaper", "journal", "publisher", "date", "year", "url")
_CONVERT_JOINS = {
    "-": "–", "–": "–", "to": " to ", "to(-)": " to ", "and": " and ", "and(-)": " and ", "or": " or ",
    "by": " by ", "x": " × ", "×": " × ", "+/-": " ± ", "±": " ± ",
}  # fmt: skip


class Args:
    """A template's arguments as plain text, reduced only when asked for."""

    def __init__(self, tmpl: Template, plain: Plain) -> None:
        self._plain = plain
        self.positional: dict[int, Wikicode] = {}
        self.named: dict[str, Wikicode] = {}
        for param in tmpl.params:
            key = str(param.name).strip()
            if key.isdigit():
                self.positional[int(key)] = param.value
            else:
                self.named[key.lower()] = param.value

    def pos(self, i: int) -> str:
        """The i-th positional argument (1-based; -1 for the last), '' when absent."""
        if i < 0:
            i = max(self.positional, default=0)
        value = self.positional.get(i)
        return self._plain(value).strip() if value is not None else ""

    def get(self, *keys: str) -> str:
        """The first named argument among `keys` that has a value."""
        for key in keys:
            value = self.named.get(key)
            if value is not None:
                text = self._plain(value).strip()
                if text:
                    return text
        return ""

    def all_positional(self) -> list[str]:
        return [self.pos(i) for i in sorted(self.positional)]


def template_name(tmpl: Template) -> str:
    """A template's name as the wiki resolves it: case-folded, `_` as space, no `Template:`."""
    name = re.sub(r"<!--.*?-->", "", str(tmpl.name), flags=re.S)
    name = " ".join(name.replace("_", " ").split()).lower()
    for prefix in ("subst:", "safesubst:", "template:", "msgnw:"):
        name = name.removeprefix(prefix).strip()
    return name


def template_text(tmpl: Template, plain: Plain) -> str | None:
    """The text a template shows, or None when it shows none we can know."""
    name = template_name(tmpl)
    if name in CHARACTERS:
        return CHARACTERS[name]
    if ":" in name:
        return _magic_word(name, tmpl, plain)
    args = Args(tmpl, plain)
    position = WRAPPERS.get(name)
    if position is None:
        position = next((p for prefix, p in WRAPPER_FAMILIES if name.startswith(prefix)), None)
    if position is not None:
        return args.get("text") or args.pos(position)
    rule = _RULES.get(name)
    if rule is not None:
        return rule(args)
    if name.startswith(("cite ", "vcite")) or name in ("citation", "cite"):
        # Spaced: citations written side by side are separate works.
        return f" {citation(args)} "
    if name in IDENTIFIERS:
        value = args.pos(1)
        return f"{IDENTIFIERS[name]}{value}" if value else None
    if name.endswith("$") and len(name) <= 4:  # {{US$|100}}, {{A$|5}}
        return f"{name.upper()}{args.pos(1)}"
    return None


def citation(args: Args) -> str:
    """A {{cite ...}} template as its author, title, work, publisher, date and address."""
    parts: list[str] = []
    for field in CITE_FIELDS:
        if field == "author":
            value = args.get("author", "author1", "authors")
            if not value:
                last, first = args.get("last", "last1", "surname"), args.get("first", "first1", "given")
                value = f"{last}, {first}" if last and first else last
        else:
            value = args.get(field)
        if value and value not in parts:
            parts.append(value)
    return ", ".join(parts)


def _magic_word(name: str, tmpl: Template, plain: Plain) -> str | None:
    """Parser functions that only transform their argument ({{lc:X}}, {{formatnum:1234}})."""
    word, _, first = str(tmpl.name).partition(":")
    word = word.strip().lower()
    value = plain(tmpl.name).partition(":")[2].strip() if first else ""
    if word == "formatnum":
        return f"{int(value):,}" if value.isdigit() else value
    transforms = {
        "lc": str.lower,
        "uc": str.upper,
        "lcfirst": lambda s: s[:1].lower() + s[1:],
        "ucfirst": lambda s: s[:1].upper() + s[1:],
    }
    fn = transforms.get(word)
    return fn(value) if fn else None


def _month_name(value: str) -> str | None:
    return calendar.month_name[int(value)] if value.isdigit() and 1 <= int(value) <= 12 else None


def _date(year: str, month: str = "", day: str = "", day_first: bool = False) -> str:
    """`1900`, `January 1900`, `January 2, 1900` or `2 January 1900` from numeric parts."""
    name = _month_name(month)
    if not year or not name:
        return year
    if not day.isdigit():
        return f"{name} {year}"
    return f"{int(day)} {name} {year}" if day_first else f"{name} {int(day)}, {year}"


def _day_first(args: Args, default: bool) -> bool:
    flag = args.get("df").lower()
    if flag:
        return flag in ("y", "yes", "true", "1")
    if args.get("mf").lower() in ("y", "yes", "true", "1"):
        return False
    return default


def _date_template(default_day_first: bool) -> Callable[[Args], str]:
    def render(args: Args) -> str:
        return _date(args.pos(1), args.pos(2), args.pos(3), _day_first(args, default_day_first))

    return render


def _death_date_and_age(args: Args) -> str:
    death = _date(args.pos(1), args.pos(2), args.pos(3), _day_first(args, False))
    try:
        dy, dm, dd = int(args.pos(1)), int(args.pos(2)), int(args.pos(3))
        by, bm, bd = int(args.pos(4)), int(args.pos(5)), int(args.pos(6))
    except ValueError:
        return death
    age = dy - by - ((dm, dd) < (bm, bd))
    return f"{death} (aged {age})"


def _dts(args: Args) -> str:
    """{{dts|1890|5|2}} (numeric parts) or {{dts|2 May 1890}} (already written out)."""
    if args.pos(2):
        return _date(args.pos(1), args.pos(2), args.pos(3), _day_first(args, False))
    return args.pos(1)


def _as_of(args: Args) -> str:
    date = _date(args.pos(1), args.pos(2), args.pos(3), _day_first(args, True))
    lead = "as of" if args.get("lc").lower() in ("y", "yes") else "As of"
    return f"{lead} {date}" if date else ""


def _convert(args: Args) -> str:
    """{{convert|41|km2}} -> 41 km2; {{convert|5|to|10|km}} -> 5 to 10 km (no conversion shown)."""
    text, i = args.pos(1), 2
    while args.pos(i) in _CONVERT_JOINS and args.pos(i + 1):
        text += f"{_CONVERT_JOINS[args.pos(i)]}{args.pos(i + 1)}"
        i += 2
    unit = args.pos(i)
    return f"{text} {unit}" if text and unit else text


def _frac(args: Args) -> str:
    values = [v for v in args.all_positional() if v]
    if len(values) == 1:
        return f"1/{values[0]}"
    if len(values) == 2:
        return f"{values[0]}/{values[1]}"
    if len(values) >= 3:
        return f"{values[0]} {values[1]}/{values[2]}"
    return ""


def _sic(args: Args) -> str:
    text = "".join(args.all_positional())
    hidden = args.get("hide").lower() in ("y", "yes", "true", "1")
    return text if hidden or not text else f"{text} [sic]"


def _quote(args: Args) -> str:
    text = args.get("text", "quote") or args.pos(1)
    source = [s for s in (args.get("author", "sign") or args.pos(2), args.get("source", "title") or args.pos(3)) if s]
    return f"{text} — {', '.join(source)}" if text and source else text


def _nihongo(args: Args) -> str:
    english, rest = args.pos(1), [v for v in (args.pos(2), args.pos(3)) if v]
    if not english:
        return ", ".join(rest)
    return f"{english} ({', '.join(rest)})" if rest else english


def _harvard(args: Args) -> str:
    names = " ".join(v for v in args.all_positional() if v)
    pages = args.get("p", "page")
    if pages:
        return f"{names}, p. {pages}"
    pages = args.get("pp", "pages")
    return f"{names}, pp. {pages}" if pages else names


def _prefixed(prefix: str) -> Callable[[Args], str]:
    def render(args: Args) -> str:
        first, second = args.pos(1), args.pos(2)
        if not first:
            return ""
        return f"{prefix} {first}–{second}" if second else f"{prefix} {first}"

    return render


_RULES: dict[str, Callable[[Args], str]] = {
    "convert": _convert,
    "cvt": _convert,
    "frac": _frac,
    "sfrac": _frac,
    "sic": _sic,
    "quote": _quote,
    "blockquote": _quote,
    "cquote": _quote,
    "quotation": _quote,
    "quote box": _quote,
    "poem quote": _quote,
    "nihongo": _nihongo,
    "harv": _harvard,
    "harvnb": _harvard,
    "harvtxt": _harvard,
    "start date": _date_template(False),
    "end date": _date_template(False),
    "birth date": _date_template(False),
    "death date": _date_template(False),
    "birth date and age": _date_template(False),
    "start date and age": _date_template(False),
    "death date and age": _death_date_and_age,
    "as of": _as_of,
    "dts": _dts,
    "circa": _prefixed("c."),
    "c.": _prefixed("c."),
    "floruit": _prefixed("fl."),
    "fl.": _prefixed("fl."),
    "sortname": lambda a: " ".join(v for v in (a.pos(1), a.pos(2)) if v),
    "val": lambda a: " ".join(v for v in (a.pos(1), a.get("u", "ul")) if v),
}
