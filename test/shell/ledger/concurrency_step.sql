\set a random(1, 5)
\set b random(1, 5)
\set amt random(1, 400000)
\set k random(1, 5)
SELECT ledger_step(:a, :b, :amt, :k);
