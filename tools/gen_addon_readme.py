#!/usr/bin/env python3
"""Generate each addon's README.rst from its manifest and its readme/ fragments, as OCA's
oca-gen-addon-readme does (same fragments, same section order), without pandoc: the fragments
are written in a small Markdown subset that this script turns into reStructuredText (headings,
paragraphs, bullet and numbered lists, indented or fenced code blocks, pipe tables, inline code,
emphasis and links).

    python tools/gen_addon_readme.py            # regenerate; exit 1 when a README.rst changed
    python tools/gen_addon_readme.py --check    # only say which README.rst is out of date

`./crmai lint` runs it through pre-commit (hook `gen-addon-readme`). Standard library only.
"""

import argparse
import ast
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# OCA's fragments and their sections, in the order of the generated README
SECTIONS = [
    ("CONTEXT", "Use Cases / Context"),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
]
CREDITS = [("CONTRIBUTORS", "Contributors"), ("CREDITS", "Other credits")]
REQUIRED = ["DESCRIPTION", "USAGE", "CONFIGURE", "CONTRIBUTORS"]
LICENSE_BADGES = {
    "LGPL-3": "https://img.shields.io/badge/licence-LGPL--3-blue.png",
    "AGPL-3": "https://img.shields.io/badge/licence-AGPL--3-blue.png",
}
LICENSE_URLS = {
    "LGPL-3": "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
    "AGPL-3": "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
}
HEADING_CHARS = {1: "-", 2: "-", 3: "~", 4: "~"}

