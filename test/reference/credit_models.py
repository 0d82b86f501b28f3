#!/usr/bin/env python3
"""Reference values for riskguard's credit scoring tests.

Implements the scoring conventions independently of the C code (README, "Credit risk"):

  logit P(bad) = b0 + sum(b_i x_i)           (x_i: a bin's woe, or a raw value)
  factor = pdo / ln 2, offset = base_score - factor * ln(base_odds)
  points_i = -(b_i x_i + b0/n) * factor + offset/n,  score = round(sum points_i)
  pd = 1 / (1 + exp(-logit))                 (woe scorecards, logistic models)
  pd = 1 / (1 + exp((S - offset)/factor))    (scorecards with ready points; S unrounded)

Bins: a numeric value falls in the first bin whose upper bound exceeds it (compared as
exact decimals); categorical bins list their values; anything else (absent, null,
strings where numbers go, "NaN", "Infinity", unlisted categories) takes the missing bin.
Reasons: the reason codes of up to four features with the most points lost against the
feature's best bin (missing bin included), largest first, ties in feature order, none
with zero loss.  Rounding is half away from zero.

Run it to print the specs and the expected rows that test/pgtap/20_credit_models.sql
holds:  python3 test/reference/credit_models.py
"""
import json
import math
import random
from decimal import Decimal

SCORECARD = {
    "kind": "scorecard",
    "description": "retail loans, test scorecard",
    "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
    "intercept": -2.4,
    "features": [
        {"name": "income", "type": "numeric", "coefficient": -0.85, "reason": "INCOME_LOW",
         "bins": [{"upper": 2500, "woe": -0.61}, {"upper": 5000, "woe": -0.12},
                  {"upper": 9000, "woe": 0.28}, {"woe": 0.74}],
         "missing": {"woe": -0.45}},
        {"name": "dti", "type": "numeric", "coefficient": -0.92, "reason": "DEBT_HIGH",
         "bins": [{"upper": 0.2, "woe": 0.55}, {"upper": 0.35, "woe": 0.12},
                  {"upper": 0.5, "woe": -0.31}, {"woe": -0.88}],
         "missing": {"woe": -0.2}},
        {"name": "delinquencies", "type": "numeric", "coefficient": -1.1, "reason": "DELINQUENT",
         "bins": [{"upper": 1, "woe": 0.42}, {"upper": 3, "woe": -0.67}, {"woe": -1.35}],
         "missing": {"woe": 0}},
        {"name": "housing", "type": "categorical", "coefficient": -0.7, "reason": "HOUSING",
         "bins": [{"values": ["own", "mortgage"], "woe": 0.33}, {"values": ["rent"], "woe": -0.21},
                  {"values": ["family", "other"], "woe": -0.4}],
         "missing": {"woe": -0.4}},
    ],
    "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 600},
                                         {"grade": "B", "min_score": 570},
                                         {"grade": "C", "min_score": 540}, {"grade": "D"}]},
    "decisions": [{"decision": "approve", "max_pd": 0.04},
                  {"decision": "review", "max_pd": 0.12}, {"decision": "decline"}],
}

POINTS = {
    "kind": "scorecard",
    "scaling": {"base_score": 500, "base_odds": 20, "pdo": 40},
    "features": [
        {"name": "months_employed", "type": "numeric", "reason": "SHORT_EMPLOYMENT",
         "bins": [{"upper": 6, "points": 20}, {"upper": 24, "points": 95},
                  {"upper": 60, "points": 140}, {"points": 165}],
         "missing": {"points": 40}},
        {"name": "inquiries", "type": "numeric", "reason": "MANY_INQUIRIES",
         "bins": [{"upper": 1, "points": 180}, {"upper": 3, "points": 150},
                  {"upper": 6, "points": 110}, {"points": 60}],
         "missing": {"points": 120}},
        {"name": "purpose", "type": "categorical", "reason": "PURPOSE",
         "bins": [{"values": ["education", "home_improvement"], "points": 190},
                  {"values": ["car", "medical"], "points": 160},
                  {"values": ["debt_consolidation"], "points": 130}],
         "missing": {"points": 100}},
    ],
    "grades": {"by": "pd", "bands": [{"grade": "prime", "max_pd": 0.05},
                                      {"grade": "near_prime", "max_pd": 0.15},
                                      {"grade": "subprime"}]},
    "decisions": [{"decision": "approve", "max_pd": 0.08},
                  {"decision": "review", "max_pd": 0.2}, {"decision": "decline"}],
}

LOGISTIC = {
    "kind": "logistic",
    "scaling": {"base_score": 600, "base_odds": 30, "pdo": 25},
    "intercept": -3.1,
    "features": [
        {"name": "dti", "coefficient": 2.3, "reason": "DEBT_HIGH", "missing": 0.35, "best": 0},
        {"name": "income_k", "coefficient": -0.012, "reason": "INCOME_LOW", "missing": 40,
         "best": 150},
        {"name": "delinquencies", "coefficient": 0.45, "reason": "DELINQUENT", "missing": 0,
         "best": 0},
        {"name": "age", "coefficient": -0.01, "reason": "AGE", "missing": 40},
    ],
    "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 640},
                                         {"grade": "B", "min_score": 600}, {"grade": "C"}]},
    "decisions": [{"decision": "approve", "max_pd": 0.05},
                  {"decision": "review", "max_pd": 0.1}, {"decision": "decline"}],
}


def scaling(spec):
    s = spec["scaling"]
    factor = s["pdo"] / math.log(2)
    return factor, s["base_score"] - factor * math.log(s["base_odds"])


