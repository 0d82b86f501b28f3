#!/usr/bin/python3
"""Reference values for test/pgtap/21_credit_stats.sql, computed outside PostgreSQL.

Independent implementations in numpy/scipy of what riskguard computes in C:
  - the logistic MLE by Newton's method, standard errors from the inverse Hessian,
    Wald p-values, log-likelihood (a statsmodels Logit equivalent);
  - AUC as the Mann-Whitney U statistic over n_good * n_bad (scipy.stats.mannwhitneyu,
    goods as the first sample, so a higher score means a better borrower, ties 1/2);
  - KS with scipy.stats.ks_2samp;
  - Brier score and the Hosmer-Lemeshow test (rows sorted by pd then outcome, split into
    groups of rows [floor(j n / g), floor((j + 1) n / g)), p-value from scipy chi2);
  - Basel IRB capital with scipy.stats.norm;
  - the normal CDF and quantile, and chi-square tails, from mpmath (40 digits).

    /usr/bin/python3 test/reference/credit_stats.py

Needs python3-numpy, python3-scipy and python3-mpmath (Debian packages).  The tests do
not run it: its output is pasted into the pgTAP file.
"""
import csv
import math
import os

import numpy as np
from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = ["age", "income", "dti", "months_employed", "delinquencies", "credit_lines",
            "utilization"]


def load():
    rows = []
    with open(os.path.join(HERE, "..", "data", "credit_sample.csv")) as f:
        for r in csv.DictReader(f):
            rows.append(r)
    return rows


def logistic_newton(X, y):
    beta = np.zeros(X.shape[1])
    for _ in range(100):
        eta = X @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = mu * (1.0 - mu)
        H = X.T @ (X * w[:, None])
        g = X.T @ (y - mu)
        step = np.linalg.solve(H, g)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-13:
            break
    eta = X @ beta
    mu = 1.0 / (1.0 + np.exp(-eta))
    H = X.T @ (X * (mu * (1 - mu))[:, None])
    cov = np.linalg.inv(H)
    se = np.sqrt(np.diag(cov))
    z = beta / se
    p = 2.0 * stats.norm.sf(np.abs(z))
    ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    return beta, se, z, p, ll


def arr(v, digits=12):
    return "ARRAY[" + ", ".join(f"{x:.{digits}g}" for x in v) + "]"


def hosmer_lemeshow(pd, y, g):
    order = np.lexsort((y, pd))
    pd, y = pd[order], y[order]
    n = len(pd)
    chi2 = 0.0
    for j in range(g):
        lo, hi = (j * n) // g, ((j + 1) * n) // g
        o, e, m = y[lo:hi].sum(), pd[lo:hi].sum(), hi - lo
        var = e * (1 - e / m)
        if var > 0:
            chi2 += (o - e) ** 2 / var
    return chi2, g - 2, stats.chi2.sf(chi2, g - 2)


