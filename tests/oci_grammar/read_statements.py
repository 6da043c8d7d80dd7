"""How oci-policy-analysis reads OCI policy statements and decides `where` clauses.

Run with this folder's environment (Python >= 3.12): `python read_statements.py IN.json OUT.json`.
IN holds `statements` (policy statement texts) and `conditions` (pairs of a where clause and
the variables of one request); OUT gets, per statement, the package's own reading (or why it
could not parse it), and per condition its evaluator's verdict. One process for all of them:
importing the package costs seconds. Its logging goes to stdout and ~/.oci-policy-analysis,
so the results travel through OUT only.
"""

import json
import sys
from pathlib import Path
from typing import Any

from oci_policy_analysis.application.core.parser.condition_parser.WhereClauseEvaluator import (
    evaluate_where_clause,
)
from oci_policy_analysis.application.core.parser.policy_statement_normalizer import PolicyStatementNormalizer

READING = (
    "parsed", "valid", "invalid_reasons", "action", "subject_type", "subject", "verb", "resource",
    "permission", "location_type", "location", "conditions", "condition_atoms", "where_clause",
)


def reading(normalized: Any) -> dict[str, Any]:
    return {key: normalized.get(key) for key in READING}


def main(source: str, target: str) -> None:
    request = json.loads(Path(source).read_text())
    normalizer = PolicyStatementNormalizer()
    readings = [reading(normalizer.normalize(text, "regular", {})) for text in request["statements"]]
    verdicts = [evaluate_where_clause(where, variables)[0] for where, variables in request["conditions"]]
    Path(target).write_text(json.dumps({"readings": readings, "verdicts": verdicts}))


if __name__ == "__main__":
    main(*sys.argv[1:])
