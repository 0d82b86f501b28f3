#!/usr/bin/python3
"""Reference values for the amount_anomaly test in test/pgtap/16_alerts.sql.

The owner's history is 20 transfers of 100000 + (i * 7919) % 20011 fen, i = 1..20,
generated identically in the test with generate_series.  The rule flags an amount x
when |x - mean| > k * sd over the transfers before it (sample standard deviation,
ddof = 1), once at least min_history transfers are known.
"""
import numpy as np

k, min_history = 3.0, 10
amounts = [100000 + (i * 7919) % 20011 for i in range(1, 21)]
flagged = []
for j, x in enumerate(amounts):
    hist = np.array(amounts[:j], dtype=float)
    if len(hist) >= min_history and abs(x - hist.mean()) > k * hist.std(ddof=1):
        flagged.append(j + 1)
h = np.array(amounts, dtype=float)
print("history flagged:", flagged)
print("mean %.2f sd %.2f" % (h.mean(), h.std(ddof=1)))
for x in (115000, 180000):
    print(x, "flagged" if abs(x - h.mean()) > k * h.std(ddof=1) else "not flagged",
          "z %.4f" % ((x - h.mean()) / h.std(ddof=1)))
