"""The synthetic twin of the 2023 pilot: population, sample and responses that reproduce the report.

How it is built (each step deterministic given the seed):

1. Respondent composition. A joint table over målgruppe x gender x age band x duration band x
   current/ended is raked (IPF) to the group sizes the report prints for 'tillid' (the largest
   printed n) and to the duration profiles it prints within sygedagpenge and aktivitetsparate.
2. Population. The population joint is the respondent joint divided by a response propensity
   psi(målgruppe, gender, age) that makes women, older citizens and sygedagpenge recipients answer
   more (report, 'Frafaldsanalyse'); municipalities get the sizes in ``MUNICIPALITY_SIZES`` with
   some variation in composition, rounded so that totals are exact (67,629).
3. Sample. Stratified on gender x age band within municipality (report, 'Stikprøveudtagning'),
   sizes from 1,016 to 2,266 growing with the municipality (23,119 in all).
4. Response. Within each municipality exactly the planned number of respondents (response rates
   from 50.5 % in the smallest to 38.1 % in the largest; 9,989 in all) is drawn by systematic
   sampling with inclusion probabilities proportional to psi; 977 of them stop part way.
5. Answers. For every question the respondents who reach it and are asked (the codebook's filter)
   are split into answers and 'ved ikke' so that the printed group sizes n are met (rates fitted by
   IPF over cells), then answer categories are assigned within cells so that the *weighted*
   distributions (report's strataratio weights) meet every printed breakdown (IPF over
   municipality x målgruppe x gender x age x status/duration cells), plus a municipality spread
   that gives the published most/least satisfied municipality. Within a cell, categories follow
   a latent satisfaction that is shared across questions, so answers correlate as real ones do.
6. Timing, free text. Invitation, two weekly reminders and closing date; completion times with the
   published quartiles; about 4,500 comments whose tone follows satisfaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..params import Params
from ..validate import asked_mask
from .comments import PII_KINDS, make_comment, make_improvement
from .ipf import Margin, fit_cells, fit_rates
from .targets import load_published

__all__ = ["DemoData", "generate", "PILOT", "MUNICIPALITY_SIZES"]

# Exact totals of the 2023 pilot (report: 'Stikprøvekonstruktion', 'Besvarelser').
PILOT = {
    "population": 67_629, "sample": 23_119, "respondents": 9_989, "partial": 977,
    "sample_min": 1_016, "sample_max": 2_266, "rate_min": 0.381, "rate_max": 0.505,
    "digital_post_exempt": 1_150, "exempt_sms": 650,  # about 1,150 exempt, half reachable by SMS, ~500 neither
    "invitation": dt.date(2023, 8, 28), "reminders": (dt.date(2023, 9, 4), dt.date(2023, 9, 11)),
    "free_text_citizens": 4_500,
}

# Relative population sizes of the 13 pilot municipalities (invented: the report does not print them;
# ordered roughly by the size of the municipalities' working-age populations).
MUNICIPALITY_SIZES = {
    "Odder": 2300, "Ishøj": 2900, "Syddjurs": 3300, "Mariagerfjord": 3600, "Tårnby": 3700,
    "Faaborg-Midtfyn": 4000, "Høje-Taastrup": 4600, "Gladsaxe": 4700, "Guldborgsund": 5700,
    "Silkeborg": 6000, "Vejle": 7600, "Aalborg": 9300, "Odense": 9929,
}

MG = ("dagpenge", "sygedagpenge", "job_uddannelsesparate", "aktivitetsparate")
GENDERS = ("K", "M")
AGES = ("under_30", "30_49", "50_plus")
DURS = ("under_26_uger", "26_52_uger", "1_2_aar", "over_2_aar")
STATUS = ("igangvaerende", "afsluttet")

# Response propensity factors (relative): report 'Frafaldsanalyse' says women, older citizens and
# sygedagpenge recipients answer more, aktivitetsparate least.
PSI_MG = np.array([0.97, 1.2, 1.02, 0.85])
PSI_GENDER = np.array([1.15, 0.87])
PSI_AGE = np.array([0.56, 1.0, 1.39])
# ... and by duration band: long spells answer a little less (report: mean duration 102 weeks in the
# sample, 100 among respondents).
PSI_DUR = np.array([1.04, 1.02, 1.0, 0.94])

# Duration profile (shares of the four duration bands) per målgruppe: a seed, raked in step 1.
DUR_SEED = np.array([[0.25, 0.42, 0.28, 0.05], [0.30, 0.38, 0.18, 0.14],
                     [0.17, 0.26, 0.13, 0.44], [0.10, 0.20, 0.22, 0.48]])
CURRENT_SEED = np.array([0.62, 0.66, 0.71, 0.77])  # P(current course | duration band)
# Odds of a current (not ended) course by målgruppe, relative: aktivitetsparate courses rarely end
# (in the report, 87.5 % of the aktivitetsparate who answer on cooperation are current, against 70 % of all).
CURRENT_ODDS_BY_MG = np.array([0.8, 0.8, 1.0, 2.5])
# Age profile by målgruppe (relative, before raking): uddannelseshjælp is for the young, sick leave
# for the older.
AGE_BY_MG = np.array([[0.9, 1.0, 1.0], [0.5, 1.0, 1.2], [2.2, 1.0, 0.8], [1.2, 1.0, 0.9]])

# Age ranges within bands and weeks within duration bands (for individual values).
AGE_RANGE = {"under_30": (18, 29), "30_49": (30, 49), "50_plus": (50, 66)}
WEEKS = {"under_26_uger": (15.0, 26.0), "26_52_uger": (26.0, 52.0), "1_2_aar": (52.0, 104.0)}
OVER_2_MEAN_EXTRA = 145.0

# Benefits within målgruppe by age (under 30 / 30+); codes as in survey.yaml.
YDELSE_MIX = {
    ("job_uddannelsesparate", True): {"uddannelseshjaelp_uddannelsesparat": 0.55,
                                      "uddannelseshjaelp_aabenlyst_uddannelsesparat": 0.15,
                                      "kontanthjaelp_jobparat": 0.20, "shy_jobparat": 0.10},
    ("job_uddannelsesparate", False): {"kontanthjaelp_jobparat": 0.50, "ledighedsydelse": 0.35, "shy_jobparat": 0.15},
    ("aktivitetsparate", True): {"uddannelseshjaelp_aktivitetsparat": 0.50, "kontanthjaelp_aktivitetsparat": 0.20,
                                 "ressourceforloeb": 0.10, "jobafklaringsforloeb": 0.10, "shy_aktivitetsparat": 0.10},
    ("aktivitetsparate", False): {"kontanthjaelp_aktivitetsparat": 0.40, "ressourceforloeb": 0.20,
                                  "jobafklaringsforloeb": 0.30, "shy_aktivitetsparat": 0.10},
}

# Where partial respondents stop: after which theme (0 = the opening questions ... 5 = satisfaction),
# from the drop in 'n + ved ikke' between questions in the report (9,989 -> 9,518 at tillid -> ... 9,076).
PARTIAL_STOPS = np.array([471, 180, 164, 45, 53, 64], dtype=float)
# Relative propensity to stop part way, by målgruppe: in the report the n of the questions put to
# dagpenge and job-/uddannelsesparate fall less from theme to theme than the others'.
PARTIAL_BY_MG = np.array([0.6, 1.25, 0.7, 1.0])
THEME_ORDER = {"status": 0, "moedet": 1, "maal": 2, "samtalen": 3, "progression": 4, "tilfredshed": 5}

SHARED_LATENT = 0.75          # loading of every answer on the respondent's latent satisfaction
KONTAKT_SHARES = {"kun_jobcentret": 0.636, "social": 0.198, "boern_familie": 0.078,
                  "sundhed_omsorg": 0.079, "andre": 0.091}
SYGEDAGPENGE_WITH_EMPLOYER = 0.42


@dataclass
class DemoData:
    """A generated data set in the data contract's form, with its ground truth."""

    population: pd.DataFrame
    sample: pd.DataFrame
    responses: pd.DataFrame
    comments_truth: pd.DataFrame
    kommuner: list[dict] = field(default_factory=list)
    seed: int = 0


