"""headwater lineage ingest|show, headwater impact, headwater import dbt."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, platform, print_json, table

lineage_app = typer.Typer(help="The lineage graph: ingest OpenLineage events, show a node's lineage.",
                          no_args_is_help=True)
import_app = typer.Typer(help="Import lineage and contracts from other tools.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lineage_app, name="lineage")
    app.add_typer(import_app, name="import")
    app.command("impact")(impact)
    lineage_app.command("ingest")(ingest)
    lineage_app.command("show")(show)
    import_app.command("dbt")(import_dbt)


def ingest(
    files: Annotated[list[str], typer.Argument(help="JSON (an event or a list) or JSON-lines files; - for stdin.")],
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Store OpenLineage events (spec 2-0-2); invalid ones are reported with the reason, not stored."""
    result = platform(project).lineage.ingest_files(files)
    if json:
        print_json(result.to_dict())
    else:
        out = console()
        out.print(f"{result.stored} stored, {result.duplicates} already known, {len(result.rejected)} rejected "
                  f"(of {result.received})")
        for r in result.rejected[:20]:
            out.print(f"  event {r.index}: " + "; ".join(str(p) for p in r.problems), markup=False)
    if result.rejected:
        raise SystemExit(1)  # scripts can tell a partial ingest


def show(
    node: Annotated[str, typer.Argument(help="A product, source, job or dataset (id, namespace/name or name).")],
    upstream: Annotated[bool, typer.Option("--upstream", help="Only what it is made from.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only what is made from it.")] = False,
    depth: Annotated[int | None, typer.Option(
        min=1, help="Hops to follow (a job and a dataset are one hop each; default: all).")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show a node and what is upstream and downstream of it, with owners."""
    direction = "upstream" if upstream and not downstream else "downstream" if downstream and not upstream else "both"
    data = platform(project).lineage.show(node, direction, depth)
    if json:
        print_json(data)
        return
    out = console()
    n = data["node"]
    also = [name for name in (n["uri"], *n["aliases"]) if name != n["label"]]
    out.print(f"[bold]{n['type'].lower()} {n['label']}[/]" + (f"  (also {', '.join(also)})" if also else ""))
    for way in ("upstream", "downstream"):
        if way in data:
            out.print(table(f"{way} ({len(data[way])})", ["hops", "type", "node", "owners"],
                            [[x["distance"], x["type"].lower(), x["label"], ", ".join(x["owners"])]
                             for x in data[way]]))


def impact(
    target: Annotated[str, typer.Argument(help="PRODUCT, PRODUCT.COLUMN, or any dataset (id or namespace/name).")],
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Everything a change to a dataset or column reaches: datasets, jobs, consumers, with owners."""
    data = platform(project).lineage.impact(target)
    if json:
        print_json(data)
        return
    out = console()
    name = data["target"]["label"]
    if data["column"] is None:
        out.print(table(f"downstream of {name}: {len(data['datasets'])} datasets, {len(data['jobs'])} jobs",
                        ["hops", "type", "node", "owner", "on call"],
                        [[x["distance"], x["type"].lower(), x["label"],
                          ", ".join(x["owners"]), x.get("oncall")] for x in data["jobs"] + data["datasets"]]))
    else:
        out.print(table(f"changing {name}.{data['column']} breaks", ["job", "references", "owner", "on call"],
                        [[x["label"], ", ".join(x["references"]), ", ".join(x["owners"]),
                          x.get("oncall")] for x in data["broken_jobs"]]))
        out.print(table("columns computed from it", ["dataset", "column", "from"],
                        [[c["label"], c["column"], c["from"]] for c in data["changed_columns"]]))
        out.print(table("stale downstream", ["hops", "type", "node", "owner"],
                        [[x["distance"], x["type"].lower(), x["label"], ", ".join(x["owners"])]
                         for x in data["stale"]]))
        if data["unknown_use"]:
            out.print(table("read by jobs whose column use is unknown", ["job", "owner"],
                            [[x["label"], ", ".join(x["owners"])] for x in data["unknown_use"]]))
    out.print(table("consumers to tell", ["consumer", "owner", "via", "kind"],
                    [[c["name"], c["owner"], c["via"], c["kind"]] for c in data["consumers"]]))


def import_dbt(
    manifest: Annotated[str, typer.Option("--manifest", help="dbt target/manifest.json (v1-v12).")],
    run_results: Annotated[str | None, typer.Option("--run-results", help="target/run_results.json (v1-v6).")] = None,
    catalog: Annotated[str | None, typer.Option("--catalog", help="target/catalog.json (column types).")] = None,
    contracts_dir: Annotated[str | None, typer.Option("--contracts-dir",
                                                         help="Where enforced model contracts are written "
                                                              "(default: <project>/contracts).")] = None,
    namespace: Annotated[str | None, typer.Option(
        "--namespace", help="The warehouse as other tools' OpenLineage events name it (postgres://host:5432, "
                            "snowflake://org-account, bigquery): dbt's tables then meet theirs. Default: "
                            "<adapter>://<database>.")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Import dbt models, sources, seeds, snapshots, tests and exposures as lineage; timings as runs."""
    report = platform(project).lineage.import_dbt(manifest, run_results, catalog, contracts_dir, namespace)
    if json:
        print_json(report)
        return
    out = console()
    nodes = ", ".join(f"{n} {k}s" for k, n in report["nodes"].items())
    out.print(f"dbt manifest v{report['manifest_version']} of {report['project']} ({report['adapter']}): {nodes}")
    ev = report["events"]
    out.print(f"{report['runs']} node runs; {ev['stored']} events stored, {ev['duplicates']} already known")
    for path in report["contracts"]:
        out.print(f"contract written: {path}")
