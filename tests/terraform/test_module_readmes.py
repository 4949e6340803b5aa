"""Each module documents its interface (issue 12, item 7): terraform/modules/<m>/README.md has
an Inputs table with exactly the variables of the module (type, `required` where there is no
default and the default otherwise, description), an Outputs table with exactly its outputs,
and an Example whose module call sets every required input and no unknown one.

The comparison is one function returning problems, like the checks of contracts.py; it runs
on every README (none allowed) and on broken copies of one (each must be found), so it cannot
pass vacuously.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.terraform import contracts

MODULES = REPO / "terraform" / "modules"
MODULE_NAMES = [d.name for d in contracts.module_dirs(MODULES) if d.parent == MODULES]

INPUT_COLUMNS = ["Name", "Type", "Default", "Description"]
OUTPUT_COLUMNS = ["Name", "Description"]
REQUIRED = "required"
# Arguments of a module block that are not input variables.
META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})

_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before punctuation


@dataclass
class Readme:
    """What a README says about its module's interface."""

    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    example: str | None = None
    problems: list[str] = field(default_factory=list)


def _sections(text: str) -> dict[str, list[str]]:
    """The lines under each `## ` heading; headings inside fenced code do not count."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            current = sections.setdefault(line[3:].strip(), []) if line.startswith("## ") else None
            continue
        if current is not None:
            current.append(line)
    return sections


def _cell(text: str) -> str:
    """A cell's text: the content of a code span that fills it, else the text unescaped."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "`" and "`" not in text[1:-1]:
        return text[1:-1].replace("\\|", "|").strip()
    return _ESCAPED.sub(r"\1", text)


def _table(lines: list[str], columns: list[str], what: str, readme: Readme) -> dict:
    """The rows of the first table in lines, by their first column."""
    rows = [line.strip() for line in lines if line.strip().startswith("|")]
    if not rows:
        readme.problems.append(f"README: no {what} table")
        return {}
    split = [[_cell(c) for c in _CELL_SEPARATOR.split(row)[1:-1]] for row in rows]
    if split[0] != columns:
        readme.problems.append(f"README: {what} columns are {split[0]}, expected {columns}")
        return {}
    table: dict[str, dict[str, str]] = {}
    for cells in split[2:]:  # after the header and the |---| line
        if len(cells) != len(columns):
            readme.problems.append(f"README: {what} row {cells} has not {len(columns)} cells")
        elif cells[0] in table:
            readme.problems.append(f"README: {what} {cells[0]} appears twice")
        else:
            table[cells[0]] = dict(zip(columns, cells, strict=True))
    return table


def parse_readme(text: str) -> Readme:
    readme = Readme()
    sections = _sections(text)
    for heading in ("Inputs", "Outputs", "Example"):
        if heading not in sections:
            readme.problems.append(f"README: no '## {heading}' section")
    readme.inputs = _table(sections.get("Inputs", []), INPUT_COLUMNS, "Inputs", readme)
    readme.outputs = _table(sections.get("Outputs", []), OUTPUT_COLUMNS, "Outputs", readme)
    example = re.search(r"^```hcl\n(.*?)^```", "\n".join(sections.get("Example", [])), re.M | re.S)
    if example:
        readme.example = example.group(1)
    elif "Example" in sections:
        readme.problems.append("README: the Example section has no ```hcl block")
    return readme


def _expression(text: str):
    """An HCL expression (a type, a default) as python-hcl2 reads it in a .tf file."""
    return contracts.loads(f"value = {text}\n")["value"]


def _normalised(value) -> str:
    """An expression as python-hcl2 gives it, whitespace collapsed and without `${ }`."""
    text = " ".join(str(value).split())
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _compare_names(kind: str, declared: set[str], documented: set[str], file: str) -> list[str]:
    return [f"{kind} {n} of {file} is not in the README" for n in sorted(declared - documented)] + [
        f"README {kind} {n} is not in {file}" for n in sorted(documented - declared)
    ]


def _compare_description(what: str, body: dict, documented: str) -> list[str]:
    declared = body.get("description")
    if declared is None:
        return [] if documented else [f"{what}: no description in the README"]
    if _normalised(documented) != _normalised(declared):
        return [f"{what}: description {documented!r} is not {declared!r} (its description)"]
    return []


def _input_problems(name: str, body: dict, row: dict[str, str]) -> list[str]:
    problems = []
    declared_type = body.get("type", "any")
    try:
        documented_type = _expression(row["Type"])
    except Exception as error:  # python-hcl2 raises lark's errors
        documented_type = f"<unparsable: {error}>"
    if _normalised(documented_type) != _normalised(declared_type):
        problems.append(f"input {name}: type {row['Type']!r} is not {_normalised(declared_type)!r}")
    default = row["Default"]
    if "default" not in body:
        if default != REQUIRED:
            problems.append(f"input {name}: has no default, the README says {default!r}")
    elif default == REQUIRED:
        problems.append(f"input {name}: has a default, the README says {REQUIRED!r}")
    else:
        try:
            documented_default = _expression(default)
        except Exception as error:
            documented_default = f"<unparsable: {error}>"
        if documented_default != body["default"]:
            problems.append(f"input {name}: default {default!r} is not {body['default']!r}")
    return problems + _compare_description(f"input {name}", body, row["Description"])


