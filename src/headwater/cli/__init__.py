"""The command line: a thin shell over headwater.platform.Platform.

Each command group lives in its own module with a ``register(app)`` function; add a module to
``COMMAND_MODULES`` to add commands.
"""

from __future__ import annotations

import importlib
import sys

import typer

from headwater.cli.output import fail

COMMAND_MODULES = (
    "headwater.cli.project_cmds",
    "headwater.cli.run_cmds",
    "headwater.cli.query_cmds",
    "headwater.cli.stream_cmds",
    "headwater.cli.cost_cmds",
    "headwater.cli.contract_cmds",
    "headwater.cli.observe_cmds",
    "headwater.cli.cdc_cmds",
    "headwater.cli.lineage_cmds",
    "headwater.cli.diagnose_cmds",
    "headwater.cli.serve_cmds",
)

app = typer.Typer(
    name="headwater",
    help="A control plane for data platforms: products, contracts, SLOs, lineage and cost on Iceberg.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Entry point: run the app; every HeadwaterError becomes 'Error: ...' and a non-zero exit."""
    from headwater.errors import HeadwaterError

    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit's code instead of raising it
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except HeadwaterError as exc:
        if debug:
            raise
        fail(exc)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # click's usage errors and the unexpected: say so, no traceback
        if isinstance(exc, _click_kinds("ClickException")):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if isinstance(exc, _click_kinds("Abort")):
            raise SystemExit(1) from None
        if debug:
            raise
        print(f"Error: unexpected {type(exc).__name__}: {exc}\n  run again with --debug for the "
              "traceback, and please report it", file=sys.stderr)
        raise SystemExit(2) from None


def _click_kinds(name: str) -> tuple[type, ...]:
    """Exception class ``name`` from click and from the copy of click newer typers vendor (0.29 here:
    ``typer._click``): a usage error comes from either, depending on the typer installed."""
    kinds = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            kinds.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(kinds)
