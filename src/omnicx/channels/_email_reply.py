"""The text a person newly wrote in an email: quoted replies and signatures taken out.

Works on plain text, line by line:

* ``>``-quoted lines are quotes;
* a quote header (``On … wrote:``, possibly wrapped over up to three lines, and
  its French, German, Spanish, Portuguese, Dutch and Italian forms) belongs to
  the quote below it;
* a cut marker starts a quote that runs to the end of the text without ``>``:
  ``-----Original Message-----``, ``----- Original Message -----``, a line of
  underscores followed by ``From:``, an Outlook header block (``From:``
  followed within four lines by ``Sent:`` or ``Date:``), ``Begin forwarded message:``;
* a signature starts at ``-- `` / ``--``, a line of ten or more underscores,
  or ``Sent from my …``, and runs to the next quote (or the end).

Text between quotes is kept, so inline replies survive. The full body is kept
elsewhere; this is only the part worth showing an agent first.
"""

from __future__ import annotations

import re

__all__ = ["extract_new_text", "html_to_text"]

_WROTE = re.compile(
    r"^\s*(?:"
    r"On\b.{1,300}\bwrote:"
    r"|Le\b.{1,300}\ba [ée]crit\s?:"
    r"|Am\b.{1,300}\bschrieb\b.{0,200}:"
    r"|El\b.{1,300}\bescribi[óo]\s?:"
    r"|Em\b.{1,300}\bescreveu\s?:"
    r"|Op\b.{1,300}\bschreef\b.{0,200}:"
    r"|Il giorno\b.{1,300}\bha scritto\s?:"
    r")\s*$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARDED = re.compile(
    r"^\s*(?:Begin forwarded message:|-{2,}\s*Forwarded message\s*-{2,})\s*$", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_FROM = re.compile(r"^\s*\*?(?:From|De|Von|Van|Da)\s*:\*?\s", re.IGNORECASE)
_SENT = re.compile(r"^\s*\*?(?:Sent|Date|Envoyé|Gesendet|Enviado|Verzonden|Inviato)\s*:\*?\s", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(?:--\s?|__________+)\s*$")
_MOBILE = re.compile(r"^\s*Sent from my \w[\w ]{0,40}$|^\s*Get Outlook for \w+\s*$", re.IGNORECASE)


def _is_outlook_block(lines: list[str], index: int) -> bool:
    if not _FROM.match(lines[index]):
        return False
    return any(_SENT.match(line) for line in lines[index + 1 : index + 5])


def _quote_header_span(lines: list[str], index: int) -> int:
    """How many lines (1-3) starting at ``index`` form an ``On … wrote:`` header; 0 if none."""
    joined = ""
    for span in range(1, 4):
        if index + span > len(lines):
            break
        line = lines[index + span - 1]
        if span > 1 and (not line.strip() or line.lstrip().startswith(">")):
            break
        joined = f"{joined} {line.strip()}" if joined else line.strip()
        if len(joined) > 400:
            break
        if _WROTE.match(joined):
            return span
    return 0


def extract_new_text(text: str) -> str:
    """The newly written part of a plain-text email body (see the module docstring).

    Returns the kept lines with trailing white space removed, runs of blank
    lines collapsed to one, and leading and trailing blank lines dropped.
    Never raises.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    keep: list[bool] = []
    index = 0
    in_signature = False
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith(">"):
            keep.append(False)
            in_signature = False
            index += 1
            continue
        span = _quote_header_span(lines, index)
        if span:
            keep.extend([False] * span)
            in_signature = False
            index += span
            continue
        if (
            _ORIGINAL.match(line)
            or _FORWARDED.match(line)
            or _is_outlook_block(lines, index)
            or (_UNDERSCORES.match(line) and any(_FROM.match(n) for n in lines[index + 1 : index + 3]))
        ):
            keep.extend([False] * (len(lines) - index))
            break
        if _SIGNATURE.match(line) or _MOBILE.match(line):
            in_signature = True
        keep.append(not in_signature)
        index += 1
    kept = [line.rstrip() for line, ok in zip(lines, keep, strict=False) if ok]
    out: list[str] = []
    for line in kept:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body: tags dropped, ``<br>``/blocks as line breaks, quotes left out.

    Skips ``<head>``, ``<style>``, ``<script>``, ``<blockquote>`` and Gmail's
    ``gmail_quote`` containers. Never raises.
    """
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        skip_tags = frozenset({"head", "style", "script", "blockquote", "title"})
        block_tags = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"})
        void_tags = frozenset({"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr"})

        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.stack: list[tuple[str, bool]] = []

        def _skipping(self) -> bool:
            return any(skip for _, skip in self.stack)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            classes = " ".join(v or "" for k, v in attrs if k == "class")
            skip = tag in self.skip_tags or "gmail_quote" in classes
            if tag in self.block_tags and not self._skipping():
                self.parts.append("\n")
            if tag not in self.void_tags and len(self.stack) < 500:
                self.stack.append((tag, skip))

        def handle_endtag(self, tag: str) -> None:
            for position in range(len(self.stack) - 1, -1, -1):
                if self.stack[position][0] == tag:
                    del self.stack[position:]
                    break
            if tag in self.block_tags and not self._skipping():
                self.parts.append("\n")

        def handle_data(self, data: str) -> None:
            if not self._skipping():
                self.parts.append(data)

    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's rare internal errors on hostile markup
        pass
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    return "\n".join(lines)
