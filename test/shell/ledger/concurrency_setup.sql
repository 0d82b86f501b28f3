-- Accounts for test/shell/ledger_concurrency.sh: a custody account, five wallets that
-- start with 20,000.00 CNY each, the platform's fee account and the risk reserve.
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody', 'client', 'custody bank', 'entity', 'CNY', 'debit');
SELECT riskguard.open_account('w' || i, 'client', 'client ' || i, 'individual', 'CNY')
  FROM generate_series(1, 5) i;
SELECT riskguard.open_account('fees', 'platform', NULL, NULL, 'CNY');
SELECT riskguard.open_account('reserve', 'reserve', NULL, NULL, 'CNY');
SELECT riskguard.post_transfer('custody', 'w' || i, 2000000, 'deposit') FROM generate_series(1, 5) i;
INSERT INTO riskguard.reserve_rule
SELECT 'invest', 100, f.id, r.id FROM riskguard.account f, riskguard.account r
 WHERE f.code = 'fees' AND r.code = 'reserve';

-- one random step; a refused transfer for lack of funds is an expected outcome here,
-- any other error fails the run
CREATE FUNCTION ledger_step(a int, b int, amt bigint, k int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  h bigint;
  wa text := 'w' || a;
  wb text := 'w' || b;
BEGIN
  IF k = 1 THEN
    IF a = b THEN RETURN; END IF;
    PERFORM riskguard.post_transfer(wa, wb, amt, 'invest');
  ELSIF k = 2 THEN
    IF a = b THEN RETURN; END IF;
    h := riskguard.hold_transfer(wa, wb, amt, 'invest');
    IF amt % 3 = 0 OR amt < 3 THEN  -- a partial post of amt - amt % 3 needs amt >= 3
      PERFORM riskguard.void_pending(h);
    ELSE
      PERFORM riskguard.post_pending(h, amt - amt % 3);
    END IF;
  ELSIF k = 3 THEN
    PERFORM riskguard.post_transfer(wa, 'fees', amt / 10 + 1, 'fee');
  ELSIF k = 4 THEN
    PERFORM riskguard.post_transfer(wa, 'custody', amt, 'withdrawal');
  ELSE
    PERFORM riskguard.post_transfer('custody', wb, amt, 'deposit');
  END IF;
EXCEPTION WHEN SQLSTATE 'RG003' THEN
  NULL;
END
$$;
