-- crash_recovery.sh: a platform with limits, an alerting limit, alert rules (one that
-- only records, one that blocks), a reserve rule and a protected column, and the step each load client runs in its own transaction.
SET client_min_messages = warning;
CREATE EXTENSION riskguard;
RESET client_min_messages;

SELECT riskguard.open_account('custody', 'client', NULL, NULL, 'CNY', 'debit');
SELECT riskguard.open_account('platform:fees', 'platform', NULL, NULL, 'CNY');
SELECT riskguard.open_account('reserve:fund', 'reserve', NULL, NULL, 'CNY');
SELECT riskguard.open_account('inv:' || i, 'client', 'inv' || i, 'individual', 'CNY')
  FROM generate_series(1, 4) i;
SELECT riskguard.open_account('bor:' || i, 'client', 'bor' || i, 'individual', 'CNY')
  FROM generate_series(1, 6) i;
SELECT riskguard.post_transfer('custody', 'inv:' || i, 2000000000, 'deposit', 'opening ' || i)
  FROM generate_series(1, 4) i;

-- every rule through maker-checker: the borrowing cap, a daily limit on investing,
-- an alerting per-transfer limit, 10% of each fee to the reserve, a day-long velocity
-- alert on borrowers' repayments and fees (fires on every one past the 100th: the
-- window outlasts the test, so its state and alerts can be recounted from the ledger),
-- and a one-second velocity rule that blocks a borrower's deposits past 15 (RG007)
SET SESSION AUTHORIZATION crash_maker;
SELECT riskguard.apply_preset('cn_p2p_2016');
SELECT riskguard.propose_change('limit_rule', 'insert', '{
  "name": "invest_per_day", "subject": "owner", "kinds": ["invest"], "direction": "outflow",
  "metric": "daily_sum", "threshold": 5000000, "currency": "CNY", "action": "reject"}', 'daily cap');
SELECT riskguard.propose_change('limit_rule', 'insert', '{
  "name": "large_disbursement", "subject": "account", "kinds": ["disburse"], "direction": "inflow",
  "metric": "per_transfer", "threshold": 2500000, "currency": "CNY", "action": "alert"}', 'watch');
SELECT riskguard.propose_change('reserve_rule', 'insert',
  jsonb_build_object('kind', 'fee', 'basis_points', 1000,
                     'from_account', riskguard._account_id('platform:fees'),
                     'to_account', riskguard._account_id('reserve:fund')), 'reserve');
SELECT riskguard.propose_change('alert_rule', 'insert', '{
  "name": "busy_payer", "kind": "velocity", "kinds": ["repay_principal", "fee"],
  "params": {"window": "1 day", "max_count": 100},
  "likelihood": 2, "impact": 2, "action": "alert"}', 'many payments by one borrower');
SELECT riskguard.propose_change('alert_rule', 'insert', '{
  "name": "deposit_storm", "kind": "velocity", "kinds": ["deposit"],
  "params": {"window": "1 second", "max_count": 15, "direction": "inflow"},
  "likelihood": 3, "impact": 4, "action": "block"}', 'too many deposits at once');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION crash_checker;
SELECT riskguard.approve_change(id) FROM riskguard.change_request WHERE status = 'proposed' ORDER BY id;
RESET SESSION AUTHORIZATION;

CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, national_id text);
SELECT riskguard.protect_column('customers', 'national_id', 'national_id_bidx');
CREATE SEQUENCE customers_id_seq;
GRANT SELECT ON customers, customers_decrypted TO crash_reader;

-- the national ID a customer row must decrypt to
CREATE FUNCTION expected_national_id(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT '11010119900' || lpad(id::text, 7, '0') $$;

-- one load step: a random transfer and, when it commits, a new customer; limits,
-- balance constraints and the blocking rule refuse some (RG001, RG003, RG007) without
-- aborting the client
CREATE FUNCTION crash_step() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r   float8 := random();
  i   int := (floor(random() * 4))::int;
  inv text := 'inv:' || (1 + i);
  bor text := 'bor:' || (1 + floor(random() * 6))::int;
  tid bigint;
  cid bigint;
  hid bigint;
BEGIN
  IF r < 0.10 THEN
    tid := riskguard.post_transfer('custody', bor, (100000 * (1 + floor(random() * 10)))::bigint, 'deposit');
  ELSIF r < 0.40 THEN
    tid := riskguard.post_transfer(inv, bor, (100000 * (1 + floor(random() * 40)))::bigint, 'disburse');
  ELSIF r < 0.65 THEN
    tid := riskguard.post_transfer(bor, inv, (100000 * (1 + floor(random() * 20)))::bigint, 'repay_principal');
  ELSIF r < 0.72 THEN
    -- a two-phase loan: held now (the borrowing cap counts it now), completed later
    tid := riskguard.hold_transfer(inv, bor, (100000 * (1 + floor(random() * 40)))::bigint, 'disburse');
  ELSIF r < 0.78 THEN
    SELECT t.id INTO hid FROM riskguard.transfer t
     WHERE t.status = 'pending' AND t.pending_id IS NULL
     ORDER BY t.id LIMIT 1 OFFSET floor(random() * 4)::int;
    IF hid IS NULL THEN
      RETURN 'R none';
    END IF;
    r := random();
    IF r < 0.4 THEN
      tid := riskguard.post_pending(hid);
    ELSIF r < 0.7 THEN
      tid := riskguard.post_pending(hid, (SELECT t.amount / 2 FROM riskguard.transfer t WHERE t.id = hid));
    ELSE
      tid := riskguard.void_pending(hid);
    END IF;
  ELSIF r < 0.86 THEN
    tid := riskguard.post_transfer(bor, 'platform:fees', (1000 * (1 + floor(random() * 50)))::bigint, 'fee');
  ELSE
    tid := riskguard.post_transfer(inv, 'inv:' || (1 + (i + 1) % 4), (100000 * (1 + floor(random() * 10)))::bigint, 'invest');
  END IF;
  cid := nextval('customers_id_seq');
  INSERT INTO customers (id, name, national_id) VALUES (cid, 'customer ' || cid, expected_national_id(cid));
  RETURN 'T ' || tid || ' C ' || cid;
-- 55000: another client completed the same hold first
EXCEPTION WHEN SQLSTATE 'RG001' OR SQLSTATE 'RG003' OR SQLSTATE 'RG007' OR SQLSTATE '55000' THEN
  RETURN 'R ' || SQLSTATE;
END $$;
