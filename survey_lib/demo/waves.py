"""Synthetic twins of the later waves (April 2024, November 2025), with planted true changes.

The 2023 twin (:func:`survey_lib.demo.generate`) is calibrated to every figure of the pilot report.
The later rounds publish only their totals, so their twins follow a simple, explicit model whose true
values are known, which is what measuring the change test needs (docs/twin.md, docs/waves.md):

1. Municipalities: the wave's participants (``params/waves/<wave>/wave.yaml``). A municipality's
   register size and its composition (målgruppe x gender x age band) are fixed by its official code
   and the seed, so a municipality has the same population in every wave; the cell counts are
   rounded so that they add up exactly.
2. Sample: ``invited`` citizens in all (the published figure), in proportion to the municipalities'
   sizes, drawn at random within each municipality.
3. Response: exactly ``respondents`` respondents (the published figure), spread over the
   municipalities with rates that vary around the wave's rate, drawn within each municipality with
   a propensity that makes women, older citizens and sygedagpenge recipients answer more (as the
   2023 non-response analysis found) and citizens without digital post or SMS answer less.
4. Answers: a scored question's answer in a cell (municipality x målgruppe x age band) follows a
   distribution on 1–5 whose mean is the 2023 national mean plus the 2023 målgruppe and age
   differences plus a municipality effect fixed by the code; the distribution is the 2023 national
   one exponentially tilted to that mean (:math:`p_s \\propto b_s e^{\\theta s}`). Answers of one
   respondent share a latent satisfaction (Gaussian copula, loading ``LATENT``).
5. Planted changes: in the later of two twin waves, a set of municipality x question pairs of the
   common panel gets a change of the cell means by :math:`\\delta`, ``|δ|`` between 0.10 and 0.35,
   in every cell of the municipality. As the municipality's composition is the same in both waves,
   its true change is exactly :math:`\\delta`; every other pair of the panel has a true change of 0.
   The pairs are written to ``ground_truth_changes.csv`` in the later wave's folder.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..params import Params
from ..validate import asked_mask
from .comments import PII_KINDS, make_comment, make_improvement
from .generate import (KONTAKT_SHARES, MUNICIPALITY_SIZES, PSI_AGE, PSI_GENDER, PSI_MG, SYGEDAGPENGE_WITH_EMPLOYER,
                       YDELSE_MIX, DemoData, round_preserving)
from .targets import group_targets

__all__ = ["WaveFacts", "WAVE_FACTS", "generate_wave", "planted_changes", "LATENT", "DELTA_RANGE"]

LATENT = 0.7                  # loading of each answer on the respondent's latent satisfaction
DELTA_RANGE = (0.10, 0.35)    # size of a planted change on the 1–5 scale (issue 16)
PLANTED_SHARE = 0.3           # share of the panel's municipality x question pairs with a planted change
DONT_KNOW = 0.06              # share of 'ved ikke' among those asked
PARTIAL = 0.07                # share of respondents who stop part way
MG = ("dagpenge", "sygedagpenge", "job_uddannelsesparate", "aktivitetsparate")
GENDERS = ("K", "M")
AGES = (("under_30", 18, 29), ("30_49", 30, 49), ("50_plus", 50, 66))
MG_SHARES = np.array([0.27, 0.24, 0.22, 0.27])
THEME_STEPS = ("status", "moedet", "maal", "samarbejde", "samtalen", "progression", "tilfredshed")


@dataclass(frozen=True)
class WaveFacts:
    """A wave's published totals and dates used by its twin."""

    invited: int
    respondents: int
    invitation: dt.date
    previous: str | None       # the twin wave the planted changes are relative to
    seed: int


# 2024: 44 municipalities, response rate 38.8 %, more than 33,000 respondents (published); the twin
# takes 33,400 respondents and 86,082 invited, which is 38.80 %.
# 2025: 29 municipalities, 61,868 invited, 20,247 respondents (32.7 %, published).
WAVE_FACTS = {
    "2024": WaveFacts(invited=86_082, respondents=33_400, invitation=dt.date(2024, 4, 8), previous=None, seed=2024),
    "2025": WaveFacts(invited=61_868, respondents=20_247, invitation=dt.date(2025, 11, 3), previous="2024", seed=2025),
}


