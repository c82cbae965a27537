"""Change between survey waves: the difference of two waves' estimates with its test, a linear trend
test over three or more waves, and how a municipality's rank moved.

Three entry points, each a frozen dataclass of settings whose call returns a tidy frame:

- :class:`WaveChange` — from two ``tables.csv``-shaped frames (earlier, later wave; columns
  :data:`survey_lib.tables.TABLE_COLUMNS`, questions already keyed by their stable id): per scope,
  question, breakdown, group (and answer category for shares) the change of the mean (and of each
  category share), its standard error, 95 % interval, test, adjusted p-value and flag
  (:data:`CHANGE_COLUMNS`).
- :class:`LinearTrend` — from the respondents of three or more waves stacked into one design
  (:func:`stack_designs`): the design-based slope of the score on the wave number, as R's
  ``svyglm(score ~ wave_number)`` on the stacked design (:data:`TREND_COLUMNS`).
- :class:`RankMovement` — each municipality's rank among the others in each of two waves
  (:class:`survey_lib.ranks.RankConfidence`) and how it moved (:data:`RANK_MOVEMENT_COLUMNS`).

Notes
-----
**Change between two waves.** The waves are independent samples: each wave is its own design
(strata = the municipalities of that wave, post-strata within the wave). Stacked into one design —
the waves as separate blocks of strata, post-strata within wave, R::

    d0 <- svydesign(ids = ~1, strata = ~interaction(wave, kommune), weights = ~1, data = stacked)
    d  <- postStratify(d0, ~interaction(wave, stratum), population_counts_per_wave_and_stratum)

— the estimate of a domain in wave 1 and in wave 2 have zero covariance: their linearized
influence values are zero in every stratum of the other wave. So, with
:math:`\\hat\\theta_1, \\hat\\theta_2` a mean (or share) and its standard error from each wave's own
tables,

.. math::

    \\hat\\Delta = \\hat\\theta_2 - \\hat\\theta_1, \\qquad
    \\widehat{SE}(\\hat\\Delta) = \\sqrt{\\widehat{SE}_1^2 + \\widehat{SE}_2^2},

which equals the coefficient of ``factor(wave)`` in ``svyglm(score ~ factor(wave))`` on the
stacked design restricted to the domain, and ``svycontrast(svyby(~score, ~wave, d, svymean,
covmat = TRUE), c(-1, 1))`` (checked to 1e-9 in ``tests/test_change.py`` against
``tests/reference/reference_change.R``). The test is the Wald z-test
:math:`z = \\hat\\Delta / \\widehat{SE}(\\hat\\Delta)`, :math:`p = 2\\Phi(-|z|)`, and the interval
:math:`\\hat\\Delta \\pm z_{0.975} \\widehat{SE}`: the normal reference distribution of
``svycontrast`` (a ``svystat``; ``confint`` uses the normal quantile), the same as the tables' 95 %
intervals of means. The change is computed from the published tables, which carry no design
degrees of freedom; with the minimum cell size the smallest cells have few degrees of freedom and
the t reference of ``summary(svyglm)`` would give larger p-values there — docs/methods.md states
the size of that difference.

Change is never judged by whether the two waves' intervals overlap: two 95 % intervals can overlap
while the difference is significant (the overlap test has a level far below 5 %; Schenker &
Gentleman 2001).

**Multiple testing.** Per scope (the whole survey, or one municipality) the mean changes of all its
questions and theme scores in total form one family (``family`` = ``change``); the mean changes of
the groups of a breakdown form a family per breakdown (``change:<breakdown>``) and the category share
changes one per breakdown (``change:<breakdown>:shares``). Each family's p-values are adjusted with
``adjustment`` (:func:`survey_lib.inference.adjust_pvalues`; default Benjamini–Hochberg, the
project's rule for a municipality's family across its questions, ``comparison_testing`` in
``survey.yaml``). A change is flagged ``up`` or ``down`` when its adjusted p-value is below ``alpha``,
else ``unchanged``.

**Suppression.** A change is shown only where both waves' cells are published: a cell suppressed in
either wave's table (primary or secondary suppression, :mod:`survey_lib.privacy.disclosure`) or with
fewer than ``min_cell_size`` answers gives a row with ``suppressed`` true and no estimates.

**Linear trend.** On the stacked design, the weighted least-squares fit of
:math:`y = a + b x_t` over the domain :math:`D` (the answers of a group, in a scope), with
:math:`x_t` the number of the respondent's wave:
:math:`\\hat\\beta = M^{-1} \\sum_D w_i \\tilde x_i y_i`, :math:`M = \\sum_D w_i \\tilde x_i \\tilde x_i'`,
:math:`\\tilde x_i = (1, x_{t(i)})'`. Its linearized variance (Binder 1983; ``svyglm``) uses the
influence values of the slope, :math:`e_i = 1(i\\in D)\\, c_{t(i)} (y_i - \\hat a - \\hat b x_{t(i)})`
with :math:`c_t = (M^{-1})_{21} + (M^{-1})_{22} x_t`, centred within post-strata over all their rows,
:math:`z_i = w_i(e_i - \\bar e_h)`, and the stratified with-replacement variance
:math:`v = \\sum_s n_s/(n_s - 1) \\sum_{i\\in s} (z_i - \\bar z_s)^2`. The test is
:math:`t = \\hat b / \\sqrt v` on :math:`\\nu = n_D - S_D - 1` degrees of freedom (rows with an answer
in the domain minus the strata they lie in, minus one: ``summary.svyglm``'s ``df.residual``), and the
interval :math:`\\hat b \\pm t_{\\nu, 0.975} \\sqrt v`. All sums are taken per (post-stratum, cell), so
every municipality and group comes out of one pass per question and breakdown.

References
----------
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex surveys.
*International Statistical Review* 51, 279–292.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
Schenker, N. & Gentleman, J. F. (2001). On judging the significance of differences by examining the
overlap between confidence intervals. *The American Statistician* 55, 182–186.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse, special, stats

from .design import SurveyDesign, design_from_arrays, stratum_factor
from .estimate import clip_rounding
from .inference import adjust_pvalues, t_pvalue
from .ranks import RankConfidence
from .tables import TABLE_COLUMNS
from .vocabulary import TOTAL

if TYPE_CHECKING:
    from .params import Params

__all__ = ["WaveChange", "LinearTrend", "RankMovement", "StackedDesign", "stack_designs", "TrendCells",
           "trend_cells", "CHANGE_COLUMNS", "TREND_COLUMNS", "RANK_MOVEMENT_COLUMNS", "ChangeFlag",
           "ChangeNotComputable", "ADJUSTMENTS", "change_family"]

#: The multiple-testing methods (:func:`survey_lib.inference.adjust_pvalues`).
ADJUSTMENTS = ("holm", "fdr_bh", "bonferroni")
#: 97.5 % quantile of the standard normal (the 95 % interval of a change).
Z975 = float(stats.norm.ppf(0.975))

CHANGE_COLUMNS = ["scope", "question", "breakdown", "group", "category", "category_label", "kind",
                  "earlier_wave", "later_wave", "earlier_n", "later_n",
                  "earlier", "earlier_se", "earlier_ci_low", "earlier_ci_high",
                  "later", "later_se", "later_ci_low", "later_ci_high",
                  "change", "change_se", "ci_low", "ci_high", "statistic", "p_value", "family", "p_adjusted",
                  "flag", "suppressed", "not_computable"]
"""Columns of :class:`WaveChange`'s frame. ``kind`` is ``mean`` (``category`` empty) or ``share``
(one row per answer category); ``statistic`` is the z statistic."""

TREND_COLUMNS = ["scope", "question", "breakdown", "group", "waves", "n_waves", "n", "min_wave_n", "slope",
                 "slope_se", "ci_low", "ci_high", "statistic", "df", "p_value", "family", "p_adjusted", "flag",
                 "suppressed", "not_computable"]
"""Columns of :class:`LinearTrend`'s frame. ``slope`` is the change per unit of wave number;
``statistic`` is the t statistic on ``df`` degrees of freedom; ``waves`` names the waves with answers
(comma-separated, in wave order)."""

RANK_MOVEMENT_COLUMNS = ["question", "kommune", "panel", "earlier_rank", "earlier_of", "earlier_lower",
                         "earlier_upper", "earlier_label", "later_rank", "later_of", "later_lower", "later_upper",
                         "later_label", "movement"]
"""Columns of :class:`RankMovement`'s frame. ``movement`` = earlier rank − later rank (positive: moved
up towards rank 1); ``panel`` whether the municipality has a ranked estimate in both waves."""


class ChangeFlag:
    """The ``flag`` values of the change and trend frames (codes; the pages word them in Danish)."""

    UP = "up"
    DOWN = "down"
    UNCHANGED = "unchanged"
    SUPPRESSED = "suppressed"
    NOT_COMPUTABLE = "not_computable"


class ChangeNotComputable:
    """Reasons (Danish, as users read them) why a change or trend is not computed."""

    NOT_EARLIER = "ikke med i den tidligere runde"
    NOT_LATER = "ikke med i den seneste runde"
    NO_VARIATION = "ingen statistisk usikkerhed: alle svar er ens i begge runder"
    NO_VARIATION_TREND = "ingen statistisk usikkerhed: alle svar er ens"
    FEW_WAVES = "under tre runder med svar"
    TOO_FEW_DF = "under 1 frihedsgrad"


def change_family(breakdown: str, kind: str) -> str:
    """The multiple-testing family of a change (within its scope): ``change`` for the mean changes of
    the total (the scope's questions and theme scores), ``change:<breakdown>`` for a breakdown's
    groups, ``change:<breakdown>:shares`` for category shares (``trend`` likewise for trends:
    :class:`LinearTrend` replaces the prefix)."""
    if kind == "share":
        return f"change:{breakdown}:shares"
    return "change" if breakdown == TOTAL else f"change:{breakdown}"


def _families(breakdowns: np.ndarray, kind: str) -> np.ndarray:
    """:func:`change_family` of every row (computed once per breakdown)."""
    names = {b: change_family(b, kind) for b in pd.unique(breakdowns)}
    return np.array([names[b] for b in breakdowns], dtype=object)


def _check_settings(alpha: float, adjustment: str, min_cell_size: int, where: str) -> None:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"{where}: alpha must be a probability strictly between 0 and 1 (e.g. 0.05); got {alpha!r}")
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"{where}: adjustment must be one of {', '.join(map(repr, ADJUSTMENTS))} "
                         f"(survey.yaml's comparison_testing); got {adjustment!r}")
    if isinstance(min_cell_size, bool) or int(min_cell_size) != min_cell_size or min_cell_size < 1:
        raise ValueError(f"{where}: min_cell_size must be a whole number >= 1 (survey.yaml's min_cell_size); "
                         f"got {min_cell_size!r}")


def _flags(p_adjusted: np.ndarray, estimate: np.ndarray, alpha: float, suppressed: np.ndarray,
           reason: np.ndarray) -> np.ndarray:
    sig = p_adjusted < alpha
    flag = np.where(sig & (estimate > 0), ChangeFlag.UP, np.where(sig & (estimate < 0), ChangeFlag.DOWN,
                                                                   ChangeFlag.UNCHANGED)).astype(object)
    flag[reason != ""] = ChangeFlag.NOT_COMPUTABLE
    flag[suppressed] = ChangeFlag.SUPPRESSED
    return flag


def _adjust(frame: pd.DataFrame, method: str) -> np.ndarray:
    """Adjusted p-values within every (scope, family)."""
    out = np.full(len(frame), np.nan)
    p = frame["p_value"].to_numpy(float)
    for idx in frame.groupby(["scope", "family"], sort=False).indices.values():
        out[idx] = adjust_pvalues(p[idx], method)
    return out


KEYS = ["scope", "question", "breakdown", "group"]
NUMBERS = ("n", "mean", "mean_se", "share", "share_se")


def _text(s: pd.Series) -> np.ndarray:
    """A key column as an object array of str ('' for missing; 5.0 read from a CSV file as '5')."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(str).to_numpy(dtype=object)
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(float)
        finite = np.isfinite(v)
        out = np.full(len(v), "", dtype=object)
        whole = finite & (v == np.round(v))
        out[whole] = v[whole].astype(np.int64).astype(str)
        out[finite & ~whole] = v[finite & ~whole].astype(str)
        return out
    arr = s.to_numpy(dtype=object, na_value="")
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return arr
    odd = np.fromiter((type(x) is not str for x in arr), bool, len(arr))
    if odd.any():
        arr = arr.copy()
        arr[odd] = [str(x) for x in arr[odd]]
    return arr


def _suppressed(frame: pd.DataFrame) -> np.ndarray:
    s = frame["suppressed"]
    if pd.api.types.is_bool_dtype(s):
        return s.fillna(False).to_numpy(bool)
    return np.isin(np.char.lower(np.char.strip(_text(s).astype(str))), ["true", "1", "yes"])


@dataclass(frozen=True)
class _Wave:
    """One wave's table as arrays: key text, numbers, suppression."""

    keys: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]
    suppressed: np.ndarray
    label: np.ndarray