# --------------------------------------------------------------------------------------------------
# small deterministic helpers
# --------------------------------------------------------------------------------------------------
def round_preserving(x: np.ndarray, total: int | None = None) -> np.ndarray:
    """Integers with the same cumulative sums as ``x`` (rounded): every prefix is within 1."""
    x = np.asarray(x, dtype=float)
    if total is not None and x.sum() > 0:
        x = x * (total / x.sum())
    cum = np.round(np.cumsum(x)).astype(np.int64)
    return np.diff(np.concatenate([[0], cum]))


def _systematic(rng: np.random.Generator, pi: np.ndarray) -> np.ndarray:
    """Systematic sampling in random order with inclusion probabilities ``pi`` (sum integer): mask."""
    order = rng.permutation(len(pi))
    cum = np.cumsum(pi[order])
    u = rng.random()
    hits = np.floor(cum - u + 1.0).astype(np.int64)
    chosen = np.diff(np.concatenate([[0], hits])) > 0
    mask = np.zeros(len(pi), dtype=bool)
    mask[order[chosen]] = True
    return mask


def _inclusion(psi: np.ndarray, n: int) -> np.ndarray:
    """pi_i = min(1, c psi_i) with sum n (c found by bisection)."""
    if n <= 0:
        return np.zeros_like(psi)
    lo, hi = 0.0, 1.0
    while np.minimum(1, hi * psi).sum() < n:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if np.minimum(1, mid * psi).sum() < n:
            lo = mid
        else:
            hi = mid
    pi = np.minimum(1, hi * psi)
    return pi * (n / pi.sum()) if pi.sum() > 0 else pi


def _solve_exponent(f: np.ndarray, lo_val: float, hi_val: float, counts: np.ndarray, total: float,
                    increasing: bool) -> np.ndarray:
    """Values lo + (hi-lo) f**g (or decreasing) with exponent g chosen so sum(counts * value) = total."""
    def values(g: float) -> np.ndarray:
        shape = f ** g
        return lo_val + (hi_val - lo_val) * shape if increasing else hi_val - (hi_val - lo_val) * shape

    a, b = 0.01, 20.0
    for _ in range(200):
        mid = (a + b) / 2
        s = (counts * values(mid)).sum()
        # larger exponent -> smaller shape -> smaller values if increasing
        if (s > total) == increasing:
            a = mid
        else:
            b = mid
    return values((a + b) / 2)


# --------------------------------------------------------------------------------------------------
# step 1-2: composition
# --------------------------------------------------------------------------------------------------
def _respondent_joint() -> np.ndarray:
    """Joint shares over (mg, gender, age, duration, status) raked to the report's group sizes."""
    pub = load_published()["questions"]
    t = pub["tillid"]["breakdowns"]
    t_mg = np.array([t["maalgruppe"][m]["n"] for m in MG], float)
    t_g = np.array([t["koen"][g]["n"] for g in GENDERS], float)
    t_a = np.array([t["alder"][a]["n"] for a in AGES], float)
    t_s = np.array([t["status"][s]["n"] for s in STATUS], float)
    t_d = np.array([t["varighed"][d]["n"] for d in DURS], float)
    within = pub["tro_paa_job"]["breakdowns_within"]
    w_syge = np.array([within["sygedagpenge"]["varighed"][d]["n"] for d in DURS], float)
    w_akt = np.array([within["aktivitetsparate"]["varighed"][d]["n"] for d in DURS], float)
    total = t_mg.sum()
    seed = (t_mg[:, None, None, None, None] * t_g[None, :, None, None, None] * t_a[None, None, :, None, None]
            * AGE_BY_MG[:, None, :, None, None] * DUR_SEED[:, None, None, :, None])
    cur = np.stack([CURRENT_SEED, 1 - CURRENT_SEED], axis=-1)                      # (d, s)
    cur = cur[None, :, :] * np.stack([CURRENT_ODDS_BY_MG, np.ones(4)], axis=-1)[:, None, :]   # (mg, d, s)
    arr = seed * cur[:, None, None, :, :]
    arr *= total / arr.sum()
    for _ in range(300):
        arr *= (t_mg / arr.sum((1, 2, 3, 4)))[:, None, None, None, None]
        arr *= (t_g / arr.sum((0, 2, 3, 4)))[None, :, None, None, None]
        arr *= (t_a / arr.sum((0, 1, 3, 4)))[None, None, :, None, None]
        arr *= (t_s / arr.sum((0, 1, 2, 3)))[None, None, None, None, :]
        arr[..., 0] *= (t_d / arr[..., 0].sum((0, 1, 2)))[None, None, None, :]
        for mg, prof in ((1, w_syge), (3, w_akt)):
            cur_tot = arr[mg, :, :, :, 0].sum()
            arr[mg, :, :, :, 0] *= (prof / prof.sum() * cur_tot / arr[mg, :, :, :, 0].sum((0, 1)))[None, None, :]
    return arr / arr.sum()