def _municipality(seed: int, code: int, name: str, questions: list[str]) -> dict:
    """What is fixed for a municipality across waves: size, composition, effects per question."""
    rng = np.random.default_rng([seed, code])
    size = MUNICIPALITY_SIZES.get(name, float(np.exp(rng.normal(np.log(5000), 0.55))))
    pop = int(round(1.2 * size))
    comp = rng.dirichlet(60 * MG_SHARES)[:, None, None] * np.array([0.5, 0.5])[None, :, None] \
        * np.array([0.3, 0.4, 0.3])[None, None, :]
    general = rng.normal(0, 0.10)
    rate = rng.normal(0, 0.04)
    # one generator per question, so that a question's effect does not depend on which others a wave asks
    effects = {q: general + np.random.default_rng([seed, code, zlib.crc32(q.encode())]).normal(0, 0.10)
               for q in questions}
    return {"pop": pop, "comp": comp / comp.sum(), "effects": effects, "rate": rate}


def planted_changes(seed: int, panel: list[str], questions: list[str]) -> dict[tuple[str, str], float]:
    """``{(municipality, stable question): δ}`` for the planted pairs of ``panel`` x ``questions``
    (deterministic in ``seed``, the names and the questions)."""
    out = {}
    for k in sorted(panel):
        for q in sorted(questions):
            rng = np.random.default_rng([seed, zlib.crc32(k.encode()), zlib.crc32(q.encode())])
            if rng.random() < PLANTED_SHARE:
                out[(k, q)] = float(np.round(rng.choice([-1, 1]) * rng.uniform(*DELTA_RANGE), 3))
    return out


class _Tilt:
    """The 2023 national distribution of a question tilted to a given mean (looked up over θ)."""

    def __init__(self, base: np.ndarray) -> None:          # base: shares of scores 1..5
        self.base = base
        self.theta = np.linspace(-12, 12, 4801)
        w = base[None, :] * np.exp(self.theta[:, None] * (np.arange(5)[None, :] - 2))
        self.means = (w / w.sum(axis=1, keepdims=True)) @ np.arange(1, 6)

    def probs(self, mean: np.ndarray) -> np.ndarray:
        """Probabilities of 1..5 (one row per mean); the mean of a row is the target up to the
        interpolation of θ (|error| < 1e-4 on the 1–5 scale)."""
        t = np.interp(mean, self.means, self.theta)
        w = self.base[None, :] * np.exp(t[:, None] * (np.arange(5)[None, :] - 2))
        return w / w.sum(axis=1, keepdims=True)


def _question_model(qid: str) -> tuple[np.ndarray, float, dict[str, float], dict[str, float]]:
    """(base shares 1..5, national mean, målgruppe differences, age differences) from the 2023 report;
    a question the pilot did not ask takes 'tillid''s."""
    try:
        t = group_targets(qid)
    except KeyError:
        t = group_targets("tillid")
    if "total" in t:
        shares = np.array(t["total"][""]["shares"], float)
    else:                       # no printed total: the groups of the first breakdown, weighted by their n
        groups = next(iter(t.values())).values()
        shares = sum(g["n"] * np.array(g["shares"], float) for g in groups) / sum(g["n"] for g in groups)
    base = shares[::-1] / shares.sum()                         # scores 1..5
    mean = float(base @ np.arange(1, 6))

    def diffs(var: str, factor: float) -> dict[str, float]:
        return {g: factor * (float(np.array(v["shares"])[::-1] @ np.arange(1, 6) / np.sum(v["shares"])) - mean)
                for g, v in t.get(var, {}).items()}

    return base, mean, diffs("maalgruppe", 1.0), diffs("alder_band", 0.5)


