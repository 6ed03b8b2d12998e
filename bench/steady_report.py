"""The steady-state benchmark's rows in bench/run's report: read back from the JSON that
`bench/steady_state.py --json FILE` writes (the run itself takes 15 minutes or more, so
bench/run collects it rather than running it)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from report_md import Row, Section, Target

TITLE = "Steady state (issue 17)"


def sections(path: Path) -> list[Section]:
    """One report section per section of the steady-state run, titled after it."""
    document = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, list[Row]] = {}
    for row in document["rows"]:
        limit = row["limit"]
        target = Target(math.inf if limit is None else float(limit), row["target"],
                        ours=bool(row.get("ours")))
        value = row["value"]
        found.setdefault(row["section"], []).append(Row(
            row["measure"], row["figure"], None if value is None else float(value), target,
            row["against"]))
    note = f"From `{path.name}`: " + "; ".join(
        f"{name} {value}" for name, value in document.get("facts", []))
    return [Section(f"{TITLE}: {title}", rows, note if number == 0 else "")
            for number, (title, rows) in enumerate(found.items())]
