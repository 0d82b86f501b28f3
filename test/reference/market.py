#!/usr/bin/python3
"""Reference values for riskguard's market-risk tests (test/pgtap/40_market.sql).

    /usr/bin/python3 test/reference/market.py --write-data   # (re)create the data file
    /usr/bin/python3 test/reference/market.py                # print the reference values

The data, test/data/market_returns.csv, is 2,000 business days of daily returns of three
instruments of a platform's book (an equity index, a 10-year government bond, USD/CNY),
simulated with a fixed seed: GARCH(1,1) volatility with Student-t (4 df) innovations,
so the returns cluster and have fat tails, correlated through a fixed correlation matrix,
rounded to 10 decimals.  It also holds the equity price index (rounded to 6 decimals)
for the drawdown.  Every value below is computed from the file as written, with numpy's
default (linear, R type 7) quantile and scipy.stats for the normal, chi-square and
binomial distributions; the output is SQL that the pgTAP test embeds.
"""
import csv
import os
import sys

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'market_returns.csv')
ASSETS = ['equity', 'bond', 'fx']


def write_data():
    rng = np.random.default_rng(20261125)
    n = 2000
    corr = np.array([[1.0, -0.35, 0.20], [-0.35, 1.0, -0.10], [0.20, -0.10, 1.0]])
    chol = np.linalg.cholesky(corr)
    omega = np.array([2.0e-6, 1.5e-7, 4.0e-8])
    alpha = np.array([0.09, 0.06, 0.05])
    beta = np.array([0.89, 0.92, 0.93])
    drift = np.array([3.0e-4, 1.0e-4, 0.0])
    h = omega / (1 - alpha - beta)
    t4 = rng.standard_t(4, size=(n, 3)) / np.sqrt(2.0)   # unit variance
    z = t4 @ chol.T
    rets = np.empty((n, 3))
    eps_prev = np.zeros(3)
    for t in range(n):
        if t > 0:
            h = omega + alpha * eps_prev ** 2 + beta * h
        eps = np.sqrt(h) * z[t]
        rets[t] = drift + eps
        eps_prev = eps
    rets = np.round(rets, 10)
    days = np.busday_offset('2018-01-02', np.arange(n), roll='forward')
    px = 100.0
    with open(DATA, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['t', 'd'] + ASSETS + ['equity_px'])
        for t in range(n):
            px = px * (1.0 + rets[t, 0])
            w.writerow([t + 1, str(days[t])] + ['%.10f' % x for x in rets[t]] + ['%.6f' % px])


def read_data():
    with open(DATA) as f:
        rows = list(csv.DictReader(f))
    r = {a: np.array([float(row[a]) for row in rows]) for a in ASSETS}
    px = np.array([float(row['equity_px']) for row in rows])
    return r, px


def q7(x, c):
    return float(np.quantile(x, 1.0 - c))


def var_hist(x, c):
    return -q7(x, c)


def es_hist(x, c):
    q = q7(x, c)
    tail = x[x < q]
    return -float(tail.mean()) if len(tail) else -q


def moments(x):
    mu = x.mean()
    d = x - mu
    sigma = np.sqrt((d ** 2).mean())
    s = (d ** 3).mean() / sigma ** 3
    k = (d ** 4).mean() / sigma ** 4 - 3.0
    return mu, sigma, s, k


def var_gauss(x, c):
    mu, sigma, _, _ = moments(x)
    return -(mu + sigma * stats.norm.ppf(1.0 - c))


def es_gauss(x, c):
    p = 1.0 - c
    mu, sigma, _, _ = moments(x)
    return -mu + sigma * stats.norm.pdf(stats.norm.ppf(p)) / p


def var_cf(x, c):
    mu, sigma, s, k = moments(x)
    z = stats.norm.ppf(1.0 - c)
    zcf = (z + (z ** 2 - 1) * s / 6 + (z ** 3 - 3 * z) * k / 24
           - (2 * z ** 3 - 5 * z) * s ** 2 / 36)
    return -(mu + sigma * zcf)


def ewma(x, lam):
    s2 = x[0] ** 2
    for r in x[1:]:
        s2 = lam * s2 + (1 - lam) * r ** 2
    return float(np.sqrt(s2))


def max_drawdown(px):
    peak = np.maximum.accumulate(px)
    return float(((peak - px) / peak).max())


def xlogy(a, b):
    return 0.0 if a == 0 else a * np.log(b)


