"""Small CDC projects on disk for the CDC tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from headwater.platform import Platform

TESTDATA = Path("/work/shared/testdata")
FLINK = TESTDATA / "third_party/debezium/apache_flink_test_resources"


def cdc_project(root: Path, *, kind: str = "debezium", url: str = "changes.jsonl",
                table: str = "inventory.products", primary_key: str = "[id]", history: bool = False,
                slot: str | None = None, options: str = "{}") -> Platform:
    root.mkdir(parents=True, exist_ok=True)
    (root / "headwater.yaml").write_text("name: cdctest\n")
    (root / "products").mkdir(exist_ok=True)
    slot_line = f"\n                slot: {slot}" if slot else ""
    (root / "products" / "mirror.yaml").write_text(textwrap.dedent(f"""\
        products:
          - name: products_mirror
            domain: sales
            owner: {{team: sales-data, oncall: sales@example.com}}
            tier: ops
            lane: cdc
            primary_key: {primary_key}
            cdc:
              history: {str(history).lower()}
              source:
                kind: {kind}
                url: "{url}"
                table: {table}{slot_line}
                options: {options}
        """))
    return Platform(root)


def mirror_rows(platform: Platform, name: str = "products_mirror", key: str = "id") -> list[dict]:
    """The mirror's source columns, sorted by key."""
    table = platform.query(f"SELECT * FROM {name} ORDER BY {key}")
    return [{k: v for k, v in row.items() if not k.startswith("_cdc_")} for row in table.to_pylist()]
