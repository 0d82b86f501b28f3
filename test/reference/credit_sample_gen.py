#!/usr/bin/python3
"""Generate test/data/credit_sample.csv: 5,000 loan applicants with a default flag.

Deterministic (numpy seed 20261125).  Features resemble a consumer-lending book: age,
monthly income (thousands), debt-to-income ratio, months with the current employer,
delinquencies in the last two years, open credit lines, revolving utilisation, and home
ownership.  About 3% of incomes and 2% of utilisations are missing (NULL), and defaults
follow a logistic model with noise, so the fit is realistic rather than exact.

    /usr/bin/python3 test/reference/credit_sample_gen.py > test/data/credit_sample.csv
"""
import sys

import numpy as np

rng = np.random.default_rng(20261125)
n = 5000
age = np.clip(np.round(rng.normal(38, 10, n)), 20, 70)
income = np.round(np.exp(rng.normal(np.log(9.0), 0.45, n)), 2)        # thousand per month
dti = np.round(np.clip(rng.beta(2.2, 5.0, n) * 1.2, 0.0, 1.2), 4)
employed = np.round(rng.gamma(2.0, 24.0, n))                          # months
delinq = rng.poisson(np.where(rng.random(n) < 0.8, 0.15, 1.2))
lines = rng.poisson(6, n) + 1
util = np.round(np.clip(rng.beta(2.0, 3.5, n), 0, 1), 4)
home = rng.choice(["rent", "mortgage", "own", "family"], n, p=[0.42, 0.33, 0.17, 0.08])

home_eff = {"rent": 0.25, "mortgage": -0.2, "own": -0.35, "family": 0.1}
eta = (-2.3 - 0.025 * (age - 38) - 0.09 * (income - 9.0) + 2.4 * (dti - 0.38)
       - 0.008 * (employed - 48) + 0.55 * delinq + 0.03 * (lines - 7)
       + 1.6 * (util - 0.36) + np.array([home_eff[h] for h in home])
       + rng.normal(0, 0.35, n))
bad = rng.random(n) < 1.0 / (1.0 + np.exp(-eta))

income_missing = rng.random(n) < 0.03
util_missing = rng.random(n) < 0.02

out = sys.stdout
out.write("id,age,income,dti,months_employed,delinquencies,credit_lines,utilization,home,bad\n")
for i in range(n):
    inc = "" if income_missing[i] else f"{income[i]:.2f}"
    ut = "" if util_missing[i] else f"{util[i]:.4f}"
    out.write(f"{i + 1},{int(age[i])},{inc},{dti[i]:.4f},{int(employed[i])},{int(delinq[i])},"
              f"{int(lines[i])},{ut},{home[i]},{'t' if bad[i] else 'f'}\n")
