"""Sorts in the easy-htmlq / EQ Web Sort results form, which qmethod, KADE and Ken-Q import.

One record per participant, keyed by participant code (qmethod's import.easyhtmlq uses the keys
as sort names): `sort` is "v1|v2|...|vN", the values of statements 1..N; `commentNN` holds the
comment on statement NN; `formK` the answer to the K-th post-sort question (from 0).
"""

from __future__ import annotations

from qsort.exchange.dataset import StudyData


def results(data: StudyData) -> dict[str, dict[str, str]]:
    records: dict[str, dict[str, str]] = {}
    for record in data.sorts:
        entry = {
            "uid": record.label,
            "datetime": record.submitted_at.isoformat(),
            "sort": "|".join(str(v) for v in record.values),
        }
        entry.update({f"comment{number:02d}": text for number, (_value, text) in sorted(record.comments.items())})
        entry.update({f"form{i}": answer for i, answer in enumerate(record.answers) if answer})
        records[record.label] = entry
    return records
