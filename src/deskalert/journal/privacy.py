"""The member of the public's file numbers stay out of notes and alert messages.

The numbers met at a public-service counter, and what gives them away in free text:

- CAF allocataire number: 7 digits;
- France Travail identifier: 7 digits and a letter (the digits give it away);
- NIR (social security number): 13 digits, 15 with its key, often written in groups with spaces
  ("1 85 05 78 006 084 36"), with 2A or 2B for a birth in Corsica;
- phone numbers (10 digits) are refused by the same rule.

So: any run of 7 or more digits, groups separated by single spaces allowed, and the NIR's shape
with a Corsican department. Times (10:42), dates (21/11/2026, 2026-11-21), amounts (1 200 €) and
short counts have fewer digits in a row, or separators other than spaces, and pass.
"""

from __future__ import annotations

import re

SPACE = "[ \u00a0\u202f]?"  # a space, or the no-break spaces that French typing inserts
DIGIT_RUN = re.compile(rf"\d(?:{SPACE}\d){{6,}}")
NIR_CORSICA = re.compile(
    rf"\b[12]{SPACE}\d\d{SPACE}\d\d{SPACE}2[AB]{SPACE}\d{{3}}{SPACE}\d{{3}}", re.IGNORECASE
)


def has_file_number(text: str) -> bool:
    """True if `text` holds something that looks like a file or social security number."""
    return DIGIT_RUN.search(text) is not None or NIR_CORSICA.search(text) is not None