def woe_bins(values, bad, max_bins=10, min_share=0.05):
    """The binning README.md describes, written again from its text: quantile pre-bins
    closed at distinct values, pure bins merged into the neighbour with the closer bad
    rate, then adjacent bins merged until WoE is strictly monotonic in the direction that
    keeps more bins (then more IV).  Returns the exclusive upper bounds as a scorecard
    spec takes them (v < upper; each is the smallest value of the next bin), None for the
    last bin."""
    miss_g = sum(1 for v, b in zip(values, bad) if v is None and not b)
    miss_b = sum(1 for v, b in zip(values, bad) if v is None and b)
    pairs = sorted((v, b) for v, b in zip(values, bad) if v is not None)
    items = []                                  # [value, goods, bads] per distinct value
    for v, b in pairs:
        if not items or items[-1][0] != v:
            items.append([v, 0, 0])
        items[-1][2 if b else 1] += 1
    n = len(pairs)
    tg = sum(i[1] for i in items) + miss_g
    tb = sum(i[2] for i in items) + miss_b
    target = max(max(n / max_bins, math.ceil(min_share * n)), 1)
    bins, cur = [], None                        # bin: [upper, goods, bads]
    for v, g, b in items:
        cur = [v, g, b] if cur is None else [v, cur[1] + g, cur[2] + b]
        if cur[1] + cur[2] >= target - 1e-9:
            bins.append(cur)
            cur = None
    if cur is not None:
        if bins and cur[1] + cur[2] < math.ceil(min_share * n):
            bins[-1] = [cur[0], bins[-1][1] + cur[1], bins[-1][2] + cur[2]]
        else:
            bins.append(cur)

    def merge(bs, i):                           # bin i + 1 into bin i
        bs[i] = [bs[i + 1][0], bs[i][1] + bs[i + 1][1], bs[i][2] + bs[i + 1][2]]
        del bs[i + 1]

    def rate(x):
        return x[2] / (x[1] + x[2])

    i = 0
    while len(bins) > 1 and i < len(bins):
        if bins[i][1] > 0 and bins[i][2] > 0:
            i += 1
        elif i == 0:
            merge(bins, 0)
        elif i == len(bins) - 1:
            merge(bins, i - 1)
            i -= 1
        elif abs(rate(bins[i - 1]) - rate(bins[i])) <= abs(rate(bins[i + 1]) - rate(bins[i])):
            merge(bins, i - 1)
            i -= 1
        else:
            merge(bins, i)

    def woe(x):
        return math.log((x[1] / tg) / (x[2] / tb))

    def monotonic(bs, d):
        bs = [list(x) for x in bs]
        i = 0
        while i + 1 < len(bs):
            if d * (woe(bs[i + 1]) - woe(bs[i])) > 0:
                i += 1
            else:
                merge(bs, i)
                i = max(i - 1, 0)
        return bs

    def iv(bs):
        return sum((x[1] / tg - x[2] / tb) * woe(x) for x in bs)

    up, down = monotonic(bins, 1), monotonic(bins, -1)
    best = up if (len(up), iv(up)) > (len(down), iv(down)) else down
    # a bin ends at its largest value: its exclusive bound is the next distinct value
    following = {items[k][0]: items[k + 1][0] for k in range(len(items) - 1)}
    return [following[x[0]] for x in best[:-1]] + [None]


def irb(pd, lgd, cls, m=2.5):
    pd = max(pd, 0.0003)
    if cls == "corporate":
        w = (1 - math.exp(-50 * pd)) / (1 - math.exp(-50))
        r = 0.12 * w + 0.24 * (1 - w)
    elif cls == "residential_mortgage":
        r = 0.15
    elif cls == "qualifying_revolving":
        r = 0.04
    else:
        w = (1 - math.exp(-35 * pd)) / (1 - math.exp(-35))
        r = 0.03 * w + 0.16 * (1 - w)
    k = lgd * stats.norm.cdf((stats.norm.ppf(pd) + math.sqrt(r) * stats.norm.ppf(0.999))
                             / math.sqrt(1 - r)) - pd * lgd
    if cls == "corporate":
        b = (0.11852 - 0.05478 * math.log(pd)) ** 2
        m = min(max(m, 1), 5)
        k *= (1 + (m - 2.5) * b) / (1 - 1.5 * b)
    return k