def kupiec(x, n, c):
    p = 1.0 - c
    lr = (-2 * ((n - x) * np.log(1 - p) + x * np.log(p))
          + 2 * (xlogy(n - x, (n - x) / n) + xlogy(x, x / n)))
    lr = max(lr, 0.0)
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen(exc, c):
    e = [int(v) for v in exc]
    n = np.zeros((2, 2))
    for a, b in zip(e[:-1], e[1:]):
        n[a, b] += 1
    n00, n01, n10, n11 = n[0, 0], n[0, 1], n[1, 0], n[1, 1]
    t = n.sum()
    pi = (n01 + n11) / t
    l0 = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
    l1 = 0.0
    if n00 + n01 > 0:
        l1 += xlogy(n00, n00 / (n00 + n01)) + xlogy(n01, n01 / (n00 + n01))
    if n10 + n11 > 0:
        l1 += xlogy(n10, n10 / (n10 + n11)) + xlogy(n11, n11 / (n10 + n11))
    lr_ind = max(-2 * (l0 - l1), 0.0)
    lr_cc = kupiec(sum(e), len(e), c)[0] + lr_ind
    return lr_ind, float(stats.chi2.sf(lr_ind, 1)), lr_cc, float(stats.chi2.sf(lr_cc, 2))


def main():
    if '--write-data' in sys.argv:
        write_data()
    r, px = read_data()
    out = []

    def put(name, value):
        out.append("  ('%s', %s)" % (name, repr(float(value))))

    for a in ASSETS:
        x = r[a]
        for c in (0.99, 0.975, 0.95):
            put('var_historical/%s/%s' % (a, c), var_hist(x, c))
            put('es_historical/%s/%s' % (a, c), es_hist(x, c))
        for c in (0.99, 0.95):
            put('var_gaussian/%s/%s' % (a, c), var_gauss(x, c))
            put('es_gaussian/%s/%s' % (a, c), es_gauss(x, c))
            put('var_cornish_fisher/%s/%s' % (a, c), var_cf(x, c))
        put('ewma_volatility/%s/0.94' % a, ewma(x, 0.94))
        put('ewma_volatility/%s/0.97' % a, ewma(x, 0.97))
    put('max_drawdown/equity_px', max_drawdown(px))

    # the book: 1,000,000 in equity, 3,000,000 in bonds, 500,000 in USD;
    # covariance of daily returns (population) over the whole sample
    w = np.array([1.0e6, 3.0e6, 0.5e6])
    m = np.vstack([r[a] for a in ASSETS])
    cov = np.cov(m, bias=True)
    print('-- covariance (numpy, population) of equity, bond, fx daily returns')
    print("-- '{%s}'" % ','.join('{%s}' % ','.join(repr(float(v)) for v in row) for row in cov))
    for c, h in ((0.99, 1), (0.99, 10), (0.975, 1)):
        sigma = np.sqrt(w @ cov @ w)
        z = stats.norm.ppf(c)
        put('portfolio_var/%s/%s' % (c, h), z * sigma * np.sqrt(h))
        comp = w * (cov @ w) / sigma * z * np.sqrt(h)
        for i, a in enumerate(ASSETS):
            put('component_var/%s/%s/%s' % (c, h, a), comp[i])

    # backtest: one-day 99% historical VaR of the equity from the previous 250 days
    x = r['equity']
    exc = [x[t] < -var_hist(x[t - 250:t], 0.99) for t in range(250, len(x))]
    put('backtest/exceptions', sum(exc))
    put('backtest/observations', len(exc))
    put('backtest/exceptions_last_250', sum(exc[-250:]))
    lr, pv = kupiec(sum(exc), len(exc), 0.99)
    put('backtest/kupiec_lr', lr)
    put('backtest/kupiec_p', pv)
    for k, v in zip(('lr_ind', 'p_ind', 'lr_cc', 'p_cc'), christoffersen(exc, 0.99)):
        put('backtest/christoffersen_%s' % k, v)

    # Kupiec and the traffic light on fixed counts
    for xx, n, c in ((0, 250, 0.99), (1, 250, 0.99), (7, 250, 0.99), (250, 250, 0.99),
                     (30, 1000, 0.99), (3, 500, 0.999), (60, 1000, 0.95)):
        lr, pv = kupiec(xx, n, c)
        put('kupiec/%d/%d/%s/lr' % (xx, n, c), lr)
        put('kupiec/%d/%d/%s/p' % (xx, n, c), pv)
    for k in range(0, 13):
        put('binom_cdf/%d/250/0.99' % k, stats.binom.cdf(k, 250, 0.01))
    for k, n, c in ((9, 500, 0.99), (10, 500, 0.99), (15, 500, 0.99), (18, 500, 0.99),
                    (19, 500, 0.99), (20, 250, 0.95), (25, 1000, 0.99)):
        put('binom_cdf/%d/%d/%s' % (k, n, c), stats.binom.cdf(k, n, 1.0 - c))

    # concentration of a loan book by industry (exposures in CNY)
    book = [4.2e8, 3.1e8, 2.5e8, 1.9e8, 1.2e8, 9.0e7, 6.5e7, 4.0e7, 2.5e7, 1.0e7]
    e = np.array(book)
    put('hhi/book', 10000 * ((e / e.sum()) ** 2).sum())

    print('INSERT INTO market_ref(name, value) VALUES')
    print(',\n'.join(out) + ';')


if __name__ == '__main__':
    main()
