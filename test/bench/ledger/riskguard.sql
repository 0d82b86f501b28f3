\set a random(2, 10001)
\set b 2 + (:a - 2 + random(1, 9999)) % 10000
\set amt random(1, 1000)
INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind)
VALUES (:a, :b, :amt, 'transfer');