def generate_wave(params: Params, wave: str, stable_of: dict[str, str], panel_truth: dict[tuple[str, str], float]
                  | None = None, seed: int | None = None, facts: WaveFacts | None = None) -> DemoData:
    """Generate the twin of ``wave`` (``"2024"`` or ``"2025"``).

    Parameters
    ----------
    params
        The wave's validated parameters (:func:`survey_lib.waves.load_wave`).
    wave
        Its name; the published totals are in :data:`WAVE_FACTS`.
    stable_of
        ``{question id of this wave: stable id}`` (the crosswalk): effects and planted changes are
        keyed by the stable id, so a question keeps its municipality effect across waves.
    panel_truth
        ``{(municipality, stable id): δ}``: the planted changes against the previous twin wave.
    seed
        Random seed (default: the wave's own).
    facts
        Totals and dates other than the published ones (default: :data:`WAVE_FACTS`; small twins for
        tests).
    """
    facts = facts or WAVE_FACTS[wave]
    seed = facts.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    panel_truth = panel_truth or {}
    qn = params.questionnaire
    likert = [q.id for q in qn.likert]
    stable = [stable_of.get(q, q) for q in likert]
    kommuner = [k.model_dump() for k in params.kommuner]
    fixed = [_municipality(2023, k["code"], k["name"], stable) for k in kommuner]
    closing = pd.Timestamp(params.survey.closing_date)

    # 1. population: identical composition per municipality in every wave
    cells = [round_preserving(f["comp"].ravel(), f["pop"]) for f in fixed]
    n_k = np.array([c.sum() for c in cells])
    kom = np.repeat(np.arange(len(kommuner)), n_k)
    cell = np.concatenate([np.repeat(np.arange(24), c) for c in cells])
    mg, gender, age = np.unravel_index(cell, (4, 2, 3))
    n = len(kom)
    lo = np.array([a[1] for a in AGES])[age]
    hi = np.array([a[2] for a in AGES])[age]
    alder = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(int)
    ydelse = np.empty(n, dtype=object)
    ydelse[mg == 0] = "a_dagpenge"
    ydelse[mg == 1] = "sygedagpenge"
    for m in (2, 3):
        for young in (True, False):
            rows = np.flatnonzero((mg == m) & ((alder < 30) == young))
            mix = YDELSE_MIX[(MG[m], young)]
            ydelse[rows] = rng.choice(list(mix), size=len(rows), p=np.array(list(mix.values())) / sum(mix.values()))
    weeks = np.minimum(rng.exponential(45.0, n) + 2, 400)
    start = (closing - pd.to_timedelta(np.round(weeks * 7), unit="D")).strftime("%Y-%m-%d")
    prefix = f"B{wave[-2:]}"
    ids = np.array([f"{prefix}{i:07d}" for i in range(1, n + 1)], dtype=object)
    population = pd.DataFrame({"person_id": ids, "kommune": np.array([k["name"] for k in kommuner], object)[kom],
                               "koen": np.array(GENDERS, object)[gender], "alder": alder, "ydelse": ydelse,
                               "maalgruppe": np.array(MG, object)[mg], "startdato": start})

    # 2. sample: the published number invited, in proportion to the municipalities' sizes
    inv_k = round_preserving(n_k.astype(float), facts.invited)
    offsets = np.concatenate([[0], np.cumsum(n_k)])
    s_idx = np.concatenate([offsets[i] + rng.choice(n_k[i], size=inv_k[i], replace=False) for i in range(len(n_k))])
    exempt = rng.random(len(s_idx)) < 0.05
    sms = np.where(exempt, rng.random(len(s_idx)) < 0.55, rng.random(len(s_idx)) < 0.9)

    # 3. response: the published number of respondents, by propensity within municipality
    rate = facts.respondents / facts.invited + np.array([f["rate"] for f in fixed])
    resp_k = round_preserving(inv_k * np.clip(rate, 0.1, 0.9), facts.respondents)
    psi = PSI_MG[mg[s_idx]] * PSI_GENDER[gender[s_idx]] * PSI_AGE[age[s_idx]] * np.where(exempt & ~sms, 0.3, 1.0)
    key = np.log(psi) + rng.gumbel(size=len(s_idx))
    s_off = np.concatenate([[0], np.cumsum(inv_k)])
    chosen = np.concatenate([s_off[i] + np.argsort(-key[s_off[i]:s_off[i + 1]])[:resp_k[i]] for i in range(len(n_k))])
    r_idx = s_idx[np.sort(chosen)]
    n_r = len(r_idx)

    # 4. answers
    rk, rmg, rage = kom[r_idx], mg[r_idx], age[r_idx]
    frame = pd.DataFrame({"maalgruppe": np.array(MG, object)[rmg], "ydelse": ydelse[r_idx],
                          "koen": np.array(GENDERS, object)[gender[r_idx]],
                          "kommune": population["kommune"].to_numpy()[r_idx],
                          "alder_band": np.array([a[0] for a in AGES], object)[rage]})
    resp = pd.DataFrame({"person_id": ids[r_idx]})
    current = rng.random(n_r) < 0.65
    partial = rng.random(n_r) < PARTIAL
    steps = [t for t in THEME_STEPS if any(q.theme == t for q in qn.questions)]
    stop = np.where(partial, rng.integers(1, len(steps), n_r), len(steps))     # themes reached
    latent = rng.normal(size=n_r)
    names = np.array([k["name"] for k in kommuner], object)
    for q in qn.questions:
        reached = stop > steps.index(q.theme)
        if q.kind == "single_choice":
            if q.id == "aktuel_status":
                v = np.where(current, 1, 2)
            elif q.id == "arbejdsgiver":
                v = np.where(rng.random(n_r) < SYGEDAGPENGE_WITH_EMPLOYER, 1, 2)
            else:
                v = np.asarray([o.code for o in q.options], object)[rng.integers(len(q.options), size=n_r)]
            col = pd.array(v, dtype="Int64")
            mask = asked_mask(q, frame).to_numpy() & reached
            col[~mask] = pd.NA
            resp[q.id] = col
            frame[q.id] = col
        elif q.kind == "multi_select":
            mask = asked_mask(q, frame).to_numpy() & reached
            only = rng.random(n_r) < KONTAKT_SHARES.get("kun_jobcentret", 0.6)
            for o in q.options:
                if o.exclusive:
                    v = only.astype(int)
                else:
                    share = KONTAKT_SHARES.get(str(o.code), 0.2) / (1 - KONTAKT_SHARES.get("kun_jobcentret", 0.6))
                    v = (~only & (rng.random(n_r) < min(share, 0.95))).astype(int)
                col = pd.array(v, dtype="Int64")
                col[~mask] = pd.NA
                resp[f"{q.id}_{o.code}"] = col
                frame[f"{q.id}_{o.code}"] = col
        elif q.kind == "likert":
            sid = stable_of.get(q.id, q.id)
            base, mean, mg_eff, age_eff = _question_model(sid)
            mg_add = np.array([mg_eff.get(g, 0.0) for g in MG])
            age_add = np.array([age_eff.get(a[0], 0.0) for a in AGES])
            kom_add = np.array([f["effects"][sid] for f in fixed])
            delta = np.array([panel_truth.get((k, sid), 0.0) for k in names])
            mu = np.clip(mean + mg_add[rmg] + age_add[rage] + kom_add[rk], 1.5, 4.6) + delta[rk]
            p = _Tilt(base).probs(mu)
            u = ndtr(LATENT * latent + np.sqrt(1 - LATENT ** 2) * rng.normal(size=n_r))
            score = 1 + (u[:, None] > np.cumsum(p, axis=1)[:, :4]).sum(axis=1)
            dk = rng.random(n_r) < DONT_KNOW
            v = np.where(dk, qn.scales[q.scale].dont_know.code, score)
            mask = asked_mask(q, frame).to_numpy() & reached
            col = pd.array(v, dtype="Int64")
            col[~mask] = pd.NA
            resp[q.id] = col
            frame[q.id] = col
        else:                                                   # free text: filled below
            resp[q.id] = None

    # 5. free text, timing
    truth = _comments(rng, resp, qn, stop >= len(steps))
    started, submitted = _timing(rng, n_r, facts.invitation, params.survey.reminder_dates, closing, partial)
    resp.insert(1, "status", np.where(partial, "partial", "complete"))
    resp.insert(2, "started_at", started)
    resp.insert(3, "submitted_at", submitted)
    sample = pd.DataFrame({"person_id": ids[s_idx], "invitation_date": facts.invitation.isoformat(),
                           "digital_post_exempt": exempt.astype(int), "sms_reachable": sms.astype(int)})
    order = ["person_id", "status", "started_at", "submitted_at"] + [c for q in qn.questions for c in q.columns]
    return DemoData(population=population, sample=sample.sort_values("person_id", ignore_index=True),
                    responses=resp.reindex(columns=order), comments_truth=truth, kommuner=kommuner, seed=seed)


