#!/usr/bin/env python3
"""Recount the alert rules' state from the transfers, for test/shell/alerts_state.sh.

Usage: alerts_state_recount.py TRANSFERS.csv STATE.csv

TRANSFERS.csv: id, debit_account, debit_owner, credit_account, credit_owner, amount,
created_at (every committed transfer made while the rules were active).
STATE.csv: rule, subject, window_start, n, total, mean, m2, last_at (riskguard.alert_state
of the rules c_vel, c_ano, c_str and c_dor; empty fields are NULL).

The rules are those of the test: c_vel counts and sums each owner's outflows (one window,
as the run is far shorter than a day), c_ano keeps each debited owner's running mean and
m2 (compared here with exact rational arithmetic, to 1e-9 relative), c_str counts and sums
each credited owner's inflows in [950, 1000), and c_dor counts the transfers touching each
owned account, whose last_at and window_start (the activity before) must be the time of
one of them.  Prints one line per rule, "<rule> ok <rows>", or the first mismatches.
"""
import csv
import sys
from collections import defaultdict
from fractions import Fraction


def main():
    transfers = list(csv.DictReader(open(sys.argv[1])))
    state = {(r["rule"], r["subject"]): r for r in csv.DictReader(open(sys.argv[2]))}

    vel = defaultdict(lambda: [0, 0])
    ano = defaultdict(list)
    struct = defaultdict(lambda: [0, 0])
    dor_n = defaultdict(int)
    dor_at = defaultdict(set)
    for t in transfers:
        amount = int(t["amount"])
        if t["debit_owner"]:
            vel[t["debit_owner"]][0] += 1
            vel[t["debit_owner"]][1] += amount
            ano[t["debit_owner"]].append(amount)
        if t["credit_owner"] and 950 <= amount < 1000:
            struct[t["credit_owner"]][0] += 1
            struct[t["credit_owner"]][1] += amount
        for side in ("debit", "credit"):
            if t[side + "_owner"]:
                subject = "account " + t[side + "_account"]
                dor_n[subject] += 1
                dor_at[subject].add(t["created_at"])

    problems = defaultdict(list)

    def row(rule, subject):
        r = state.get((rule, subject))
        if r is None:
            problems[rule].append(f"no state row for {subject}")
        return r

    for owner, (n, total) in vel.items():
        r = row("c_vel", owner)
        if r and (int(r["n"]), int(r["total"])) != (n, total):
            problems["c_vel"].append(f"{owner}: n, total {r['n']}, {r['total']}, recount {n}, {total}")
    for owner, xs in ano.items():
        r = row("c_ano", owner)
        if not r:
            continue
        mean = Fraction(sum(xs), len(xs))
        m2 = sum((x - mean) ** 2 for x in xs)
        if int(r["n"]) != len(xs):
            problems["c_ano"].append(f"{owner}: n {r['n']}, recount {len(xs)}")
        for name, got, want in (("mean", float(r["mean"]), mean), ("m2", float(r["m2"]), m2)):
            if abs(Fraction(got) - want) > Fraction(1, 10**9) * abs(want):
                problems["c_ano"].append(f"{owner}: {name} {got!r}, recount {float(want)!r}")
    for owner, (n, total) in struct.items():
        r = row("c_str", owner)
        if r and (int(r["n"]), int(r["total"])) != (n, total):
            problems["c_str"].append(f"{owner}: n, total {r['n']}, {r['total']}, recount {n}, {total}")
    for subject, n in dor_n.items():
        r = row("c_dor", subject)
        if not r:
            continue
        if int(r["n"]) != n:
            problems["c_dor"].append(f"{subject}: n {r['n']}, recount {n}")
        if r["last_at"] not in dor_at[subject]:
            problems["c_dor"].append(f"{subject}: last_at {r['last_at']} is no transfer's time")
        if n > 1 and r["window_start"] not in dor_at[subject]:
            problems["c_dor"].append(f"{subject}: window_start {r['window_start']} is no transfer's time")

    counts = {"c_vel": len(vel), "c_ano": len(ano), "c_str": len(struct), "c_dor": len(dor_n)}
    for rule in ("c_vel", "c_ano", "c_str", "c_dor"):
        extra = sum(1 for (r, _) in state if r == rule) - counts[rule]
        if extra:
            problems[rule].append(f"{extra} state rows more than subjects")
        if problems[rule]:
            print(f"{rule} MISMATCH " + "; ".join(problems[rule][:5]))
        else:
            print(f"{rule} ok {counts[rule]}")


if __name__ == "__main__":
    main()
