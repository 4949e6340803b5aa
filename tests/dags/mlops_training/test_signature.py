"""The DAG bundle's `mlops_training.signature` is the model API's schema module itself, so batch
scoring checks rows with the API's code, and it works in the bundle on its own."""

from __future__ import annotations

import ast
import hashlib
import os
import sys

from tests.ml import REPO

LINK = REPO / "dags" / "mlops_training" / "signature.py"
CANONICAL = REPO / "api" / "model_api" / "schema.py"


def test_the_bundles_module_is_a_relative_link_to_the_apis() -> None:
    assert LINK.is_symlink()
    # relative: the link resolves in any checkout, wherever the repository is
    assert os.readlink(LINK) == "../../api/model_api/schema.py"
    assert LINK.resolve() == CANONICAL.resolve()


def test_it_imports_only_the_standard_library_numpy_and_pandas() -> None:
    """The bundle holds dags/ only: an import of model_api (or of anything the Airflow hosts
    do not install) would break scoring there and nowhere else."""
    tree = ast.parse(CANONICAL.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import of {node.module}"
            imported.add(node.module.split(".")[0])
    assert imported - sys.stdlib_module_names - {"__future__"} == {"numpy", "pandas"}


def test_the_playbooks_sync_uploads_the_files_content() -> None:
    """roles/airflow/tasks/publish.yml mirrors dags/ with community.aws.s3_sync: it lists the
    link among the files (os.walk lists a link to a file as a file), with the size and MD5
    (its ETag) of the API's module, and uploads it with boto3's upload_file, which reads it."""
    from ansible_collections.community.aws.plugins.modules.s3_sync import (
        calculate_local_etag,
        gather_files,
    )

    files = gather_files(str(LINK.parent.parent), include="*.py,.airflowignore", exclude="*.pyc")
    (entry,) = [f for f in files if f["chopped_path"] == "mlops_training/signature.py"]
    content = CANONICAL.read_bytes()
    assert entry["bytes"] == len(content)
    (etag,) = [f["local_etag"] for f in calculate_local_etag([entry])]
    assert etag == f'"{hashlib.md5(content).hexdigest()}"'  # noqa: S324 - S3's ETag, no security
