"""headwater init, validate, demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from headwater.cli.output import (
    JsonOpt,
    ProjectOpt,
    console,
    platform,
    print_json,
)


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
    out = console()
    out.print(f"created {directory} ({example}, scale {scale:g})", highlight=False)
    for note in summary.get("notes") or []:
        out.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"next: cd {directory} && headwater validate && headwater run", highlight=False)


def validate(project: ProjectOpt = None, json: JsonOpt = False) -> None:
    """Check the whole project; every error names the file, line, key and fix."""
    hw = platform(project)
    proj = hw.validate()
    report = {"project": proj.name, "products": len(proj.products), "sources": len(proj.sources),
              "contracts": len(hw.contracts.contracts()),
              "lanes": sorted({p.lane for p in proj.products.values()}), "ok": True}
    if json:
        print_json(report)
    else:
        console().print(f"[green]ok[/]: {proj.name}: {report['products']} products, "
                        f"{report['sources']} sources, {report['contracts']} contracts, no problems")


def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo project.")] = Path("headwater-demo"),
    scale: Annotated[float, typer.Option(help="Data scale: 1 is about 100k orders.", min=0.001)] = 1.0,
    stage: Annotated[list[str] | None, typer.Option(help="Run only these demo stages.")] = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Scaffold the e-commerce example (if needed), build it, and show each capability at work."""
    from headwater.demo import run_stages

    directory = project or directory
    started = time.perf_counter()
    if not (directory / "headwater.yaml").exists():
        _scaffold(directory, "ecommerce", scale, 7)
    hw = platform(directory)
    out = None if json else console()
    results = run_stages(hw, out, only=stage)
    summary = {"project": str(directory.resolve()), "seconds": round(time.perf_counter() - started, 2),
               "stages": results}
    if json:
        print_json(summary)
        return
    out.print(f"\n[bold]headwater demo[/] done in {summary['seconds']}s: {directory}\n"
              f"try:\n  cd {directory}\n  headwater status\n"
              "  headwater query \"SELECT * FROM fct_daily_revenue ORDER BY order_date DESC LIMIT 10\"\n"
              "  headwater snapshots fct_orders")
    build = results.get("build")
    if build and build.get("status") != "success":
        raise typer.Exit(1)


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