BULLET = re.compile(r"^(\s*)([-*+])\s+(.*)$")
NUMBERED = re.compile(r"^(\s*)(\d+)[.)]\s+(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


# ---------------------------------------------------------------------- inline markup
def _protect(text, start, end):
    """Escaped spaces around inline markup glued to letters (reST needs a boundary)."""
    before = "\\ " if start > 0 and text[start - 1].isalnum() else ""
    after = "\\ " if end < len(text) and text[end].isalnum() else ""
    return before, after


def inline(text):
    """Markdown inline markup of one line -> reStructuredText."""
    out, pos = [], 0
    pattern = re.compile(r"`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)")
    for match in pattern.finditer(text):
        out.append(_escape(text[pos : match.start()]))
        before, after = _protect(text, match.start(), match.end())
        if match.group(1) is not None:
            out.append(f"{before}``{match.group(1)}``{after}")
        else:
            out.append(f"{before}`{match.group(2)} <{match.group(3)}>`__{after}")
        pos = match.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(text):
    """Characters that would start reST markup where Markdown means plain text."""
    # a word ending in "_" is a reference, "|x|" a substitution in reST
    text = re.sub(r"(?<=\w)_(?=\s|$|[.,;:!?)])", r"\\_", text)
    return text.replace("|", "\\|")


# ---------------------------------------------------------------------- blocks
def _join_code_spans(lines):
    """Join the lines of a paragraph that a code span crosses (Markdown allows it, reST not)."""
    joined, fenced = [], False
    for line in lines:
        if line.strip().startswith("```"):
            fenced = not fenced
        if joined and not fenced and joined[-1].count("`") % 2 and line.strip():
            joined[-1] = f"{joined[-1]} {line.strip()}"
        else:
            joined.append(line)
    return joined


def markdown_to_rst(source):
    lines = _join_code_spans(source.replace("\t", "    ").splitlines())
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            _blank(out)
            i += 1
            continue
        for block in (_fenced_code, _indented_code, _heading, _table):
            consumed = block(lines, i, out)
            if consumed:
                i += consumed
                break
        else:
            _text_line(line, out)
            i += 1
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _blank(out):
    if out and out[-1] != "":
        out.append("")


def _fenced_code(lines, i, out):
    if not lines[i].strip().startswith("```"):
        return 0
    end = i + 1
    while end < len(lines) and not lines[end].strip().startswith("```"):
        end += 1
    _literal(out, lines[i + 1 : end])
    return end + 1 - i


def _indented_code(lines, i, out):
    """A block indented by 4 spaces after a blank line (not a list item's continuation)."""
    if not lines[i].startswith("    ") or (out and out[-1] != ""):
        return 0
    end = i
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    block = [line[4:] for line in lines[i:end]]
    while block and not block[-1].strip():
        block.pop()
    _literal(out, block)
    return end - i


def _heading(lines, i, out):
    heading = HEADING.match(lines[i])
    if not heading:
        return 0
    title = inline(heading.group(2))
    _blank(out)
    out += [title, HEADING_CHARS.get(len(heading.group(1)), "~") * max(len(title), 3), ""]
    return 1


def _table(lines, i, out):
    if "|" not in lines[i] or i + 1 >= len(lines) or not TABLE_RULE.match(lines[i + 1]):
        return 0
    rows = [_cells(lines[i])]
    end = i + 2
    while end < len(lines) and lines[end].strip().startswith("|"):
        rows.append(_cells(lines[end]))
        end += 1
    _blank(out)
    out += [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        for index, cell in enumerate(row):
            out.append(f"   {'* -' if index == 0 else '  -'} {inline(cell) or '..'}")
    out.append("")
    return end - i


def _text_line(line, out):
    """A list item, its continuation, or a paragraph line (reST wants a blank line between a
    paragraph and a list, which Markdown does not)."""
    item = BULLET.match(line) or NUMBERED.match(line)
    if item:
        if out and out[-1] != "" and not _is_item_line(out):
            _blank(out)
        marker = "-" if BULLET.match(line) else f"{item.group(2)}."
        out.append(f"{item.group(1)}{marker} {inline(item.group(3))}")
        return
    if out and _is_item_line(out) and not line.startswith(" "):
        _blank(out)
    indent = line[: len(line) - len(line.lstrip())]
    out.append(indent + inline(line.strip()))


def _is_item_line(out):
    """Whether the last non-blank paragraph being built is a list item or its continuation."""
    for previous in reversed(out):
        if previous == "":
            return False
        if BULLET.match(previous) or NUMBERED.match(previous):
            return True
        if not previous.startswith(" "):
            return False
    return False


def _literal(out, block):
    _blank(out)
    out += ["::", ""]
    out += [("    " + text).rstrip() for text in block]
    out.append("")


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


# ---------------------------------------------------------------------- README
def _title(text, char="=", over=False):
    rule = char * len(text)
    return [rule, text, rule, ""] if over else [text, rule, ""]


def fragments(addon):
    readme = addon / "readme"
    found = {}
    for path in sorted(readme.glob("*.md")) if readme.is_dir() else []:
        found[path.stem.upper()] = path.read_text(encoding="utf-8").strip() + "\n"
    return found


def generate(addon):
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))
    parts = fragments(addon)
    digest = hashlib.sha256(
        "".join(f"{name}\n{text}" for name, text in sorted(parts.items())).encode()
        + repr(sorted(manifest.items())).encode()
    ).hexdigest()
    license_ = manifest.get("license", "LGPL-3")
    out = _title(manifest["name"], over=True)
    notice = [
        "This file is generated by tools/gen_addon_readme.py:",
        "changes will be overwritten. Edit readme/ instead.",
        f"source digest: sha256:{digest[:32]}",
    ]
    width = max(len(text) for text in notice)
    out += [".. " + "!" * (width + 6)]
    out += [f"   !! {text.ljust(width)} !!" for text in notice]
    out += ["   " + "!" * (width + 6), ""]
    if license_ in LICENSE_BADGES:
        out += [
            f".. |badge1| image:: {LICENSE_BADGES[license_]}",
            f"    :target: {LICENSE_URLS[license_]}",
            f"    :alt: License: {license_}",
            "",
            "|badge1|",
            "",
        ]
    if manifest.get("summary"):
        out += [manifest["summary"], ""]
    if "DESCRIPTION" in parts:
        out += [markdown_to_rst(parts["DESCRIPTION"])]
    out += ["**Table of contents**", "", ".. contents::", "   :local:", ""]
    for name, title in SECTIONS:
        if name in parts:
            out += _title(title) + [markdown_to_rst(parts[name])]
    out += _title("Credits")
    out += _title("Authors", "-")
    out += [f"- {author.strip()}" for author in manifest.get("author", "").split(",") if author.strip()] + [""]
    for name, title in CREDITS:
        if name in parts:
            out += _title(title, "-") + [markdown_to_rst(parts[name])]
    out += _title("License", "-")
    out += [f"{license_}. This addon is part of the CrmAI suite: see the repository's ``README.md``.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def addons(root=ROOT):
    return sorted(path.parent for path in root.glob("*/__manifest__.py"))


def missing_fragments(addon):
    present = fragments(addon)
    return [name for name in REQUIRED if name not in present]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date files without writing them")
    args = parser.parse_args(argv)
    failed = False
    for addon in addons():
        missing = missing_fragments(addon)
        if missing:
            print(f"{addon.name}/readme: missing {', '.join(f'{name}.md' for name in missing)}")
            failed = True
        target = addon / "README.rst"
        text = generate(addon)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            failed = True
            if args.check:
                print(f"{target.relative_to(ROOT)} is out of date: run tools/gen_addon_readme.py")
            else:
                target.write_text(text, encoding="utf-8")
                print(f"{target.relative_to(ROOT)} regenerated")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