def _read_table(frame: pd.DataFrame, name: str) -> _Wave:
    """Check a tables.csv frame (columns, one row per cell and category, numbers) and take its arrays."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"WaveChange: {name} must be a pandas DataFrame shaped like tables.csv; got "
                        f"{type(frame).__name__}")
    missing = [c for c in TABLE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"WaveChange: the {name} table lacks column(s) {missing}; expected the columns of "
                         f"tables.csv ({', '.join(TABLE_COLUMNS)})")
    keys = {k: _text(frame[k]) for k in KEYS + ["category"]}
    code = _key_codes([keys[k] for k in KEYS + ["category"]])
    if len(code):
        first = np.unique(code, return_index=True)[1]
        if len(first) < len(code):
            dup = np.ones(len(code), bool)
            dup[first] = False
            i = int(np.flatnonzero(dup)[0])
            raise ValueError(f"WaveChange: the {name} table has row {i} twice for scope={keys['scope'][i]!r}, "
                             f"question={keys['question'][i]!r}, breakdown={keys['breakdown'][i]!r}, "
                             f"group={keys['group'][i]!r}, category={keys['category'][i]!r}; each cell and "
                             "category must occur once (key the questions by their stable id before comparing)")
    numbers = {}
    for col in NUMBERS:
        raw = frame[col]
        vals = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        lost = np.isnan(vals) & raw.notna().to_numpy()
        if lost.any():
            text = np.char.strip(_text(raw[lost]).astype(str))
            if (text != "").any():
                i = int(np.flatnonzero(lost)[np.flatnonzero(text != "")[0]])
                raise ValueError(f"WaveChange: the {name} table, row {i}, column {col!r}: expected a number or "
                                 f"empty, got {raw.iloc[i]!r}")
        numbers[col] = vals
    return _Wave(keys, numbers, _suppressed(frame), _text(frame["category_label"]))


def _key_codes(columns: list[np.ndarray]) -> np.ndarray:
    """One integer code per row for the combination of the key columns (equal rows, equal codes)."""
    if not columns or not len(columns[0]):
        return np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        c, uniques = pd.factorize(col)
        code = pd.factorize(code * (len(uniques) + 1) + c)[0].astype(np.int64)
    return code


def _cells(w: _Wave, kind: str, scored: set[str]) -> np.ndarray:
    """Row indices of one wave's cells, of the questions in ``scored`` (those with a value of this
    kind in either wave), suppressed cells included: for ``mean`` the first row of every (scope,
    question, breakdown, group) (multi-select questions have no mean); for ``share`` every answer
    category or multi-select option that has a share or is suppressed (theme scores have none)."""
    in_q = pd.Series(w.keys["question"]).isin(scored).to_numpy()
    if kind == "mean":
        rows = np.flatnonzero(in_q)
        code = _key_codes([w.keys[k][rows] for k in KEYS])
        return rows[np.sort(np.unique(code, return_index=True)[1])]
    value = w.numbers["share"]
    return np.flatnonzero(in_q & (~np.isnan(value) | w.suppressed) & (w.keys["category"] != ""))


@dataclass(frozen=True)
class WaveChange:
    """Change of every published estimate between two waves, with its test.

    Parameters
    ----------
    alpha
        Significance level of the flags (``survey.yaml``'s ``significance_level``).
    adjustment
        Multiple-testing method within each family: ``holm``, ``fdr_bh`` (default) or ``bonferroni``
        (``survey.yaml``'s ``comparison_testing``: the rule for one municipality's family across its
        questions).
    min_cell_size
        A cell with fewer answers in either wave gets no change (``survey.yaml``'s
        ``min_cell_size``), on top of the tables' own suppression.
    shares
        Also compare the category shares (default True).

    Notes
    -----
    :math:`\\hat\\Delta = \\hat\\theta_{later} - \\hat\\theta_{earlier}`,
    :math:`SE = \\sqrt{SE_{earlier}^2 + SE_{later}^2}` (independent samples; the module notes show it
    equals R's stacked design), :math:`z = \\hat\\Delta / SE`, :math:`p = 2\\Phi(-|z|)`, interval
    :math:`\\hat\\Delta \\pm 1.96\\, SE`. Both standard errors 0 (all answers alike in both waves): the
    change is shown but not tested (``not_computable``). Never judged by overlapping intervals.
    """

    alpha: float = 0.05
    adjustment: str = "fdr_bh"
    min_cell_size: int = 5
    shares: bool = True

    def __post_init__(self) -> None:
        _check_settings(self.alpha, self.adjustment, self.min_cell_size, "WaveChange")

    @classmethod
    def from_params(cls, params: "Params") -> "WaveChange":
        """The settings of ``survey.yaml`` (significance_level, comparison_testing, min_cell_size)."""
        s = params.survey
        return cls(alpha=s.significance_level, adjustment=s.comparison_testing, min_cell_size=s.min_cell_size)

    def __call__(self, earlier: pd.DataFrame, later: pd.DataFrame, *, earlier_wave: str = "",
                 later_wave: str = "") -> pd.DataFrame:
        """Changes from the ``earlier`` to the ``later`` wave's tables.

        Parameters
        ----------
        earlier, later
            ``tables.csv`` frames of the two waves (columns :data:`survey_lib.tables.TABLE_COLUMNS`)
            with the questions keyed by their stable id and only the comparable questions kept (the
            crosswalk's job); a cell present in one wave only gets a row with ``not_computable``.
        earlier_wave, later_wave
            The waves' names, copied into the frame.

        Returns
        -------
        pandas.DataFrame
            :data:`CHANGE_COLUMNS`, means first (in the later table's order, then cells found only in
            the earlier table), then shares.

        Raises
        ------
        ValueError
            A table lacks a column of tables.csv, has a cell twice, or holds a non-number where a
            number belongs (the message names the table, row and column).
        """
        e, l = _read_table(earlier, "earlier"), _read_table(later, "later")
        kinds = ["mean", "share"] if self.shares else ["mean"]
        with_value = {kind: {str(q) for w in (e, l)
                             for q in pd.unique(w.keys["question"][~np.isnan(w.numbers[kind])])}
                      for kind in ("mean", "share")}
        parts = [self._compare(e, _cells(e, kind, with_value[kind]), l, _cells(l, kind, with_value[kind]), kind)
                 for kind in kinds]
        out = pd.concat(parts, ignore_index=True)
        out["earlier_wave"] = str(earlier_wave)
        out["later_wave"] = str(later_wave)
        out["p_adjusted"] = _adjust(out, self.adjustment)
        out["flag"] = _flags(out["p_adjusted"].to_numpy(float), out["change"].to_numpy(float), self.alpha,
                             out["suppressed"].to_numpy(bool), out["not_computable"].to_numpy(object))
        return out[CHANGE_COLUMNS]

    def _compare(self, e: _Wave, e_rows: np.ndarray, l: _Wave, l_rows: np.ndarray, kind: str) -> pd.DataFrame:
        keys = KEYS + (["category"] if kind == "share" else [])
        code = _key_codes([np.concatenate([l.keys[k][l_rows], e.keys[k][e_rows]]) for k in keys])
        code_l, code_e = code[:len(l_rows)], code[len(l_rows):]
        at_e = pd.Index(code_e).get_indexer(code_l)                     # earlier row of each later cell
        e_only = np.flatnonzero(~np.isin(code_e, code_l))
        # the later table's cells in its order, then the cells of the earlier table only
        rows_l = np.concatenate([l_rows, np.full(len(e_only), -1)])
        rows_e = np.concatenate([np.where(at_e >= 0, e_rows[np.maximum(at_e, 0)], -1), e_rows[e_only]])
        in_l, in_e = rows_l >= 0, rows_e >= 0

        def take(w: _Wave, rows: np.ndarray, values: np.ndarray, fill):
            out = values[np.maximum(rows, 0)]
            return np.where(rows >= 0, out, fill)

        key = {k: np.where(in_l, take(l, rows_l, l.keys[k], ""), take(e, rows_e, e.keys[k], "")) for k in KEYS}
        category = (np.where(in_l, take(l, rows_l, l.keys["category"], ""), take(e, rows_e, e.keys["category"], ""))
                    if kind == "share" else np.full(len(rows_l), "", dtype=object))
        label = (np.where(in_l, take(l, rows_l, l.label, ""), take(e, rows_e, e.label, ""))
                 if kind == "share" else np.full(len(rows_l), "", dtype=object))
        value_col, se_col = ("mean", "mean_se") if kind == "mean" else ("share", "share_se")
        n_e, n_l = take(e, rows_e, e.numbers["n"], np.nan), take(l, rows_l, l.numbers["n"], np.nan)
        sup = ((in_e & (take(e, rows_e, e.suppressed, False) | ~(n_e >= self.min_cell_size)))
               | (in_l & (take(l, rows_l, l.suppressed, False) | ~(n_l >= self.min_cell_size))))
        both = in_e & in_l
        v_e, v_l = take(e, rows_e, e.numbers[value_col], np.nan), take(l, rows_l, l.numbers[value_col], np.nan)
        s_e, s_l = take(e, rows_e, e.numbers[se_col], np.nan), take(l, rows_l, l.numbers[se_col], np.nan)
        show = both & ~sup
        change = np.where(show, v_l - v_e, np.nan)
        se = np.where(show, np.sqrt(s_e ** 2 + s_l ** 2), np.nan)
        m = rows_l
        reason = np.full(len(m), "", dtype=object)
        reason[~in_e] = ChangeNotComputable.NOT_EARLIER
        reason[~in_l] = ChangeNotComputable.NOT_LATER
        no_var = show & (se == 0)
        reason[no_var] = ChangeNotComputable.NO_VARIATION
        tested = show & (se > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(tested, change / se, np.nan)
        p = np.where(tested, 2 * special.ndtr(-np.abs(z)), np.nan)

        def shown(v, ok):
            return np.where(ok & ~sup, v, np.nan)

        out = pd.DataFrame({
            "scope": key["scope"], "question": key["question"], "breakdown": key["breakdown"], "group": key["group"],
            "category": category, "category_label": label, "kind": kind,
            "earlier_n": pd.array(np.where(in_e & ~sup, n_e, np.nan), dtype="Float64").round().astype("Int64"),
            "later_n": pd.array(np.where(in_l & ~sup, n_l, np.nan), dtype="Float64").round().astype("Int64"),
            "earlier": shown(v_e, in_e), "earlier_se": shown(s_e, in_e),
            "earlier_ci_low": shown(v_e - Z975 * s_e, in_e), "earlier_ci_high": shown(v_e + Z975 * s_e, in_e),
            "later": shown(v_l, in_l), "later_se": shown(s_l, in_l),
            "later_ci_low": shown(v_l - Z975 * s_l, in_l), "later_ci_high": shown(v_l + Z975 * s_l, in_l),
            "change": change, "change_se": se, "ci_low": change - Z975 * se, "ci_high": change + Z975 * se,
            "statistic": z, "p_value": p,
            "family": _families(key["breakdown"], kind),
            "suppressed": sup, "not_computable": np.where(sup, "", reason),
        })
        return out


# ---- stacked design and linear trend ---------------------------------------------------------------
@dataclass(frozen=True)
class StackedDesign:
    """The respondents of several waves in one design: each wave's strata and post-strata (or raking
    margins) kept apart, labelled ``<wave>/<label>``.

    Attributes
    ----------
    design
        The stacked design (rows of the first wave first); its ``frame`` has the columns asked of
        :func:`stack_designs` and ``wave``.
    waves
        The waves' names, in order.
    wave_number
        (T,) the number of every wave on the trend's axis (default 1, 2, …).
    wave
        (n,) the wave index of every row.
    offsets
        (T + 1,) where each wave's rows start (``offsets[t]:offsets[t + 1]``).
    """

    design: SurveyDesign
    waves: tuple[str, ...]
    wave_number: np.ndarray
    wave: np.ndarray
    offsets: np.ndarray

    def stack(self, values: Sequence[np.ndarray | None]) -> np.ndarray:
        """One value per stacked row from one array per wave (in wave order); ``None`` for a wave
        without the variable (a question not asked that wave) gives NaN there."""
        if len(values) != len(self.waves):
            raise ValueError(f"StackedDesign.stack: expected one array per wave ({len(self.waves)}: "
                             f"{', '.join(self.waves)}), got {len(values)}")
        parts = []
        for t, v in enumerate(values):
            size = int(self.offsets[t + 1] - self.offsets[t])
            if v is None:
                parts.append(np.full(size, np.nan))
                continue
            v = np.asarray(v)
            if len(v) != size:
                raise ValueError(f"StackedDesign.stack: wave {self.waves[t]!r} has {size} rows, got {len(v)} values")
            parts.append(v)
        return np.concatenate(parts)

    @property
    def stratum_wave(self) -> np.ndarray:
        """The wave index of every stratum of the stacked design."""
        out = np.zeros(len(self.design.stratum_labels), dtype=int)
        out[self.design.stratum] = self.wave
        return out


def stack_designs(designs: Mapping[str, SurveyDesign], wave_numbers: Sequence[float] | None = None,
                  columns: Sequence[str] = ("kommune",)) -> StackedDesign:
    """Stack the designs of several waves into one (R: ``rbind`` of the respondents with ``wave``,
    strata ``interaction(wave, kommune)`` and post-strata ``interaction(wave, stratum)``).

    Parameters
    ----------
    designs
        Wave name -> that wave's design, in wave order. All post-stratified (or all without
        post-strata), or all raked with the same number of margins.
    wave_numbers
        The waves' numbers on the trend's axis (default 1, 2, …; years work too: the slope is then
        per year).
    columns
        Frame columns to keep (each design's frame must have them; ``kommune`` names the scopes).

    Notes
    -----
    Every wave keeps its own strata and calibration blocks, so a wave's estimates in the stacked
    design equal those of its own design, and estimates of different waves are independent.
    """
    names = [str(k) for k in designs]
    if len(names) < 2:
        raise ValueError(f"stack_designs: expected at least two waves, got {len(names)} ({', '.join(names)})")
    ds = [designs[k] for k in designs]
    numbers = np.arange(1, len(ds) + 1, dtype=float) if wave_numbers is None else np.asarray(wave_numbers, float)
    if numbers.shape != (len(ds),) or not np.isfinite(numbers).all() or len(np.unique(numbers)) != len(ds):
        raise ValueError(f"stack_designs: wave_numbers must give one distinct finite number per wave "
                         f"({', '.join(names)}); got {list(np.atleast_1d(wave_numbers))}")
    for name, d in zip(names, ds):
        missing = [c for c in columns if c not in d.frame.columns]
        if missing:
            raise ValueError(f"stack_designs: the design of wave {name!r} lacks column(s) {missing} of its "
                             f"respondents' frame; expected {list(columns)}")
    raked = [d.raking is not None for d in ds]
    post = [bool((d.post_stratum >= 0).all() and len(d.post_stratum_labels)) for d in ds]
    if any(raked) and not all(raked):
        raise ValueError("stack_designs: either every wave is raked or none is; raked: "
                         + ", ".join(n for n, r in zip(names, raked) if r))
    if not any(raked) and any(post) and not all(post):
        raise ValueError("stack_designs: either every wave is post-stratified or none is; without post-strata: "
                         + ", ".join(n for n, p in zip(names, post) if not p))
    frame = pd.concat([d.frame[list(columns)].assign(wave=name) for name, d in zip(names, ds)], ignore_index=True)
    weight = np.concatenate([d.weight for d in ds])
    stratum = np.concatenate([np.char.add(f"{name}/", d.stratum_labels.astype(str)[d.stratum])
                              for name, d in zip(names, ds)])
    wave = np.concatenate([np.full(d.n, t) for t, d in enumerate(ds)])
    offsets = np.concatenate([[0], np.cumsum([d.n for d in ds])])
    if all(raked):
        n_margins = {len(d.raking.cell_of_block) for d in ds}
        if len(n_margins) != 1:
            raise ValueError(f"stack_designs: the raked waves have different numbers of margins {sorted(n_margins)}")
        margins = [np.concatenate([np.char.add(f"{name}/", d.raking.cell_of_block[j][d.raking.block].astype(str))
                                   for name, d in zip(names, ds)]) for j in range(n_margins.pop())]
        stacked = design_from_arrays(frame, weight, stratum, margins=margins)
    elif all(post):
        ps = np.concatenate([np.char.add(f"{name}/", d.post_stratum_labels.astype(str)[d.post_stratum])
                             for name, d in zip(names, ds)])
        stacked = design_from_arrays(frame, weight, stratum, ps)
    else:
        stacked = design_from_arrays(frame, weight, stratum)
    return StackedDesign(stacked, tuple(names), numbers, wave, offsets)


@dataclass(frozen=True)
class TrendCells:
    """The linear trend of C cells (domains): slope, SE, df, answers per cell and per wave (C, T)."""

    slope: np.ndarray
    se: np.ndarray
    df: np.ndarray
    n: np.ndarray
    wave_n: np.ndarray


def trend_cells(stacked: StackedDesign, y: np.ndarray, group: np.ndarray, n_groups: int,
                scope: np.ndarray | None = None, n_scopes: int = 1) -> TrendCells:
    """The design-based slope of ``y`` on the wave number in every scope × group (domain) at once.

    Parameters
    ----------
    stacked
        The stacked design.
    y
        Score per stacked row (NaN: no answer).
    group
        Group index per row, 0..n_groups-1, or -1 outside every group.
    n_groups
        Number of groups G.
    scope, n_scopes
        Scope index per row, 0..n_scopes-1 or -1 (a municipality: constant within every stratum);
        default one scope of all rows.

    Returns
    -------
    TrendCells
        Arrays over the n_scopes × G cells, scope-major (cell ``k * G + g``).

    Notes
    -----
    The weighted least-squares slope and its linearized variance of the module notes, from sums per
    (calibration block, group): with m, S1 the count and sum of y, P0, P1 the sums of w and w y, and
    Q0, Q1, Q2 those of w², w² y, w² y² over a block's answers in the group, and per block the
    wave's :math:`c_t` and fitted value :math:`f_t` of the block's scope, the influence values sum
    to :math:`c (S1 - f m)` over the block (whose mean :math:`\\bar e_h` the calibration removes),
    :math:`\\sum z^2 = c^2 (Q2 - 2 f Q1 + f^2 Q0) - 2 \\bar e_h c (Q1 - f Q0) + \\bar e_h^2 A_h` and
    :math:`\\sum z = c (P1 - f P0) - \\bar e_h B_h` (A_h, B_h the sums of w² and w over all the block's
    rows); then the stratified variance, summed over the scope's strata. A block lies in one
    stratum and so in one scope; raking margins that cross strata (national margins) spread the
    calibration over scopes, and the cells are then computed as plain domains of the whole design.
    A variance that is rounding noise is 0 (:func:`survey_lib.estimate.clip_rounding`, scale
    :math:`y_{max}^2 \\sum c_t^2 w_i^2`).
    """
    design = stacked.design
    y = np.asarray(y, float)
    group = np.asarray(group)
    if len(y) != design.n or len(group) != design.n:
        raise ValueError(f"trend_cells: y and group need one value per stacked row ({design.n}); got {len(y)} "
                         f"and {len(group)}")
    G, K, T = int(n_groups), int(n_scopes), len(stacked.waves)
    scope = np.zeros(design.n, dtype=int) if scope is None else np.asarray(scope)
    if K > 1 and not design.margins_nested:
        cell = np.where((group >= 0) & (scope >= 0), scope * G + group, -1)
        return trend_cells(stacked, y, cell, K * G)
    sums = design.calibration_sums
    H, S = sums.n_blocks, len(design.stratum_labels)
    k_lo, k_hi = np.full(S, np.iinfo(np.int64).max), np.full(S, -2)
    np.minimum.at(k_lo, design.stratum, scope)
    np.maximum.at(k_hi, design.stratum, scope)
    if (k_lo != k_hi).any():
        bad = str(design.stratum_labels[np.flatnonzero(k_lo != k_hi)[0]])
        raise ValueError(f"trend_cells: the scope must be the same for every row of a stratum; stratum {bad!r} "
                         "has rows of two scopes (scopes are municipalities, strata are wave × municipality)")
    k_of_s = k_hi
    k_of_h = k_of_s[sums.stratum_of_block]
    in_scope_h = k_of_h >= 0
    ok = ~np.isnan(y) & (group >= 0) & (scope >= 0) & (design.weight > 0)
    idx = sums.block[ok] * G + group[ok]
    yv, wv = y[ok], design.weight[ok]

    def hg(weights=None):
        return np.bincount(idx, weights=weights, minlength=H * G).reshape(H, G)

    m, S1 = hg(), hg(yv)
    P0, P1 = hg(wv), hg(wv * yv)
    Q0, Q1, Q2 = hg(wv ** 2), hg(wv ** 2 * yv), hg(wv ** 2 * yv ** 2)
    wave_of_h = stacked.stratum_wave[sums.stratum_of_block]
    hs = np.flatnonzero(in_scope_h)
    to_tk = sparse.csr_matrix((np.ones(len(hs)), (wave_of_h[hs] * K + k_of_h[hs], hs)), shape=(T * K, H))

    def per_wave(a):                                   # (H, G) -> (T, K*G)
        return np.asarray(to_tk @ a).reshape(T, K * G)

    W_t, Y_t, n_t = per_wave(P0), per_wave(P1), per_wave(m)
    x = stacked.wave_number[:, None]
    W, Sx, Sxx = W_t.sum(axis=0), (W_t * x).sum(axis=0), (W_t * x ** 2).sum(axis=0)
    Sy, Sxy = Y_t.sum(axis=0), (Y_t * x).sum(axis=0)
    det = W * Sxx - Sx ** 2
    good = det > 1e-12 * np.maximum(W * Sxx, 1e-300)
    det_ = np.where(good, det, np.inf)
    slope = np.where(good, (W * Sxy - Sx * Sy) / det_, np.nan)
    intercept = np.where(good, (Sy - np.nan_to_num(slope) * Sx) / np.where(W > 0, W, np.inf), np.nan)
    c_t = np.where(good, (W * x - Sx) / det_, 0.0).reshape(T, K, G)
    f_t = np.nan_to_num(intercept + slope * x).reshape(T, K, G)
    k_h = np.maximum(k_of_h, 0)
    c = np.where(in_scope_h[:, None], c_t[wave_of_h, k_h], 0.0)            # (H, G)
    f = np.where(in_scope_h[:, None], f_t[wave_of_h, k_h], 0.0)
    ebar = design.block_means(c * (S1 - f * m)) if sums.adjust else np.zeros((H, G))
    A_h, B_h = sums.sum_w2[:, None], sums.sum_w[:, None]
    z2 = c ** 2 * (Q2 - 2 * f * Q1 + f ** 2 * Q0) - 2 * ebar * c * (Q1 - f * Q0) + ebar ** 2 * A_h
    z1 = c * (P1 - f * P0) - ebar * B_h
    to_strata = sparse.csr_matrix((np.ones(H), (sums.stratum_of_block, np.arange(H))), shape=(S, H))
    n_s = design.stratum_sizes.astype(float)
    var_s = stratum_factor(n_s)[:, None] * (np.asarray(to_strata @ z2)
                                            - np.asarray(to_strata @ z1) ** 2 / np.maximum(n_s, 1)[:, None])
    ss = np.flatnonzero(k_of_s >= 0)
    to_k = sparse.csr_matrix((np.ones(len(ss)), (k_of_s[ss], ss)), shape=(K, S))
    var = np.asarray(to_k @ var_s).reshape(-1)
    y_max = float(np.max(np.abs(yv), initial=0.0))
    scale = np.asarray(to_k @ (to_strata @ (c ** 2 * Q0))).reshape(-1)
    se = np.where(good, np.sqrt(clip_rounding(var, y_max ** 2 * scale)), np.nan)
    answered = (np.bincount(design.stratum[ok] * G + group[ok], minlength=S * G).reshape(S, G) > 0).astype(float)
    n = n_t.sum(axis=0)
    df = n - np.asarray(to_k @ answered).reshape(-1) - 1
    return TrendCells(slope, se, df.astype(float), n.astype(int), n_t.T.astype(int))


def _published_flags(tables: Mapping[str, pd.DataFrame] | None) -> dict[tuple, bool]:
    """(scope, question, breakdown, group) -> suppressed in some wave's table."""
    out: dict[tuple, bool] = {}
    for name, frame in (tables or {}).items():
        w = _read_table(frame, f"{name!r} wave's")
        rows = np.flatnonzero(w.suppressed)
        for key in zip(*(w.keys[k][rows] for k in KEYS)):
            out[key] = True
    return out


@dataclass(frozen=True)
class LinearTrend:
    """Design-based linear trend of every outcome over three or more waves, per scope and group.

    Parameters
    ----------
    alpha
        Significance level of the flags.
    adjustment
        Multiple-testing method within each (scope, family): ``trend`` for the total of a scope's
        questions and theme scores, ``trend:<breakdown>`` for a breakdown's groups.
    min_cell_size
        A cell with between 1 and ``min_cell_size`` − 1 answers in some wave gets no trend.

    Notes
    -----
    The slope of ``svyglm(score ~ wave_number)`` on the stacked design restricted to the domain,
    with its t-test on ``df.residual`` degrees of freedom (module notes; Binder 1983). A cell needs
    answers in at least three waves.
    """

    alpha: float = 0.05
    adjustment: str = "fdr_bh"
    min_cell_size: int = 5

    def __post_init__(self) -> None:
        _check_settings(self.alpha, self.adjustment, self.min_cell_size, "LinearTrend")

    @classmethod
    def from_params(cls, params: "Params") -> "LinearTrend":
        """The settings of ``survey.yaml`` (significance_level, comparison_testing, min_cell_size)."""
        s = params.survey
        return cls(alpha=s.significance_level, adjustment=s.comparison_testing, min_cell_size=s.min_cell_size)

    def __call__(self, stacked: StackedDesign, outcomes: Mapping[str, np.ndarray],
                 breakdowns: Mapping[str, tuple[np.ndarray, Sequence[str]]], *,
                 scopes: Sequence[str] | None = None,
                 tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """The trend of every outcome × breakdown × group, in ``all`` and every municipality scope.

        Parameters
        ----------
        stacked
            The stacked design (:func:`stack_designs`); its frame's ``kommune`` names the scopes.
        outcomes
            Stable question id -> score per stacked row (:meth:`StackedDesign.stack`; NaN where not
            answered or not asked).
        breakdowns
            Breakdown -> (group code per stacked row, -1 outside every group; the group labels),
            ``total`` first as in :func:`survey_lib.tables.breakdown_codes`. The ``kommune``
            breakdown is estimated in ``all`` only.
        scopes
            The municipalities to make scopes for (default: all in the stacked frame).
        tables
            Optional: each wave's ``tables.csv`` frame; a cell suppressed in any of them gets no
            trend.

        Returns
        -------
        pandas.DataFrame
            :data:`TREND_COLUMNS`.
        """
        design = stacked.design
        kom = design.frame["kommune"].astype(str).to_numpy()
        scopes = sorted(set(kom)) if scopes is None else [str(s) for s in scopes]
        k_index = {k: i for i, k in enumerate(scopes)}
        k_code = np.array([k_index.get(k, -1) for k in kom])
        flags = _published_flags(tables)
        parts = []
        for qid, y in outcomes.items():
            y = np.asarray(y, float)
            for bname, (codes, levels) in breakdowns.items():
                codes = np.asarray(codes)
                G = len(levels)
                res = trend_cells(stacked, y, codes, G)
                parts.append(self._rows(stacked, ["all"], qid, bname, list(levels), res, flags))
                if bname == "kommune" or not scopes:
                    continue
                res = trend_cells(stacked, y, codes, G, k_code, len(scopes))
                parts.append(self._rows(stacked, scopes, qid, bname, list(levels), res, flags))
        if not parts:
            return pd.DataFrame(columns=TREND_COLUMNS)
        out = pd.concat(parts, ignore_index=True)
        out["p_adjusted"] = _adjust(out, self.adjustment)
        out["flag"] = _flags(out["p_adjusted"].to_numpy(float), out["slope"].to_numpy(float), self.alpha,
                             out["suppressed"].to_numpy(bool), out["not_computable"].to_numpy(object))
        return out[TREND_COLUMNS]

    def _rows(self, stacked: StackedDesign, scopes: list[str], qid: str, bname: str, levels: list[str],
              res: TrendCells, flags: dict) -> pd.DataFrame:
        G = len(levels)
        scope_col = np.repeat(np.array(scopes, dtype=object), G)
        group_col = np.tile(np.array(levels, dtype=object), len(scopes))
        wn = res.wave_n
        n_waves = (wn > 0).sum(axis=1)
        small = ((wn > 0) & (wn < self.min_cell_size)).any(axis=1)
        flagged = np.array([flags.get((s, qid, bname, g), False) for s, g in zip(scope_col, group_col)], bool)
        sup = small | flagged
        reason = np.full(len(scope_col), "", dtype=object)
        reason[n_waves < 3] = ChangeNotComputable.FEW_WAVES
        reason[(reason == "") & (res.se == 0)] = ChangeNotComputable.NO_VARIATION_TREND
        reason[(reason == "") & ~(res.df >= 1)] = ChangeNotComputable.TOO_FEW_DF
        show = ~sup & (n_waves >= 2)
        tested = ~sup & (reason == "")
        slope = np.where(show, res.slope, np.nan)
        se = np.where(show, res.se, np.nan)
        df = np.where(tested, res.df, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(tested, slope / se, np.nan)
            half = np.where(tested, special.stdtrit(np.where(tested, df, 1.0), 0.975) * se, np.nan)
        p = np.where(tested, t_pvalue(np.nan_to_num(t), np.where(tested, df, 1.0)), np.nan)
        names = np.array(stacked.waves, dtype=object)
        waves = [",".join(names[r > 0]) for r in wn]
        return pd.DataFrame({
            "scope": scope_col, "question": qid, "breakdown": bname, "group": group_col,
            "waves": np.where(sup, "", np.array(waves, dtype=object)), "n_waves": n_waves,
            "n": pd.array(np.where(sup, np.nan, res.n), dtype="Float64").round().astype("Int64"),
            "min_wave_n": pd.array(np.where(sup, np.nan, np.where(wn > 0, wn, np.iinfo(np.int64).max).min(axis=1)
                                            .astype(float)), dtype="Float64").round().astype("Int64"),
            "slope": slope, "slope_se": se, "ci_low": slope - half, "ci_high": slope + half, "statistic": t,
            "df": df, "p_value": p, "family": "trend" if bname == TOTAL else f"trend:{bname}",
            "suppressed": sup, "not_computable": np.where(sup, "", reason)})


# ---- rank movement -------------------------------------------------------------------------------------
def _municipality_rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The municipality breakdown of scope ``all``: one row per question and municipality."""
    w = _read_table(frame, name)
    rows = np.flatnonzero((w.keys["scope"] == "all") & (w.keys["breakdown"] == "kommune"))
    rows = rows[np.sort(np.unique(_key_codes([w.keys["question"][rows], w.keys["group"][rows]]),
                                  return_index=True)[1])]
    sup = w.suppressed[rows]
    return pd.DataFrame({"question": w.keys["question"][rows], "kommune": w.keys["group"][rows],
                         "estimate": np.where(sup, np.nan, w.numbers["mean"][rows]),
                         "se": np.where(sup, np.nan, w.numbers["mean_se"][rows]),
                         "n": np.where(sup, 0, np.nan_to_num(w.numbers["n"][rows]))})


@dataclass(frozen=True)
class RankMovement:
    """A municipality's rank among the others in each of two waves, and how it moved.

    Parameters
    ----------
    ranker
        How ranks and their confidence sets are made (:class:`survey_lib.ranks.RankConfidence`;
        its ``min_n`` is the reporting minimum).
    panel_only
        Rank among the municipalities ranked in both waves only (the common panel), so that both
        ranks are out of the same set; default False (each wave's rank among its own participants).

    Notes
    -----
    ``movement`` = earlier rank − later rank (positive: moved up). A move of rank is descriptive: it
    depends on the other municipalities as much as on the municipality's own score, and when the
    set of participants differs the two ranks are out of different sets. Whether a municipality's
    score changed is judged by its change test (:class:`WaveChange`), not by its ranks or their
    confidence sets.
    """

    ranker: RankConfidence = field(default_factory=RankConfidence)
    panel_only: bool = False

    def __call__(self, earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
        """Ranks per question and municipality from the two waves' ``tables.csv`` frames (scope
        ``all``, breakdown ``kommune``); questions in both waves only.

        Returns
        -------
        pandas.DataFrame
            :data:`RANK_MOVEMENT_COLUMNS`, one row per question and municipality found in either wave.
        """
        e, l = _municipality_rows(earlier, "earlier"), _municipality_rows(later, "later")
        parts = []
        for qid in [q for q in pd.unique(l["question"]) if q in set(e["question"])]:
            eq = e[e["question"] == qid].reset_index(drop=True)
            lq = l[l["question"] == qid].reset_index(drop=True)

            def rankable(t):
                return set(t.loc[np.isfinite(t["estimate"]) & np.isfinite(t["se"]) & (t["n"] >= self.ranker.min_n),
                                 "kommune"])
            panel = rankable(eq) & rankable(lq)
            names = list(dict.fromkeys(list(lq["kommune"]) + list(eq["kommune"])))
            if self.panel_only:
                eq, lq = eq[eq["kommune"].isin(panel)], lq[lq["kommune"].isin(panel)]
            re, rl = (self.ranker(t.reset_index(drop=True), unit="kommune") if len(t) else None for t in (eq, lq))
            row = pd.DataFrame({"question": qid, "kommune": names, "panel": [k in panel for k in names]})
            for prefix, r in (("earlier", re), ("later", rl)):
                cols = ["rank", "of", "lower", "upper", "label"]
                if r is None:
                    for c in cols:
                        row[f"{prefix}_{c}"] = pd.NA
                    continue
                r = r.set_index("kommune").reindex(names)
                for c in cols:
                    row[f"{prefix}_{c}"] = r[c].to_numpy()
                row[f"{prefix}_label"] = row[f"{prefix}_label"].fillna(
                    "ikke med i begge runder" if self.panel_only else "ikke med i runden")
            for c in ("earlier_rank", "earlier_of", "earlier_lower", "earlier_upper", "later_rank", "later_of",
                      "later_lower", "later_upper"):
                row[c] = pd.array(row[c], dtype="Int64")
            row["movement"] = row["earlier_rank"] - row["later_rank"]
            parts.append(row)
        if not parts:
            return pd.DataFrame(columns=RANK_MOVEMENT_COLUMNS)
        return pd.concat(parts, ignore_index=True)[RANK_MOVEMENT_COLUMNS]