def _example_problems(directory: Path, example: str, variables: dict[str, dict]) -> list[str]:
    try:
        parsed = contracts.loads(example)
    except Exception as error:
        return [f"example: not HCL ({error})"]
    calls = [(name, body) for block in parsed.get("module", []) for name, body in block.items()]
    if len(calls) != 1 or set(parsed) != {"module"}:
        return [f"example: {len(calls)} module blocks and {sorted(parsed)}, expected one module"]
    name, call = calls[0]
    source = str(call.get("source", ""))
    problems = []
    if Path(source).name != directory.name or not source.startswith("../"):
        problems.append(f"example: module {name} has source {source!r}, not this module")
    arguments = set(call) - META_ARGUMENTS
    required = {n for n, body in variables.items() if "default" not in body}
    problems += [f"example: required input {n} is not set" for n in sorted(required - arguments)]
    problems += [
        f"example: sets {n}, which is no variable" for n in sorted(arguments - set(variables))
    ]
    return problems


def readme_problems(directory: Path, text: str) -> list[str]:
    """Where a README (text) disagrees with the variables and outputs of its module."""
    readme = parse_readme(text)
    variables = contracts.named_blocks(directory, "variable")
    outputs = contracts.named_blocks(directory, "output")
    problems = list(readme.problems)
    problems += _compare_names("input", set(variables), set(readme.inputs), "variables.tf")
    problems += _compare_names("output", set(outputs), set(readme.outputs), "outputs.tf")
    for name in sorted(set(variables) & set(readme.inputs)):
        problems += _input_problems(name, variables[name], readme.inputs[name])
    for name in sorted(set(outputs) & set(readme.outputs)):
        row = readme.outputs[name]
        problems += _compare_description(f"output {name}", outputs[name], row["Description"])
    if readme.example is not None:
        problems += _example_problems(directory, readme.example, variables)
    return problems


# --- the READMEs -----------------------------------------------------------------------------


def test_every_module_is_checked():
    assert {
        "alb",
        "bucket",
        "broker",
        "compute",
        "database",
        "network",
        "platform",
        "storage",
    } <= set(MODULE_NAMES)


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_the_readme_documents_the_modules_interface(module: str):
    directory = MODULES / module
    readme = directory / "README.md"
    assert readme.is_file(), f"terraform/modules/{module} has no README.md"
    assert readme_problems(directory, readme.read_text()) == []


# --- the checker finds what is wrong ---------------------------------------------------------

DATABASE = MODULES / "database"

# (what is broken, replaced text, replacement, a word the problem must name)
MUTATIONS = [
    (
        "input missing",
        "| `multi_az` | `bool` | required | Standby in a second zone with automatic failover. |\n",
        "",
        "multi_az",
    ),
    (
        "unknown input",
        "| `multi_az` |",
        "| `replicas` | `number` | `1` | Read replicas. |\n| `multi_az` |",
        "replicas",
    ),
    ("output missing", "| `port` | Port of the database endpoint. |\n", "", "port"),
    ("required that has a default", '| `"17"` |', "| required |", "engine_version"),
    (
        "default on a required input",
        "| `bool` | required | Standby",
        "| `bool` | `false` | Standby",
        "multi_az",
    ),
    ("wrong default", "| `20` | Initial storage", "| `30` | Initial storage", "allocated_storage"),
    (
        "wrong type",
        "| `subnet_ids` | `list(string)` |",
        "| `subnet_ids` | `set(string)` |",
        "subnet_ids",
    ),
    (
        "wrong description",
        "Storage autoscaling ceiling in GiB.",
        "Storage ceiling.",
        "max_allocated_storage",
    ),
    (
        "example misses a required input",
        "  multi_az              = local.profile.multi_az\n",
        "",
        "multi_az",
    ),
    (
        "example sets an unknown input",
        '  source = "../database"\n',
        '  source = "../database"\n  replicas = 2\n',
        "replicas",
    ),
    (
        "example calls another module",
        '  source = "../database"\n',
        '  source = "../network"\n',
        "source",
    ),
    ("no example", "```hcl", "```", "Example"),
]


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [pytest.param(old, new, named, id=what) for what, old, new, named in MUTATIONS],
)
def test_a_readme_that_disagrees_with_its_module_is_flagged(old: str, new: str, named: str):
    text = (DATABASE / "README.md").read_text()
    assert readme_problems(DATABASE, text) == []
    mutated = text.replace(old, new, 1)
    assert mutated != text, f"the mutation does not apply: {old!r} is not in the README"
    problems = readme_problems(DATABASE, mutated)
    assert any(named in problem for problem in problems), problems
