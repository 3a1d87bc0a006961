"""Table columns of the mirror lists: labels and the sort keys the FilterSets accept."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict


@dataclass(frozen=True)
class Column:
    label: str
    sort: str = ""  # the FilterSet's `ordering` value, "" if not sortable


CONTAINER_COLUMNS = (
    Column("Name", "name"), Column("Host", "host"), Column("State", "state"), Column("Image", "image"),
    Column("Stack"), Column("Ports"), Column("Created", "created"), Column("Status"),
)
IMAGE_COLUMNS = (Column("Tags", "tags"), Column("ID"), Column("Host", "host"), Column("Size", "size"), Column("Created", "created"))
VOLUME_COLUMNS = (Column("Name", "name"), Column("Host", "host"), Column("Driver", "driver"), Column("Mountpoint"), Column("Created", "created"))
NETWORK_COLUMNS = (Column("Name", "name"), Column("Host", "host"), Column("Driver", "driver"), Column("Scope"), Column("Attached"), Column("Created", "created"))


def headers(query: QueryDict, columns) -> list[dict]:
    """Each column with the link that sorts by it (toggling direction) and its state."""
    current = query.get("ordering", "")
    out = []
    for col in columns:
        entry = {"label": col.label, "url": "", "direction": ""}
        if col.sort:
            if current == col.sort:
                entry["direction"], target = "ascending", f"-{col.sort}"
            elif current == f"-{col.sort}":
                entry["direction"], target = "descending", col.sort
            else:
                target = col.sort
            params = query.copy()
            params["ordering"] = target
            params.pop("page", None)
            entry["url"] = "?" + params.urlencode()
        out.append(entry)
    return out