def _municipalities(params: Params, scale: str | float, rng: np.random.Generator) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """Municipality list, population sizes, sample sizes and respondent counts (exact totals)."""
    if scale == "pilot":
        names = [k.name for k in params.kommuner]
        missing = [n for n in names if n not in MUNICIPALITY_SIZES]
        if missing:
            raise ValueError(f"the pilot twin has no size for municipalities {missing}; use --scale national")
        kommuner = [k.model_dump() for k in params.kommuner]
        rel = np.array([MUNICIPALITY_SIZES[n] for n in names], float)
        pop = round_preserving(rel, PILOT["population"])
        f = (pop - pop.min()) / (pop.max() - pop.min())
        smp = _solve_exponent(f, PILOT["sample_min"], PILOT["sample_max"], np.ones(len(f)), PILOT["sample"], True)
        smp = np.round(smp).astype(np.int64)
        mid = int(np.argsort(smp)[len(smp) // 2])
        smp[mid] += PILOT["sample"] - smp.sum()
        rate = _solve_exponent(f, PILOT["rate_min"], PILOT["rate_max"], smp.astype(float), PILOT["respondents"], False)
        resp = np.round(smp * rate).astype(np.int64)
        resp[mid] += PILOT["respondents"] - resp.sum()
        return kommuner, pop, smp, resp
    factor = float(scale)
    n_k = 98
    regions = ["Region Hovedstaden", "Region Sjælland", "Region Syddanmark", "Region Midtjylland", "Region Nordjylland"]
    kommuner = [{"name": f"Kommune {i + 1:02d}", "slug": f"kommune-{i + 1:02d}", "code": 101 + i,
                 "region": regions[i % 5]} for i in range(n_k)]
    rel = np.exp(rng.normal(0, 0.7, n_k))
    pop = round_preserving(rel, int(round(600_000 * factor)))
    # sampling fraction that gives about 100,000 respondents per 600,000 citizens at the pilot's 43.2 %
    smp = np.round(pop * (100_000 / 600_000 / 0.432)).astype(np.int64)
    f = (pop - pop.min()) / max(pop.max() - pop.min(), 1)
    rate = _solve_exponent(f, PILOT["rate_min"], PILOT["rate_max"], smp.astype(float), smp.sum() * 0.432, False)
    resp = np.round(smp * rate).astype(np.int64)
    return kommuner, pop, smp, resp


# --------------------------------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Population:
    """The generated register: codes per citizen and the population frame."""

    kom: np.ndarray      # municipality index
    mg: np.ndarray       # målgruppe index
    gender: np.ndarray
    age: np.ndarray      # age band index
    dur: np.ndarray      # duration band index
    weeks: np.ndarray    # course duration in weeks on the closing date
    ydelse: np.ndarray
    ids: np.ndarray
    frame: pd.DataFrame


def generate(params: Params, seed: int = 2023, scale: str | float = "pilot") -> DemoData:
    """Generate the twin.

    Parameters
    ----------
    params
        Validated parameters (codebook, survey settings, municipalities).
    seed
        Random seed; the same seed gives the same data.
    scale
        ``"pilot"`` (the 13 municipalities of 2023 with the report's exact totals) or a number: a
        national round with 98 municipalities and a population of 600,000 times that number.

    Notes
    -----
    The steps draw from one generator in a fixed order (population, sample, response, partial
    response, course status, answers, free text, timing), so the same seed gives the same files.
    """
    rng = np.random.default_rng(seed)
    kommuner, pop_m, smp_m, resp_m = _municipalities(params, scale, rng)
    joint = _respondent_joint()                                     # (mg, g, a, d, s)
    psi = PSI_MG[:, None, None] * PSI_GENDER[None, :, None] * PSI_AGE[None, None, :]
    psi = psi[..., None] * PSI_DUR[None, None, None, :]             # (mg, g, a, d)
    pop_joint = joint.sum(axis=4) / psi                             # (mg, g, a, d)
    pop_joint /= pop_joint.sum()
    p_current = joint[..., 0] / joint.sum(axis=4)                   # (mg, g, a, d)

    closing = pd.Timestamp(params.survey.closing_date)
    pop = _population(rng, kommuner, pop_m, pop_joint, closing)
    s_idx, exempt, sms = _sample(rng, pop, len(kommuner), smp_m)
    responded = _response(rng, pop, s_idx, ~exempt | sms, psi, resp_m)
    r_idx = s_idx[responded]                       # population row numbers of respondents
    n_r = len(r_idx)
    partial, stop = _partial_response(rng, pop.mg[r_idx])
    current = rng.random(n_r) < p_current[pop.mg[r_idx], pop.gender[r_idx], pop.age[r_idx], pop.dur[r_idx]]
    if scale == "pilot":
        _stretch_long_courses(pop, r_idx[current], closing)
    resp = pd.DataFrame({"person_id": pop.ids[r_idx]})
    resp["aktuel_status"] = np.where(current, 1, 2)
    syge = pop.mg[r_idx] == 1
    resp["arbejdsgiver"] = pd.array(np.where(syge, np.where(rng.random(n_r) < SYGEDAGPENGE_WITH_EMPLOYER, 1, 2), 0),
                                    dtype="Int64")
    resp.loc[~syge, "arbejdsgiver"] = pd.NA
    weight = _report_weights(pop, r_idx, partial)
    _answers(rng, params, pop, r_idx, current, stop, weight, resp, refine=scale == "pilot")
    truth = _free_text(rng, pop.ids[r_idx], stop, resp)
    started, submitted = _timing(rng, n_r, pop.mg[r_idx] == 3, exempt[responded], partial, params)
    resp.insert(1, "status", np.where(partial, "partial", "complete"))
    resp.insert(2, "started_at", started)
    resp.insert(3, "submitted_at", submitted)
    sample = pd.DataFrame({
        "person_id": pop.ids[s_idx], "invitation_date": PILOT["invitation"].isoformat(),
        "digital_post_exempt": exempt.astype(int), "sms_reachable": sms.astype(int),
    })
    qn = params.questionnaire
    order_cols = ["person_id", "status", "started_at", "submitted_at"] + [c for q in qn.questions for c in q.columns]
    return DemoData(
        population=pop.frame.sort_values("person_id", ignore_index=True),
        sample=sample.sort_values("person_id", ignore_index=True),
        responses=resp.reindex(columns=order_cols).sort_values("person_id", ignore_index=True),
        comments_truth=truth.sort_values("person_id", ignore_index=True),
        kommuner=kommuner,
        seed=seed,
    )


def _population(rng: np.random.Generator, kommuner: list[dict], pop_m: np.ndarray, pop_joint: np.ndarray,
                closing: pd.Timestamp) -> _Population:
    """The register: municipality x målgruppe x gender x age band x duration band counts, ages,
    course start dates, benefits and ids."""
    cells = np.array(np.meshgrid(np.arange(4), np.arange(2), np.arange(3), np.arange(4), indexing="ij")).reshape(4, -1).T
    rows = []
    # municipal variation in the målgruppe mix, centred so that the whole keeps the planned mix
    noise_all = np.exp(rng.normal(0, 0.12, (len(kommuner), 4)))
    noise_all /= (noise_all * pop_m[:, None]).sum(axis=0) / pop_m.sum()
    for m, k in enumerate(kommuner):
        noise = noise_all[m][:, None, None, None]
        shares = (pop_joint * noise).ravel()
        counts = round_preserving(shares, int(pop_m[m]))
        rows.append(np.column_stack([np.full(counts.sum(), m), np.repeat(cells, counts, axis=0)]))
    P = np.concatenate(rows)
    n_pop = len(P)
    kom_i, mg_i, g_i, a_i, d_i = (P[:, j] for j in range(5))
    lo = np.array([AGE_RANGE[a][0] for a in AGES])
    hi = np.array([AGE_RANGE[a][1] for a in AGES])
    age = lo[a_i] + np.floor(rng.random(n_pop) * (hi[a_i] - lo[a_i] + 1)).astype(int)
    weeks = np.empty(n_pop)
    for j, d in enumerate(DURS):
        sel = d_i == j
        if d in WEEKS:
            w_lo, w_hi = WEEKS[d]
            w_lo = np.where((mg_i[sel] == 0) & (j == 0), 19.0, w_lo)   # a-dagpenge: at least 12 weeks by 1 August
            weeks[sel] = w_lo + rng.random(sel.sum()) * (w_hi - w_lo)
        else:
            weeks[sel] = 104 + np.minimum(rng.exponential(OVER_2_MEAN_EXTRA, sel.sum()), 900)
    startdato = closing - pd.to_timedelta(np.round(weeks * 7).astype(int), unit="D")
    ydelse = np.empty(n_pop, dtype=object)
    ydelse[mg_i == 0] = "a_dagpenge"
    ydelse[mg_i == 1] = "sygedagpenge"
    for (mg_name, young), mix in YDELSE_MIX.items():
        sel = (mg_i == MG.index(mg_name)) & ((a_i == 0) == young)
        codes = list(mix)
        ydelse[sel] = np.array(codes, dtype=object)[rng.choice(len(codes), size=sel.sum(), p=list(mix.values()))]
    ids = np.array([f"BR{v:07d}" for v in rng.permutation(n_pop) + 1_000_001], dtype=object)
    kom_names = np.array([k["name"] for k in kommuner], dtype=object)
    frame = pd.DataFrame({
        "person_id": ids, "kommune": kom_names[kom_i], "koen": np.array(GENDERS, dtype=object)[g_i], "alder": age,
        "ydelse": ydelse, "maalgruppe": np.array(MG, dtype=object)[mg_i],
        "startdato": startdato.strftime("%Y-%m-%d"),
    })
    return _Population(kom_i, mg_i, g_i, a_i, d_i, weeks, ydelse, ids, frame)


def _sample(rng: np.random.Generator, pop: _Population, n_kommuner: int, smp_m: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sample, stratified on gender x age within municipality (proportional allocation), with
    who is exempt from digital post and who can be reached by SMS: (rows, exempt, sms)."""
    in_sample = np.zeros(len(pop.ids), dtype=bool)
    strat_key = (pop.kom * 2 + pop.gender) * 3 + pop.age
    strat_order = np.argsort(strat_key, kind="stable")
    strat_bounds = np.searchsorted(strat_key[strat_order], np.arange(n_kommuner * 6 + 1))
    for m in range(n_kommuner):
        sizes = np.diff(strat_bounds[m * 6:(m + 1) * 6 + 1]).astype(float)
        alloc = round_preserving(sizes, int(smp_m[m]))
        for j, n_j in enumerate(alloc):
            members = strat_order[strat_bounds[m * 6 + j]:strat_bounds[m * 6 + j + 1]]
            in_sample[rng.choice(members, size=min(int(n_j), len(members)), replace=False)] = True
    s_idx = np.flatnonzero(in_sample)
    n_s = len(s_idx)
    total_sample = int(smp_m.sum())
    exempt_n = int(round(PILOT["digital_post_exempt"] * total_sample / PILOT["sample"]))
    exempt_sms_n = int(round(PILOT["exempt_sms"] * total_sample / PILOT["sample"]))
    exempt = _systematic(rng, _inclusion(np.where(pop.mg[s_idx] == 3, 2.0, 1.0), exempt_n))
    sms = np.zeros(n_s, dtype=bool)
    ex_pos = np.flatnonzero(exempt)
    sms[rng.choice(ex_pos, size=min(exempt_sms_n, len(ex_pos)), replace=False)] = True
    sms[~exempt] = rng.random((~exempt).sum()) < 0.92
    return s_idx, exempt, sms


def _response(rng: np.random.Generator, pop: _Population, s_idx: np.ndarray, reachable: np.ndarray, psi: np.ndarray,
              resp_m: np.ndarray) -> np.ndarray:
    """Who of the sample responds: each municipality's planned number, drawn with the propensities
    ``psi`` among the reachable (those who cannot be reached cannot answer)."""
    mg = pop.mg[s_idx]
    psi_i = psi[mg, pop.gender[s_idx], pop.age[s_idx], pop.dur[s_idx]]
    # lift the propensity of the reachable in each målgruppe so that the respondents keep the planned composition
    reach_rate = np.bincount(mg, weights=reachable, minlength=4) / np.bincount(mg, minlength=4)
    psi_i = psi_i / reach_rate[mg]
    responded = np.zeros(len(s_idx), dtype=bool)
    kom_bounds = np.searchsorted(pop.kom[s_idx], np.arange(len(resp_m) + 1))   # population rows are by municipality
    for m in range(len(resp_m)):
        block = np.arange(kom_bounds[m], kom_bounds[m + 1])
        sel = block[reachable[block]]
        pi = _inclusion(psi_i[sel], int(resp_m[m]))
        responded[sel[_systematic(rng, pi)]] = True
    return responded


def _partial_response(rng: np.random.Generator, mg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Who of the respondents stops part way, and after which theme (6: answered to the end)."""
    n_r = len(mg)
    partial_n = int(round(PILOT["partial"] * n_r / PILOT["respondents"]))
    partial = _systematic(rng, _inclusion(PARTIAL_BY_MG[mg], partial_n))
    stop = np.full(n_r, 6)
    stops = round_preserving(PARTIAL_STOPS, int(partial.sum()))
    stop[np.flatnonzero(partial)[rng.permutation(partial.sum())]] = np.repeat(np.arange(6), stops)
    return partial, stop


def _stretch_long_courses(pop: _Population, cur_rows: np.ndarray, closing: pd.Timestamp) -> None:
    """Stretch the weeks beyond two years (in place) so that respondents with a current course have
    the report's mean duration (102 weeks in the sample and 100 among respondents, current courses)."""
    target = load_published()["nonresponse"]["mean_duration_weeks"]["respondents"]
    weeks, d_i = pop.weeks, pop.dur
    long_rows = cur_rows[d_i[cur_rows] == 3]
    short_sum = weeks[cur_rows[d_i[cur_rows] != 3]].sum()
    extra = weeks[long_rows] - 104
    f = (target * len(cur_rows) - short_sum - 104 * len(long_rows)) / max(extra.sum(), 1e-9)
    weeks[d_i == 3] = 104 + (weeks[d_i == 3] - 104) * f
    pop.frame["startdato"] = (closing - pd.to_timedelta(np.round(weeks * 7).astype(int), unit="D")).strftime("%Y-%m-%d")


def _report_weights(pop: _Population, r_idx: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """The report's weights: population / complete respondents per stratum (municipality x gender x
    age band x målgruppe); a stratum without complete respondents gets the mean ratio."""
    kom_i, g_i, a_i, mg_i = pop.kom, pop.gender, pop.age, pop.mg
    stratum_pop = pd.Series(1, index=pd.MultiIndex.from_arrays([kom_i, g_i, a_i, mg_i])).groupby(level=[0, 1, 2, 3]).sum()
    complete_keys = pd.MultiIndex.from_arrays([kom_i[r_idx][~partial], g_i[r_idx][~partial],
                                               a_i[r_idx][~partial], mg_i[r_idx][~partial]])
    stratum_resp = pd.Series(1, index=complete_keys).groupby(level=[0, 1, 2, 3]).sum()
    keys = pd.MultiIndex.from_arrays([kom_i[r_idx], g_i[r_idx], a_i[r_idx], mg_i[r_idx]])
    ratio = (stratum_pop / stratum_resp).reindex(keys).to_numpy(dtype=float)
    return np.where(np.isfinite(ratio), ratio, np.nanmean(ratio))


def _answers(rng: np.random.Generator, params: Params, pop: _Population, r_idx: np.ndarray, current: np.ndarray,
             stop: np.ndarray, weight: np.ndarray, resp: pd.DataFrame, refine: bool) -> None:
    """Every question's answers (in place into ``resp``), fitted to the report's distributions.

    Cells for fitting: målgruppe x gender x age band x (current by duration band | ended) = 120. The
    respondent's latent satisfaction, shared by all questions, includes a municipality effect whose
    size is calibrated on overall satisfaction (most satisfied municipality 3.81)."""
    n_r = len(r_idx)
    tk = np.where(current, pop.dur[r_idx], 4)
    cells = _Cells(((pop.mg[r_idx] * 2 + pop.gender[r_idx]) * 3 + pop.age[r_idx]) * 5 + tk)
    person = rng.normal(size=n_r)
    kom = pop.kom[r_idx]
    mean_weight = np.bincount(kom, weights=weight) / np.bincount(kom)
    kommune_effect = _kommune_effects(rng, mean_weight)[kom]
    ctx = pd.DataFrame({
        "maalgruppe": np.array(MG, dtype=object)[pop.mg[r_idx]], "ydelse": pop.ydelse[r_idx],
        "koen": np.array(GENDERS, dtype=object)[pop.gender[r_idx]], "kommune": pop.frame["kommune"].to_numpy()[r_idx],
        "alder_band": np.array(AGES, dtype=object)[pop.age[r_idx]],
    })
    ctx["arbejdsgiver"] = resp["arbejdsgiver"]
    ctx["aktuel_status"] = resp["aktuel_status"]
    qn = params.questionnaire
    pub = load_published()
    plans = []
    for q in qn.questions:
        if q.theme == "status" or q.kind == "free_text":
            continue
        asked = asked_mask(q, ctx).to_numpy() & (stop >= THEME_ORDER[q.theme])
        if q.kind == "multi_select":
            for col, values in _kontakt(rng, asked, q).items():
                resp[col] = values
                ctx[col] = values
            continue
        answered = _answered(rng, q.id, asked, cells, pub)
        p = _fit_distributions(q.id, answered, cells, weight, pub)
        plans.append((q, asked, answered, p, rng.normal(size=n_r)))
    shift, tilt = _calibrate(plans, cells, weight, person, kommune_effect, kom, pub, refine=refine)
    latent = person + shift
    for q, asked, answered, p, noise in plans:
        scores = _assign(answered, p, cells, weight, latent, noise,
                         tilt if q.id == pub["weighting_example"]["question"] else 0.0)
        vals = np.where(answered, scores, np.where(asked, qn.scales[q.scale].dont_know.code, 0))
        col = pd.array(vals, dtype="Int64")
        col[~asked] = pd.NA
        resp[q.id] = col


def _free_text(rng: np.random.Generator, ids: np.ndarray, stop: np.ndarray, resp: pd.DataFrame) -> pd.DataFrame:
    """The two comment questions (in place into ``resp``); returns the ground truth of the comments
    to 'uddybning' (themes, planted personal data, markup)."""
    n_r = len(ids)
    truth_rows = []
    udd = np.full(n_r, None, dtype=object)
    forb = np.full(n_r, None, dtype=object)
    reached_end = stop >= 6
    p_udd = 0.45 * PILOT["free_text_citizens"] / 4550
    has_udd = reached_end & (rng.random(n_r) < p_udd)
    has_forb = reached_end & (rng.random(n_r) < np.where(has_udd, 0.5, 0.1))
    tilf = resp["tilfredshed"].to_numpy(dtype=float, na_value=np.nan)
    pii_draw = rng.random(n_r)
    markup_draw = rng.random(n_r)
    for i in np.flatnonzero(has_udd):
        score = int(tilf[i]) if np.isfinite(tilf[i]) and tilf[i] <= 5 else 3
        pii_kind = PII_KINDS[int(rng.integers(len(PII_KINDS)))] if pii_draw[i] < 0.04 else None
        text, themes, planted = make_comment(rng, score, pii_kind, markup_draw[i] < 0.003)
        udd[i] = text
        truth_rows.append({"person_id": ids[i], "question": "uddybning", "satisfaction": score,
                           "themes": ";".join(themes), "pii_kinds": ";".join(k for k, _ in planted),
                           "pii_values": ";".join(v for _, v in planted), "has_markup": markup_draw[i] < 0.003})
    for i in np.flatnonzero(has_forb):
        forb[i] = make_improvement(rng)
    resp["uddybning"] = udd
    resp["forbedring"] = forb
    return pd.DataFrame(truth_rows, columns=["person_id", "question", "satisfaction", "themes", "pii_kinds",
                                             "pii_values", "has_markup"])


# --------------------------------------------------------------------------------------------------
# answers
# --------------------------------------------------------------------------------------------------
def _kommune_effects(rng: np.random.Generator, mean_weight: np.ndarray) -> np.ndarray:
    """Municipality effects on the latent scale: evenly spread from -1 to 1 in random order, except
    that the two extremes go to the municipalities whose mean weight is nearest the median (the
    report names neither; in a municipality with very light or very heavy weights the weight tilt of
    overall satisfaction would distort the extreme municipality's distribution)."""
    n = len(mean_weight)
    if n < 3:
        return np.zeros(n)
    spread = np.linspace(-1.0, 1.0, n)
    middle = np.argsort(np.abs(mean_weight - np.median(mean_weight)), kind="stable")
    effects = np.empty(n)
    effects[middle[0]], effects[middle[1]] = spread[-1], spread[0]
    rest = middle[2:]
    effects[rest] = spread[1:-1][rng.permutation(n - 2)]
    return effects


class _Cells:
    """Respondents grouped into cells (målgruppe x gender x age x current-duration/ended)."""

    def __init__(self, of: np.ndarray) -> None:
        self.of = of
        self.n = 4 * 2 * 3 * 5
        self.mg, self.g, self.a, self.tk = np.unravel_index(np.arange(self.n), (4, 2, 3, 5))

    def grouping(self, name: str, codes_present: list[str] | None = None) -> np.ndarray:
        """Group index of every cell for a breakdown ('maalgruppe', 'koen', 'alder', 'status',
        'varighed', 'total'); -1 for cells outside it (ended cells for 'varighed')."""
        if name == "total":
            return np.zeros(self.n, dtype=int)
        if name == "status":
            return np.where(self.tk < 4, 0, 1)
        if name == "varighed":
            return np.where(self.tk < 4, self.tk, -1)
        cellvar, codes = {"maalgruppe": (self.mg, MG), "koen": (self.g, GENDERS), "alder": (self.a, AGES)}[name]
        present = list(codes) if codes_present is None else codes_present
        return np.array([present.index(c) if c in present else -1 for c in np.array(codes)[cellvar]])


def _kontakt(rng: np.random.Generator, asked: np.ndarray, q) -> dict[str, pd.arrays.IntegerArray]:
    """Ticks of the multi-select on contact with other departments (report's shares).

    A citizen ticks 'Kun jobcentret' (exclusive) or one main department, chosen in proportion to
    the report's shares, plus each other department with the probability that brings its share of
    all answers to the report's.
    """
    n = len(asked)
    only = rng.random(n) < KONTAKT_SHARES["kun_jobcentret"]
    rest = 1 - KONTAKT_SHARES["kun_jobcentret"]
    others = [o.code for o in q.options if o.code != "kun_jobcentret"]
    shares = np.array([KONTAKT_SHARES[c] for c in others])
    main_p = shares / shares.sum()
    main = rng.choice(len(others), size=n, p=main_p)
    ticks: dict[str, np.ndarray] = {"kun_jobcentret": only}
    for j, code in enumerate(others):
        extra = max(0.0, (shares[j] / rest - main_p[j]) / (1 - main_p[j]))
        ticks[code] = ~only & ((main == j) | (rng.random(n) < extra))
    result = {}
    for o in q.options:
        arr = pd.array(ticks[o.code].astype(int), dtype="Int64")
        arr[~asked] = pd.NA
        result[f"{q.id}_{o.code}"] = arr
    return result


def _duration_n_reliable(bd: dict) -> bool:
    """False where the printed duration n (current courses only) do not add up to the current n."""
    if "varighed" not in bd or "status" not in bd:
        return "varighed" in bd
    t = sum(v["n"] for v in bd["varighed"].values())
    return abs(t - bd["status"]["igangvaerende"]["n"]) <= 0.02 * bd["status"]["igangvaerende"]["n"]


def _answered(rng, qid: str, asked: np.ndarray, cells: _Cells, pub: dict) -> np.ndarray:
    """Which of the asked respondents answer (the rest say 'ved ikke'), meeting the printed n."""
    qp = pub["questions"].get(qid, {})
    counts = np.bincount(cells.of[asked], minlength=cells.n).astype(float)
    bd = qp.get("breakdowns") or {}
    groups, targets = [], []
    for name, order in (("maalgruppe", MG), ("koen", GENDERS), ("alder", AGES), ("status", STATUS), ("varighed", DURS)):
        if name not in bd or (name == "varighed" and not _duration_n_reliable(bd)):
            continue
        present = [c for c in order if c in bd[name]]
        groups.append(cells.grouping(name, present if name in ("maalgruppe", "koen", "alder") else None))
        targets.append(np.array([bd[name][c]["n"] for c in present], float))
    for mg_name, sub in (qp.get("breakdowns_within") or {}).items():
        if "varighed" in sub:
            groups.append(np.where((cells.tk < 4) & (cells.mg == MG.index(mg_name)), cells.tk, -1))
            targets.append(np.array([sub["varighed"][d]["n"] for d in DURS], float))
    total_n = (qp.get("total") or {}).get("n")
    if total_n is None:
        total_n = targets[0].sum() if targets else 0.95 * asked.sum()
    groups.append(cells.grouping("total"))
    targets.append(np.array([float(total_n)]))
    # Fewer asked than the report's n + 'ved ikke': keep the n and let 'ved ikke' take the shortfall,
    # unless that would leave under half of the report's 'ved ikke'.
    vi = qp.get("ved_ikke_n") or 0
    if asked.sum() - total_n < 0.5 * vi and total_n + vi > 0:
        factor = asked.sum() / (total_n + vi)
        targets = [t * factor for t in targets]
    elif asked.sum() - total_n > 1.1 * vi:
        # more asked than the report's n + 'ved ikke': let the n take up to 3 % of the surplus
        factor = min(1.03, (asked.sum() - 1.1 * vi) / total_n)
        targets = [t * factor for t in targets]
    rates = fit_rates(counts, groups, targets, start=min(1.0, total_n / max(asked.sum(), 1)))
    want = round_preserving(counts * rates)
    answered = np.zeros(len(asked), dtype=bool)
    idx = np.flatnonzero(asked)
    order = idx[np.lexsort((rng.random(len(idx)), cells.of[idx]))]
    starts = np.searchsorted(cells.of[order], np.arange(cells.n))
    for c in np.flatnonzero(want):
        answered[order[starts[c]:starts[c] + want[c]]] = True
    return answered


def _fit_distributions(qid: str, answered: np.ndarray, cells: _Cells, weight: np.ndarray, pub: dict) -> np.ndarray:
    """Category distribution (score 5..1) per cell whose weighted breakdowns meet the printed ones."""
    qp = pub["questions"].get(qid, {})
    bd = qp.get("breakdowns") or {}
    w_cell = np.bincount(cells.of[answered], weights=weight[answered], minlength=cells.n)
    margins: list[Margin] = []
    weighted_groups = []
    for name, order in (("maalgruppe", MG), ("koen", GENDERS), ("alder", AGES), ("status", STATUS), ("varighed", DURS)):
        if name not in bd or (name == "varighed" and not _duration_n_reliable(bd)):
            continue
        present = [c for c in order if c in bd[name]]
        t = np.array([np.array(bd[name][c]["shares"], float) for c in present])
        t /= t.sum(axis=1, keepdims=True)
        margins.append(Margin(cells.grouping(name, present if name in ("maalgruppe", "koen", "alder") else None),
                              w_cell, t))
        if name != "varighed":
            weighted_groups.append((t, np.array([bd[name][c]["n"] for c in present], float)))
    for mg_name, sub in (qp.get("breakdowns_within") or {}).items():
        if "varighed" in sub:
            t = np.array([np.array(sub["varighed"][d]["shares"], float) for d in DURS])
            g = np.where((cells.tk < 4) & (cells.mg == MG.index(mg_name)), cells.tk, -1)
            margins.append(Margin(g, w_cell, t / t.sum(axis=1, keepdims=True)))
    if qp.get("total") and qp["total"].get("shares"):
        total = np.array(qp["total"]["shares"], float)
    else:
        t, n = weighted_groups[0]
        total = (t * n[:, None]).sum(axis=0)
    total = total / total.sum()
    margins.insert(0, Margin(cells.grouping("total"), w_cell, total[None, :]))
    return fit_cells(np.tile(total, (cells.n, 1)), margins, iterations=400)


def _assign(answered: np.ndarray, p: np.ndarray, cells: _Cells, weight: np.ndarray, latent: np.ndarray,
            noise: np.ndarray, tilt: np.ndarray | float = 0.0) -> np.ndarray:
    """Scores of the answering respondents.

    Within a cell, respondents are ordered by the question's latent satisfaction (highest first)
    and laid on the cell's weight; each takes the category at the midpoint of its weight. The
    weighted rounding error of each category is carried into the next cell (cells visited with
    status/duration outermost), so every run of cells (every duration band, both statuses, and the
    whole) meets its weighted distribution to within about one respondent's weight. ``tilt`` is added
    to the ordering key: it moves categories between respondents of different weight within a cell,
    which changes the unweighted distribution and leaves the weighted one as it is.
    """
    s = SHARED_LATENT * latent + np.sqrt(1 - SHARED_LATENT ** 2) * noise + tilt
    scores = np.zeros(len(latent), dtype=int)
    idx = np.flatnonzero(answered)
    order = idx[np.lexsort((-s[idx], cells.of[idx]))]
    sorted_cells = cells.of[order]
    bounds = np.searchsorted(sorted_cells, np.arange(cells.n + 1))
    carry = np.zeros(5)
    visit = np.lexsort((cells.g, cells.a, cells.mg, cells.tk))
    for c in visit:
        members = order[bounds[c]:bounds[c + 1]]
        if len(members) == 0:
            continue
        w = weight[members]
        total = w.sum()
        want = np.clip(total * p[c] + carry, 0, None)
        want = want * (total / want.sum()) if want.sum() > 0 else total * p[c]
        mid = np.cumsum(w) - w / 2
        got = np.searchsorted(np.cumsum(want)[:-1], mid, side="right")
        scores[members] = 5 - got
        carry += total * p[c] - np.bincount(got, weights=w, minlength=5)
    return scores


def _within_cell_rank(answered: np.ndarray, cells: _Cells, key: np.ndarray) -> np.ndarray:
    """Position (0 = highest key, 1 = lowest) of each answering respondent within its cell."""
    rank = np.zeros(len(key))
    idx = np.flatnonzero(answered)
    order = idx[np.lexsort((-key[idx], cells.of[idx]))]
    sorted_cells = cells.of[order]
    bounds = np.searchsorted(sorted_cells, np.arange(cells.n + 1))
    for c in np.unique(sorted_cells):
        members = order[bounds[c]:bounds[c + 1]]
        rank[members] = (np.arange(len(members)) + 0.5) / len(members)
    return rank


_TILT_CENTRES = np.array([0.12, 0.37, 0.63, 0.88])


def _bisect(f, lo: float, hi: float) -> float:
    """Root of an increasing function on [lo, hi] (22 halvings)."""
    for _ in range(22):
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class _Calibration:
    """The overall-satisfaction plan with what :func:`_calibrate` varies: municipality effect scale
    above (``up``) and below (``down``) zero, and the four tilt coefficients ``g``."""

    def __init__(self, plans, cells, weight, person, effect, kom, pub) -> None:
        self.extremes = pub["municipality_extremes"]
        rows = sorted(pub["weighting_example"]["rows"], key=lambda r: -r["score"])
        counts = np.array([r["count"] for r in rows], float)
        self.want = counts / counts.sum()
        _, _, self.answered, self.p, self.noise = next(pl for pl in plans
                                                      if pl[0].id == pub["weighting_example"]["question"])
        self.cells, self.weight, self.person, self.kom = cells, weight, person, kom
        self.w = np.where(self.answered, weight, 0.0)
        self.den = np.bincount(kom, weights=self.w)
        lw = np.log(weight)
        self.lw = (lw - lw[self.answered].mean()) / lw[self.answered].std()
        self.pos = np.where(effect > 0, effect, 0.0)
        self.neg = np.where(effect < 0, effect, 0.0)

    def shift(self, up: float, down: float) -> np.ndarray:
        return up * self.pos + down * self.neg

    def tilt(self, shift: np.ndarray, g: np.ndarray) -> np.ndarray:
        key = SHARED_LATENT * (self.person + shift) + np.sqrt(1 - SHARED_LATENT ** 2) * self.noise
        rank = _within_cell_rank(self.answered, self.cells, key)
        phi = np.clip(1 - np.abs(rank[:, None] - _TILT_CENTRES[None, :]) / 0.25, 0, None)
        return (phi @ g) * self.lw

    def scores(self, shift: np.ndarray, g: np.ndarray) -> np.ndarray:
        return _assign(self.answered, self.p, self.cells, self.weight, self.person + shift, self.noise,
                       self.tilt(shift, g))

    def unweighted(self, sc: np.ndarray) -> np.ndarray:
        """Relative deviation of each category's unweighted share from the appendix table's."""
        a = sc[self.answered]
        return np.array([(a == k).mean() for k in (5, 4, 3, 2, 1)]) / self.want - 1

    def kommune_means(self, sc: np.ndarray) -> np.ndarray:
        return np.bincount(self.kom, weights=self.w * sc) / np.where(self.den > 0, self.den, 1)

    def newton(self, shift: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Damped Newton steps on ``g`` with a finite-difference Jacobian; the best point seen is kept."""
        best, best_err = g, np.inf
        for _ in range(8):
            f0 = self.unweighted(self.scores(shift, g))
            err = np.abs(f0).max()
            if err < best_err:
                best, best_err = g, err
            if err < 0.005:
                break
            jac = np.column_stack([(self.unweighted(self.scores(shift, g + 0.1 * e)) - f0) / 0.1 for e in np.eye(4)])
            step = np.linalg.lstsq(jac, -f0, rcond=None)[0]
            g = g + 0.7 * np.clip(step, -0.5, 0.5)
        return best

    def extremes_scales(self, g: np.ndarray, down: float) -> tuple[float, float]:
        """``up`` and ``down`` by bisection so that the most and least satisfied municipality meet the
        report, alternated three times (the two sides interact a little through the cells)."""
        ex = self.extremes
        up = 0.0
        for _ in range(3):
            up = _bisect(lambda b: self.kommune_means(self.scores(self.shift(b, down), g)).max()
                         - ex["most_satisfied_mean"], 0.0, 8.0)
            down = _bisect(lambda b: ex["least_satisfied_mean"]
                           - self.kommune_means(self.scores(self.shift(up, b), g)).min(), 0.0, 8.0)
        return up, down

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Unweighted shares (relative error) and the extreme municipalities' means and top-2 shares,
        scaled so that the tolerances of the reproduction test weigh alike."""
        ex = self.extremes
        sc = self.scores(self.shift(x[4], x[5]), x[:4])
        m = self.kommune_means(sc)
        t2 = np.bincount(self.kom, weights=self.w * (sc >= 4)) / np.where(self.den > 0, self.den, 1)
        hi, lo = int(np.argmax(m)), int(np.argmin(m))
        return np.concatenate([
            self.unweighted(sc) / 0.02,
            [(m[hi] - ex["most_satisfied_mean"]) / 0.015, (m[lo] - ex["least_satisfied_mean"]) / 0.015,
             (100 * t2[hi] - ex["most_satisfied_top2_pct"]) / 2.0,
             (100 * t2[lo] - ex["least_satisfied_top2_pct"]) / 2.0],
        ])

    def gauss_newton(self, x: np.ndarray, steps: int) -> np.ndarray:
        """Damped Gauss-Newton on (g, up, down) against :meth:`residuals`; the best point seen."""
        best, best_err = x, np.inf
        for _ in range(steps):
            r0 = self.residuals(x)
            err = np.abs(r0).max()
            if err < best_err:
                best, best_err = x, err
            if err < 0.4:
                break
            h = np.array([0.1, 0.1, 0.1, 0.1, 0.02, 0.02])
            jac = np.column_stack([(self.residuals(x + h[j] * e) - r0) / h[j] for j, e in enumerate(np.eye(6))])
            step = np.linalg.lstsq(jac, -r0, rcond=None)[0]
            x = x + 0.7 * np.clip(step, -0.5, 0.5)
        return best


def _calibrate(plans, cells, weight, person, effect, kom, pub, refine: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Municipality effects, and the weight tilt of overall satisfaction.

    The municipality effects (on the latent scale) are scaled separately above and below zero so
    that the most and the least satisfied municipality's weighted mean of overall satisfaction are
    the report's 3.81 and 3.21 (bisection on each side).

    The tilt is added to the ordering key within cells: ``sum_j g_j phi_j(rank) * z(log weight)``,
    with hat functions ``phi_j`` of the respondent's rank in the cell. It decides whether light or
    heavy respondents take a category, which changes the *unweighted* distribution and leaves every
    weighted one as it is; the four ``g_j`` are found by Newton steps so that the unweighted shares
    equal those of the report's appendix table ('Eksempel på beregning af vægtede andele').
    The two calibrations are alternated, then refined together (``refine``; the national twin, which
    has no published municipalities to meet, skips the refinement and the second round).
    """
    cal = _Calibration(plans, cells, weight, person, effect, kom, pub)
    up = down = 0.0
    g = np.zeros(4)
    for _ in range(2 if refine else 1):
        g = cal.newton(cal.shift(up, down), g)
        up, down = cal.extremes_scales(g, down)
    if refine:
        best = cal.gauss_newton(np.concatenate([g, [up, down]]), 10)
        g, up, down = best[:4], best[4], best[5]
    shift = cal.shift(up, down)
    return shift, cal.tilt(shift, g)


# --------------------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------------------
def _timing(rng, n, aktiv, exempt, partial, params) -> tuple[np.ndarray, np.ndarray]:
    """Start and submit times: a wave after the invitation and after each reminder (SMS reminders
    matter most for aktivitetsparate); completion minutes with quartiles 2.2 / 3.5 / 6.5."""
    inv = pd.Timestamp(PILOT["invitation"])
    starts = [inv] + [pd.Timestamp(r) for r in PILOT["reminders"]]
    closing_end = pd.Timestamp(params.survey.closing_date) + pd.Timedelta(hours=23, minutes=30)
    p_wave = np.where(aktiv[:, None], [[0.30, 0.35, 0.35]], [[0.50, 0.28, 0.22]])
    p_wave = np.where(exempt[:, None], [[0.0, 0.5, 0.5]], p_wave)    # no digital post: SMS reminders only
    u = rng.random(n)
    wave = (u[:, None] > np.cumsum(p_wave, axis=1)).sum(axis=1)
    wave_start = np.array(starts, dtype="datetime64[ns]")[wave]
    lengths = np.array([7.0, 7.0, (closing_end - starts[2]).total_seconds() / 86400])
    delay_days = np.minimum(rng.exponential(1.0, n), lengths[wave] - 0.1)
    hour = 7 + rng.random(n) * 15
    day_floor = np.floor(delay_days)
    started = wave_start + pd.to_timedelta(day_floor, unit="D").to_numpy() + pd.to_timedelta(hour * 3600, unit="s").to_numpy()
    z = rng.normal(size=n)
    minutes = 3.5 * np.exp(np.where(z < 0, z * np.log(3.5 / 2.2), z * np.log(6.5 / 3.5)) / 0.6744897501960817)
    submitted = started + pd.to_timedelta(minutes * 60, unit="s").to_numpy()
    over = submitted > np.datetime64(closing_end)
    shift = submitted[over] - np.datetime64(closing_end)
    started[over] -= shift
    submitted[over] -= shift
    st = pd.Series(started).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    sb = pd.Series(submitted).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    sb[partial] = None
    return st, sb