def round_half_away(x):
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def is_number(v):
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def bin_of(feature, value):
    """index of the bin, or None for the missing bin"""
    bins = feature["bins"]
    if feature["type"] == "numeric":
        if not is_number(value):
            return None
        d = Decimal(str(value))
        for i, b in enumerate(bins):
            if "upper" not in b or d < Decimal(str(b["upper"])):
                return i
        raise AssertionError("last bin is open")
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif is_number(value):
        value = str(value)
    for i, b in enumerate(bins):
        if value in b["values"]:
            return i
    return None


def pick_band(bands, key, ok):
    for b in bands:
        if key not in b or ok(b[key]):
            return b
    raise AssertionError("last band is open")


def finish(spec, total, pd, losses):
    score = round_half_away(total)
    g = spec["grades"]
    if g["by"] == "score":
        grade = pick_band(g["bands"], "min_score", lambda m: score >= m)["grade"]
    else:
        grade = pick_band(g["bands"], "max_pd", lambda m: pd <= m)["grade"]
    decision = pick_band(spec["decisions"], "max_pd", lambda m: pd <= m)["decision"]
    ranked = sorted([(-loss, i, r) for i, (loss, r) in enumerate(losses) if loss > 0])
    return score, pd, grade, decision, [r for _, _, r in ranked[:4]]


def score(spec, app):
    factor, offset = scaling(spec)
    feats = spec["features"]
    n = len(feats)
    if spec["kind"] == "logistic":
        b0 = spec["intercept"]
        logit = b0
        losses = []
        for f in feats:
            x = app.get(f["name"])
            if not is_number(x):
                x = f["missing"]
            logit += f["coefficient"] * x
            if "best" in f:
                losses.append((factor * f["coefficient"] * (x - f["best"]), f["reason"]))
            else:
                losses.append((0, f["reason"]))
        total = offset - factor * logit
        return finish(spec, total, 1 / (1 + math.exp(-logit)), losses)
    woe = "intercept" in spec
    b0 = spec.get("intercept", 0)

    def pts(f, b):
        if woe:
            return -(f["coefficient"] * b["woe"] + b0 / n) * factor + offset / n
        return b["points"]

    total = 0.0
    logit = b0
    losses = []
    for f in feats:
        i = bin_of(f, app.get(f["name"]))
        b = f["missing"] if i is None else f["bins"][i]
        p = pts(f, b)
        best = max([pts(f, bb) for bb in f["bins"]] + [pts(f, f["missing"])])
        total += p
        if woe:
            logit += f["coefficient"] * b["woe"]
        losses.append((best - p, f["reason"]))
    if woe:
        pd = 1 / (1 + math.exp(-logit))
    else:
        pd = 1 / (1 + math.exp((total - offset) / factor))
    return finish(spec, total, pd, losses)


def scorecard_apps():
    rng = random.Random(20261125)
    apps = []
    for _ in range(24):
        apps.append({
            "income": rng.choice([800, 1999.99, 2500, 3100, 4999.5, 5000, 7200, 8999, 9000, 15000]),
            "dti": rng.choice([0.05, 0.19, 0.2, 0.27, 0.35, 0.41, 0.5, 0.62]),
            "delinquencies": rng.choice([0, 0, 0, 1, 2, 3, 5]),
            "housing": rng.choice(["own", "mortgage", "rent", "rent", "family", "other"]),
        })
    # values on the edges of the conventions: missing, null, strings, NaN, Infinity,
    # unlisted categories, booleans, numbers for categories
    apps += [
        {},
        {"income": None, "dti": None, "delinquencies": None, "housing": None},
        {"income": "NaN", "dti": "Infinity", "delinquencies": "-Infinity", "housing": "boat"},
        {"income": "5000", "dti": True, "delinquencies": [1], "housing": 3},
        {"income": -250, "dti": -0.1, "delinquencies": 0.999, "housing": {"x": 1}},
        {"income": 1e9, "dti": 12, "delinquencies": 40, "housing": "own"},
        {"income": 15000, "dti": 0.05, "delinquencies": 0, "housing": "own", "extra": "ignored"},
    ]
    return apps


def points_apps():
    rng = random.Random(7)
    apps = []
    for _ in range(10):
        apps.append({
            "months_employed": rng.choice([0, 3, 6, 12, 24, 36, 59, 60, 120]),
            "inquiries": rng.choice([0, 1, 2, 3, 5, 6, 9]),
            "purpose": rng.choice(["education", "car", "medical", "debt_consolidation",
                                   "wedding", "home_improvement"]),
        })
    apps += [{}, {"months_employed": 240, "inquiries": 0, "purpose": "education"}]
    return apps


def logistic_apps():
    rng = random.Random(11)
    apps = []
    for _ in range(10):
        apps.append({
            "dti": round(rng.uniform(0, 0.8), 3),
            "income_k": round(rng.uniform(12, 220), 1),
            "delinquencies": rng.choice([0, 0, 1, 2, 4]),
            "age": rng.randint(21, 70),
        })
    apps += [{}, {"dti": "NaN", "income_k": "high", "delinquencies": None, "age": 30}]
    return apps


def sql_row(app, result):
    score_, pd, grade, decision, reasons = result
    arr = "'{" + ",".join(reasons) + "}'"
    return "  ('%s'::jsonb, %d, %.12f, '%s', '%s', %s::text[])" % (
        json.dumps(app, sort_keys=True), score_, pd, grade, decision, arr)


def main():
    for name, spec, apps in [("scorecard", SCORECARD, scorecard_apps()),
                             ("points", POINTS, points_apps()),
                             ("logistic", LOGISTIC, logistic_apps())]:
        print("-- spec %s" % name)
        print(json.dumps(spec))
        print("-- expected %s" % name)
        print(",\n".join(sql_row(a, score(spec, a)) for a in apps))
        print()


if __name__ == "__main__":
    main()
