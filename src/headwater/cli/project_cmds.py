"""headwater init, validate, demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from headwater.cli.output import JsonOpt, ProjectOpt, console, human_bytes, platform, print_json, table


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("validate")(validate)
    app.command("demo")(demo)


def _scaffold(directory: Path, example: str, scale: float, seed: int) -> dict:
    from headwater.examples import scaffold

    with console(stderr=True).status(f"generating the {example} example at scale {scale:g}..."):
        summary = scaffold(example=example, target=directory, scale=scale, seed=seed)
    return summary if isinstance(summary, dict) else summary.to_dict() if hasattr(summary, "to_dict") \
        else dict(vars(summary))


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create.")],
    example: Annotated[str, typer.Option(help="Example to scaffold.")] = "ecommerce",
    scale: Annotated[float, typer.Option(help="Data scale: 1 is about 100k orders.", min=0.001)] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    json: JsonOpt = False,
) -> None:
    """Create a working project with generated raw data."""
    summary = _scaffold(directory, example, scale, seed)
    if json:
        print_json(summary)
        return
    console().print(f"created {directory} ({example}, scale {scale:g})\n"
                    f"next: cd {directory} && headwater validate && headwater run")


def validate(project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Check the whole project; every error names the file, line, key and fix."""
    proj = platform(project).validate()
    report = {"project": proj.name, "products": len(proj.products), "sources": len(proj.sources),
              "lanes": sorted({p.lane for p in proj.products.values()}), "ok": True}
    if json:
        print_json(report)
    else:
        console().print(f"[green]ok[/]: {proj.name}: {report['products']} products, "
                        f"{report['sources']} sources, no problems")


def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo project.")] = Path("headwater-demo"),
    scale: Annotated[float, typer.Option(help="Data scale: 1 is about 100k orders.", min=0.001)] = 1.0,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Scaffold the e-commerce example (if needed), run every product and summarise what was built."""
    directory = project or directory
    started = time.perf_counter()
    if not (directory / "headwater.yaml").exists():
        _scaffold(directory, "ecommerce", scale, 7)
    hw = platform(directory)
    from headwater.cli.run_cmds import run as run_command

    try:
        run_command(products=None, partition=None, full_refresh=False, upstream=False,
                    project=directory, json=False) if not json else None
    except typer.Exit:
        pass
    result_steps = None
    if json:
        result_steps = hw.run(trigger="demo").to_dict()
    statuses = hw.status()
    total_rows = sum(s.rows or 0 for s in statuses)
    summary = {
        "project": str(directory.resolve()),
        "products": len(statuses),
        "succeeded": sum(s.last_status == "success" for s in statuses),
        "rows": total_rows,
        "warehouse": str(hw.lakehouse.warehouse),
        "warehouse_bytes": _folder_bytes(Path(hw.lakehouse.warehouse)),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if json:
        print_json({"summary": summary, "run": result_steps})
        return
    out = console()
    top = hw.query("SELECT country, sum(gross_revenue) AS revenue FROM fct_daily_revenue "
                   "GROUP BY country ORDER BY revenue DESC LIMIT 5") \
        if "fct_daily_revenue" in hw.project.products else None
    out.print(f"\n[bold]headwater demo[/]: {summary['succeeded']}/{summary['products']} products built, "
              f"{total_rows:,} rows, {human_bytes(summary['warehouse_bytes'])} of Iceberg tables "
              f"in {summary['seconds']}s")
    if top is not None:
        out.print(table("revenue by country (top 5, from fct_daily_revenue)", top.column_names,
                        [list(r.values()) for r in top.to_pylist()]))
    out.print(f"try:\n  cd {directory}\n  headwater status\n"
              "  headwater query \"SELECT * FROM fct_daily_revenue ORDER BY order_date DESC LIMIT 10\"\n"
              "  headwater snapshots fct_orders")


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
