"""Text from TikTok made safe for a terminal — the one place the command line escapes it.

Names, nicknames, hosts, room ids and comments are free text that viewers choose. Printed as they
are, Rich would read ``[/]`` or ``[bold red]`` in them as markup (and fail, or restyle the
output), an ANSI or OSC escape sequence would reach the terminal (clear the screen, paint fake
totals, retitle the window), and a right-to-left override would reverse the text after it. Every
such string goes through :func:`term` before it is printed: markup is escaped, and control and
bidirectional-formatting characters are shown as visible escapes (``\\x1b``, ``\\u202e``).
"""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, and the Unicode bidirectional formatting characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """``value`` as plain text (not for Rich) with control and bidi characters shown as
    escapes: for lines written straight to a stream, such as error messages."""
    return _UNSAFE.sub(_visible, str(value))


def term(value: object) -> str:
    """``value`` as text that prints as itself in a Rich console (markup escaped, control and
    bidi characters shown as escapes)."""
    from rich.markup import escape  # here: the command line starts without rich

    return escape(_UNSAFE.sub(_visible, str(value)))
