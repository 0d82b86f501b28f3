\set a random(2, 10001)
\set b 2 + (:a - 2 + random(1, 9999)) % 10000
\set amt random(1, 1000)
WITH t AS (INSERT INTO plain.transfer (debit_account, credit_account, amount, kind)
           VALUES (:a, :b, :amt, 'transfer'))
UPDATE plain.account SET balance = balance + CASE WHEN id = :a THEN -1 ELSE 1 END * :amt::bigint
 WHERE id IN (:a, :b);
