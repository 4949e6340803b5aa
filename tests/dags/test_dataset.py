"""The demo dataset committed in datasets/ is scikit-learn's Wine data, as its README says."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_wine

from tests.ml import wine


def test_wine_csv_is_scikit_learns_copy() -> None:
    bundled = load_wine(as_frame=True)
    expected = bundled.frame.drop(columns="target")
    expected["cultivar"] = [bundled.target_names[label] for label in bundled.target]
    pd.testing.assert_frame_equal(wine(), expected, check_dtype=False)
