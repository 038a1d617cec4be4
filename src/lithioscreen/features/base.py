"""Common ground of the featurizers: candidate tables in, named feature columns out.

Every featurizer is a scikit-learn transformer. ``transform`` takes a candidate table (see
:mod:`lithioscreen.candidates`) and returns a DataFrame with one row per candidate and the columns
named by ``get_feature_names_out``. Work is done once per distinct composition: screening grids
repeat the same overlayer at many thicknesses. The featurizers parse the distinct compositions
once into a :class:`~lithioscreen.compositions.CompositionMatrix` and compute
every descriptor for all of them at once (:func:`distinct_compositions`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from lithioscreen.candidates import CANDIDATE_COLUMNS


class CandidateFeaturizer(TransformerMixin, BaseEstimator):
    """Base class: subclasses set ``feature_names`` and implement ``_features``.

    The input of ``fit`` and ``transform`` is a candidate table (a DataFrame with the columns of
    :data:`lithioscreen.candidates.CANDIDATE_COLUMNS`: compositions as text and thicknesses), not a
    numeric matrix; ``transform`` returns a DataFrame with the columns ``get_feature_names_out()``.
    """

    feature_names: tuple[str, ...] = ()

    def fit(self, X=None, y=None):
        """Learn what the descriptors need (the data tables, for some); ``X`` is not used beyond its columns.

        Parameters
        ----------
        X : DataFrame, optional
            A candidate table.
        y : None
            Ignored.

        Returns
        -------
        CandidateFeaturizer
            ``self``.
        """
        self.feature_names_in_ = np.asarray(CANDIDATE_COLUMNS, dtype=object)
        self.n_features_in_ = len(CANDIDATE_COLUMNS)
        self.n_features_out_ = len(self.feature_names)
        return self

    def get_feature_names_out(self, input_features=None):
        """The descriptor names, in column order.

        Parameters
        ----------
        input_features : None
            Ignored (the input is always a candidate table).

        Returns
        -------
        numpy.ndarray
            The names, dtype object.
        """
        return np.asarray(self.feature_names, dtype=object)

    def transform(self, X):
        """The descriptors of every candidate.

        Parameters
        ----------
        X : DataFrame
            A candidate table.

        Returns
        -------
        DataFrame
            One row per candidate (same index), the columns of :meth:`get_feature_names_out`.
        """
        check_is_fitted(self, "n_features_out_")
        frame = check_candidate_frame(X)
        return self._features(frame).reindex(columns=list(self.feature_names)).set_axis(frame.index)

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError


def check_candidate_frame(X) -> pd.DataFrame:
    """Check that ``X`` is a candidate table; the values are not validated here.

    Parameters
    ----------
    X : object
        The input of ``transform``.

    Returns
    -------
    pandas.DataFrame
        ``X`` itself.

    Raises
    ------
    TypeError
        If ``X`` is not a DataFrame.
    ValueError
        If a column of :data:`lithioscreen.candidates.CANDIDATE_COLUMNS` is missing.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError("featurizers take a pandas DataFrame of candidates (column 'candidate', ...)")
    missing = [column for column in CANDIDATE_COLUMNS if column not in X.columns]
    if missing:
        raise ValueError(f"candidate table lacks column(s) {missing}")
    return X


# the last (candidates, matrix) pair, so that the featurizers of a union parse the same rows once;
# one slot holding a tuple: a thread reads the pair in one step, never one call's key with another's matrix
_LAST_DISTINCT: list = [None]


def distinct_compositions(frame: pd.DataFrame):
    """The distinct compositions of a candidate table, parsed once.

    The matrix of the last call is reused when the distinct candidates are the same, so that the
    featurizers of one FeatureUnion parse a table once and can share work done on its matrix.

    Parameters
    ----------
    frame : pandas.DataFrame
        A candidate table (its ``candidate`` column is used, as text).

    Returns
    -------
    codes : numpy.ndarray
        Shape ``(len(frame),)``: row ``i`` of ``frame`` is composition ``codes[i]``.
    candidates : list of str
        The distinct compositions, in order of first appearance.
    matrix : lithioscreen.compositions.CompositionMatrix
        Their parsed compositions, one row per distinct composition.
    """
    from lithioscreen.compositions import from_formulas

    codes, uniques = pd.factorize(frame["candidate"].astype(str).to_numpy())
    candidates = tuple(uniques)
    last = _LAST_DISTINCT[0]
    if last is not None and last[0] == candidates:
        return codes, list(candidates), last[1]
    matrix = from_formulas(candidates)
    _LAST_DISTINCT[0] = (candidates, matrix)
    return codes, list(candidates), matrix


def broadcast(columns: dict, codes: np.ndarray) -> pd.DataFrame:
    """Per-composition columns expanded to the rows of the candidate table.

    Parameters
    ----------
    columns : dict of str to array_like
        Column name to values, each aligned with the distinct compositions.
    codes : numpy.ndarray
        Composition of each row (:func:`distinct_compositions`).

    Returns
    -------
    pandas.DataFrame
        One row per code, a fresh 0-based index.
    """
    return pd.DataFrame({name: np.asarray(values)[codes] for name, values in columns.items()})
