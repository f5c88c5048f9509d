"""CSV files staff open in a spreadsheet: reader-controlled text must never run as a formula."""

import csv
from typing import Any

# A cell starting with one of these is evaluated by Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); a leading apostrophe makes the spreadsheet show it as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every string cell goes through safe_cell."""

    def __init__(self, file, **kwargs):
        self.writer = csv.writer(file, **kwargs)

    def writerow(self, row) -> None:
        self.writer.writerow([safe_cell(value) for value in row])
