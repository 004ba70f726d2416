"""Cross-checks that need the whole project: tiers, inputs, cycles, files and what SQL reads."""

from __future__ import annotations

import difflib
from graphlib import CycleError, TopologicalSorter

from headwater.errors import SpecError
from headwater.spec.project import Project
from headwater.spec.sqlrefs import analyse


def check_graph(project: Project, errors: list[SpecError]) -> None:
    tiers = project.tiers
    known = set(project.products) | set(project.sources)
    for name, product in project.products.items():
        if product.tier not in tiers:
            errors.append(SpecError(
                f"undefined tier {product.tier!r}", location=project.where(name, "tier"),
                fix=f"use one of {', '.join(sorted(tiers))}, or define it under 'tiers:' in headwater.yaml"))
        for i, inp in enumerate(product.inputs):
            if inp == name:
                errors.append(SpecError(f"{name!r} lists itself as an input",
                                        location=project.where(name, "inputs", i),
                                        fix="remove it from inputs"))
            elif inp not in known:
                close = difflib.get_close_matches(inp, sorted(known), n=1)
                errors.append(SpecError(
                    f"input {inp!r} is neither a product nor a source",
                    location=project.where(name, "inputs", i),
                    fix=(f"did you mean {close[0]!r}? " if close else "")
                    + "declare it in products/ or sources/, or remove it"))
        _check_files(project, name, errors)
    _check_cycles(project, errors)
    _check_sql(project, errors)


def _check_files(project: Project, name: str, errors: list[SpecError]) -> None:
    product = project.products[name]
    if product.transform is not None and product.transform.sql is not None:
        path = project.root / product.transform.sql
        if not path.is_file():
            errors.append(SpecError(f"SQL file {product.transform.sql!r} does not exist",
                                    location=project.where(name, "transform", "sql"),
                                    fix=f"create {product.transform.sql} or correct the path"))
        else:
            project.sql[name] = path.read_text(encoding="utf-8")
    if product.transform is not None and product.transform.python is not None:
        file = product.transform.python.rsplit(":", 1)[0]
        if not (project.root / file).is_file():
            errors.append(SpecError(f"Python file {file!r} does not exist",
                                    location=project.where(name, "transform", "python"),
                                    fix="create it or correct the path ('file.py:function')"))
    if product.contract is not None and not (project.root / product.contract).is_file():
        errors.append(SpecError(f"contract file {product.contract!r} does not exist",
                                location=project.where(name, "contract"),
                                fix=f"create {product.contract} or remove the 'contract' key"))


def _check_cycles(project: Project, errors: list[SpecError]) -> None:
    graph = {n: [i for i in p.inputs if i in project.products and i != n]
             for n, p in project.products.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle = exc.args[1]
        errors.append(SpecError(
            f"products form a cycle: {' -> '.join(reversed(cycle))}",
            location=project.where(cycle[0], "inputs"),
            fix="a product cannot depend on its own output; remove one of these inputs"))


def _check_sql(project: Project, errors: list[SpecError]) -> None:
    known = set(project.products) | set(project.sources)
    for name, sql in project.sql.items():
        product = project.products[name]
        file = product.transform.sql
        reads = analyse(sql)
        for problem in reads.problems:
            loc = project.where(name, "transform", "sql")
            if problem.line is not None:
                loc = type(loc)(file, problem.line, None)
            errors.append(SpecError(problem.message, location=loc, fix=problem.fix))
        declared = set(product.inputs)
        for table in sorted(reads.tables - declared):
            if table in known:
                errors.append(SpecError(
                    f"the SQL reads {table!r}, which is not among the inputs of {name!r}",
                    location=project.where(name, "inputs"),
                    fix=f"add {table!r} to inputs, so headwater runs it first and tracks the lineage"))
            else:
                errors.append(SpecError(
                    f"the SQL reads {table!r}, which is not a declared product or source",
                    location=type(project.where(name))(file, _line_of(sql, table), None),
                    fix="declare it as a source or product and add it to inputs"))
        for i, inp in enumerate(product.inputs):
            if inp in known and inp not in reads.tables and not reads.problems:
                errors.append(SpecError(
                    f"input {inp!r} is declared but the SQL never reads it",
                    location=project.where(name, "inputs", i),
                    fix="remove it from inputs, or read it in the SQL"))


def _line_of(sql: str, word: str) -> int | None:
    for number, line in enumerate(sql.splitlines(), 1):
        if word in line.lower():
            return number
    return None