def _comments(rng: np.random.Generator, resp: pd.DataFrame, qn, reached_end: np.ndarray) -> pd.DataFrame:
    """The two comment questions, written in place; the ground truth of the 'uddybning' comments."""
    ids = [q.id for q in qn.questions if q.kind == "free_text"]
    rows = []
    if "tilfredshed" not in resp.columns or not ids:
        return pd.DataFrame(columns=["person_id", "question", "satisfaction", "themes", "pii_kinds", "pii_values",
                                     "has_markup"])
    tilf = resp["tilfredshed"].to_numpy(dtype=float, na_value=np.nan)
    n_r = len(resp)
    has = reached_end & (rng.random(n_r) < 0.2)
    texts = np.full(n_r, None, dtype=object)
    for i in np.flatnonzero(has):
        score = int(tilf[i]) if np.isfinite(tilf[i]) and tilf[i] <= 5 else 3
        kind = PII_KINDS[int(rng.integers(len(PII_KINDS)))] if rng.random() < 0.03 else None
        text, themes, planted = make_comment(rng, score, kind, False)
        texts[i] = text
        rows.append({"person_id": resp.at[i, "person_id"], "question": ids[0], "satisfaction": score,
                     "themes": ";".join(themes), "pii_kinds": ";".join(k for k, _ in planted),
                     "pii_values": ";".join(v for _, v in planted), "has_markup": False})
    resp[ids[0]] = texts
    if len(ids) > 1:
        other = np.full(n_r, None, dtype=object)
        for i in np.flatnonzero(reached_end & (rng.random(n_r) < 0.1)):
            other[i] = make_improvement(rng)
        resp[ids[1]] = other
    return pd.DataFrame(rows, columns=["person_id", "question", "satisfaction", "themes", "pii_kinds", "pii_values",
                                       "has_markup"])


def _timing(rng, n, invitation: dt.date, reminders, closing: pd.Timestamp, partial: np.ndarray):
    """Start times after the invitation or a reminder, a few minutes to answer, all before the close."""
    starts = np.array([pd.Timestamp(invitation)] + [pd.Timestamp(r) for r in reminders], dtype="datetime64[ns]")
    end = np.datetime64(closing + pd.Timedelta(hours=22))
    which = rng.choice(len(starts), size=n, p=np.linspace(2, 1, len(starts)) / np.linspace(2, 1, len(starts)).sum())
    started = starts[which] + pd.to_timedelta(np.floor(rng.exponential(1.2, n)), unit="D").to_numpy() \
        + pd.to_timedelta((7 + rng.random(n) * 14) * 3600, unit="s").to_numpy()
    started = np.minimum(started, end)
    submitted = started + pd.to_timedelta(60 * (2 + rng.gamma(2.0, 2.0, n)), unit="s").to_numpy()
    over = submitted > end + np.timedelta64(90, "m")
    submitted[over] = end + np.timedelta64(90, "m")
    st = pd.Series(started).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    sb = pd.Series(submitted).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    sb[partial] = None
    return st, sb
