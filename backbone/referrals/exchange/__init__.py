"""Exchange of referral data: the de-identified export for evaluators and the import of
people, consents and referrals from a partner's CSV (see docs/referrals.md, "Exchange").

`export_referrals(network, path)` and `import_file(network, path, dry_run)` are the
command-line doors (`backbone referrals export|import`); the web pages are in
views_exchange.py.
"""

from backbone.referrals.exchange.export import (
    EXPORT_COLUMNS,
    export_referrals,
    export_rows,
    may_export,
    pseudonym,
)
from backbone.referrals.exchange.importing import (
    IMPORT_COLUMNS,
    import_columns,
    import_file,
    referrals_import,
    template_csv,
)

__all__ = [
    "EXPORT_COLUMNS",
    "IMPORT_COLUMNS",
    "export_referrals",
    "export_rows",
    "import_columns",
    "import_file",
    "may_export",
    "pseudonym",
    "referrals_import",
    "template_csv",
]