def main():
    rows = load()

    # --- fit on complete rows
    full = [r for r in rows if all(r[f] != "" for f in FEATURES)]
    X = np.array([[1.0] + [float(r[f]) for f in FEATURES] for r in full])
    y = np.array([1.0 if r["bad"] == "t" else 0.0 for r in full])
    beta, se, z, p, ll = logistic_newton(X, y)
    print("-- fit_logistic: n =", len(full), " skipped =", len(rows) - len(full))
    print("coef    ", arr(beta, 15))
    print("std_err ", arr(se, 15))
    print("p_value ", arr(p, 15))
    print("loglik  ", repr(ll))

    # --- woe_bins cut points
    fl = lambda name: [float(r[name]) if r[name] != "" else None for r in rows]
    badl = [r["bad"] == "t" for r in rows]
    print("woe_bins(income, bad)          ", woe_bins(fl("income"), badl))
    print("woe_bins(dti, bad, 4, 0.2)     ", woe_bins(fl("dti"), badl, 4, 0.2))
    print("woe_bins(utilization, bad, 8)  ", woe_bins(fl("utilization"), badl, 8))

    # --- AUC and KS of an integer score (with ties)
    score = np.array([700 - 40 * int(r["delinquencies"]) - 5 * int(r["credit_lines"])
                      + int(r["months_employed"]) // 6 for r in rows], dtype=float)
    bad = np.array([r["bad"] == "t" for r in rows])
    goods, bads = score[~bad], score[bad]
    u = stats.mannwhitneyu(goods, bads).statistic
    print("-- score = 700 - 40 delinquencies - 5 credit_lines + months_employed / 6 (integer division)")
    print("auc     ", repr(u / (len(goods) * len(bads))))
    print("ks      ", repr(stats.ks_2samp(goods, bads).statistic))

    # --- Brier and Hosmer-Lemeshow of a fixed pd formula
    pd = np.array([1.0 / (1.0 + math.exp(-(-2.6 + 2.0 * float(r["dti"])
                                           + 0.5 * int(r["delinquencies"])
                                           - 0.01 * int(r["months_employed"]) + 0.5)))
                   for r in rows])
    yb = bad.astype(float)
    print("-- pd = 1 / (1 + exp(-(-2.1 + 2 dti + 0.5 delinquencies - 0.01 months_employed)))")
    print("brier   ", repr(float(np.mean((pd - yb) ** 2))))
    for g in (10, 8):
        print(f"hl g={g:<3}", hosmer_lemeshow(pd, yb, g))

    # --- IRB
    print("-- irb_capital")
    for args in [(0.01, 0.45, "corporate", 2.5), (0.0001, 0.45, "corporate", 2.5),
                 (0.05, 0.40, "corporate", 1.0), (0.02, 0.45, "corporate", 7.0),
                 (0.005, 0.20, "residential_mortgage", 2.5),
                 (0.03, 0.85, "qualifying_revolving", 2.5),
                 (0.02, 0.60, "other_retail", 2.5), (0.15, 0.60, "other_retail", 2.5),
                 (0.9999, 0.45, "corporate", 2.5)]:
        print(f"  {args!r:50} {irb(*args)!r}")

    # --- normal distribution, in 40-digit arithmetic (python3-mpmath)
    import mpmath
    mpmath.mp.dps = 40
    print("-- normal_cdf")
    for x in [-37.0, -20.0, -8.5, -3.0, -1.5, -0.25, 0.0, 0.7, 2.0, 5.0, 8.0]:
        print(f"  {x!r:8} {float(mpmath.ncdf(x))!r}")
    print("-- normal_quantile")
    for q in [1e-300, 1e-100, 1e-20, 1e-10, 1e-4, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999, 0.9999999]:
        x = -mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * mpmath.mpf(q)) if q > 1e-30 else \
            mpmath.findroot(lambda t: mpmath.ncdf(t) - mpmath.mpf(q), -37 if q < 1e-200 else -21)
        print(f"  {q!r:8} {float(x)!r}")
    print("-- chisq_sf")
    for x, df in [(3.84, 1), (15.5, 8), (0.5, 3), (60.0, 10), (200.0, 150)]:
        print(f"  {x!r} {df!r} {stats.chi2.sf(x, df)!r}")

    # --- PSI
    e = np.array([120.0, 340, 280, 160, 100])
    a = np.array([90.0, 300, 310, 200, 100])
    se_, sa_ = e / e.sum(), a / a.sum()
    print("psi     ", repr(float(np.sum((sa_ - se_) * np.log(sa_ / se_)))))


if __name__ == "__main__":
    main()
