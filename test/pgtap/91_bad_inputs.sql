-- The bad-input catalogue: every class of bad input tried, per capability, with the
-- SQLSTATE it must get.  One table, checked with throws_ok in a loop; the README's
-- "Bad inputs" table is printed from this file by test/bad_inputs.py, so the two agree.
-- Format of a catalogue row (one line each, for the script):
--   ('capability', 'bad input', $$SQL$$, 'SQLSTATE'),
-- SQL may start with SET SESSION AUTHORIZATION: throws_ok runs it in a subtransaction,
-- whose rollback restores the session user.
BEGIN;
CREATE EXTENSION riskguard;

-- roles
CREATE ROLE bi_admin IN ROLE riskguard_admin;
CREATE ROLE bi_approver IN ROLE riskguard_approver;
CREATE ROLE bi_both IN ROLE riskguard_admin, riskguard_approver;
CREATE ROLE bi_plain;

-- ledger: accounts, a posted transfer with an idempotency key, holds posted and voided
SELECT riskguard.open_account('bi:custody', 'client', 'CMB custody', 'entity', 'CNY', 'debit') IS NOT NULL AS opened;
SELECT riskguard.open_account('bi:li', 'client', 'li', 'individual', 'CNY') IS NOT NULL AS opened;
SELECT riskguard.open_account('bi:wang', 'client', 'wang', 'individual', 'CNY') IS NOT NULL AS opened;
SELECT riskguard.open_account('bi:usd', 'client', 'smith', 'individual', 'USD') IS NOT NULL AS opened;
SELECT riskguard.open_account('bi:fees', 'platform', NULL, NULL, 'CNY') IS NOT NULL AS opened;
SELECT riskguard.post_transfer('bi:custody', 'bi:li', 1000000, 'deposit') IS NOT NULL AS posted;
SELECT riskguard.post_transfer('bi:li', 'bi:wang', 1000, 'p2p', 'ref 1', 'bi-idem-1') IS NOT NULL AS posted;
CREATE TEMP TABLE bi_ids AS
SELECT riskguard.hold_transfer('bi:li', 'bi:wang', 5000, 'p2p') AS held,
       riskguard.hold_transfer('bi:li', 'bi:wang', 5000, 'p2p') AS voided,
       riskguard.hold_transfer('bi:li', 'bi:wang', 5000, 'p2p') AS posted;
SELECT riskguard.void_pending(voided) IS NOT NULL AS done FROM bi_ids;
SELECT riskguard.post_pending(posted) IS NOT NULL AS done FROM bi_ids;
GRANT SELECT ON bi_ids TO PUBLIC;

-- limits: a per-transfer cap on kind "cap"
INSERT INTO riskguard.limit_rule (name, subject, kinds, direction, metric, threshold, currency, action)
VALUES ('bi_cap', 'account', '{cap}', 'outflow', 'per_transfer', 500, 'CNY', 'reject');

-- maker-checker: one proposal already rejected, one still open
SET SESSION AUTHORIZATION bi_admin;
SELECT riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "platform", "to_pool": "reserve", "kind": "top_up"}', 'bi decided') IS NOT NULL AS proposed;
SELECT riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "platform", "to_pool": "reserve", "kind": "top_up2"}', 'bi open') IS NOT NULL AS proposed;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION bi_approver;
SELECT riskguard.reject_change((SELECT max(id) FROM riskguard.change_request WHERE reason = 'bi decided'), 'no');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION bi_both;
SELECT riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "platform", "to_pool": "reserve", "kind": "top_up3"}', 'bi self') IS NOT NULL AS proposed;
RESET SESSION AUTHORIZATION;

-- credit scoring: a valid scorecard to vary, a logistic model without a missing value,
-- tables to attach scoring to
CREATE TEMP TABLE bi_spec (s jsonb);
INSERT INTO bi_spec VALUES ('{"kind": "scorecard", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "features": [
    {"name": "income", "type": "numeric", "reason": "INCOME",
     "bins": [{"upper": 30000, "points": 20}, {"upper": 60000, "points": 40}, {"points": 60}], "missing": {"points": 10}},
    {"name": "housing", "type": "categorical", "reason": "HOUSING",
     "bins": [{"values": ["own"], "points": 30}, {"values": ["rent"], "points": 10}], "missing": {"points": 5}}],
  "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 80}, {"grade": "B"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.1}, {"decision": "decline"}]}');
GRANT SELECT ON bi_spec TO PUBLIC;
SELECT riskguard.create_model('bi_card', s) AS version FROM bi_spec;
SELECT riskguard.create_model('bi_logit', '{"kind": "logistic", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "intercept": -3, "features": [{"name": "dti", "coefficient": 2.4, "reason": "DTI"}],
  "grades": {"by": "pd", "bands": [{"grade": "A", "max_pd": 0.05}, {"grade": "B"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.1}, {"decision": "decline"}]}') AS version;
SELECT riskguard.create_model('bi_huge', '{"kind": "logistic", "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "intercept": -3, "features": [{"name": "dti", "coefficient": -1e9, "reason": "DTI"}],
  "grades": {"by": "pd", "bands": [{"grade": "A", "max_pd": 0.05}, {"grade": "B"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.1}, {"decision": "decline"}]}') AS version;
CREATE TABLE bi_nocol (id int PRIMARY KEY);
CREATE TABLE bi_wrongtype (id int PRIMARY KEY, dti text, credit_score int, credit_pd float8,
                           credit_grade text, credit_decision text, credit_reasons text[]);

-- encryption: a protected table and tables that cannot be protected
CREATE TABLE bi_cust (id bigint PRIMARY KEY, nid text, card bytea, n int, bidx text, other text);
SELECT riskguard.protect_column('bi_cust', 'nid');
SELECT riskguard.protect_column('bi_cust', 'card');
INSERT INTO bi_cust (id, nid, card) VALUES (1, '110101199003071111', '\x0102'), (2, '110101199003072222', NULL);
CREATE TABLE bi_nopk (id int, v text);
CREATE TABLE bi_datepk (d date PRIMARY KEY, v text);
CREATE TABLE bi_textpk (k text PRIMARY KEY, v text);
CREATE VIEW bi_view AS SELECT 1 AS id, 'x'::text AS v;
CREATE TABLE bi_parted (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
GRANT SELECT ON bi_cust TO bi_plain;

-- market risk: returns
CREATE TEMP TABLE bi_r AS SELECT t, 0.01 * sin(t) AS r FROM generate_series(1, 100) t;

CREATE TEMP TABLE bad_input (n serial, capability text, input text, sql text, sqlstate text);
INSERT INTO bad_input (capability, input, sql, sqlstate) VALUES
-- core and root key
('core', 'misspelt riskguard setting', $$SET riskguard.root_key_flie = '/tmp/k'$$, '42602'),
('core', 'root key setting changed at run time', $$SET riskguard.root_key_file = '/tmp/k'$$, '55P02'),
('core', 'install script of another version than the library', $$SELECT riskguard._check_library_version('9.9')$$, '55000'),
('core', 'key check value read by a role without riskguard_admin', $$SET SESSION AUTHORIZATION bi_plain; SELECT riskguard.key_check_value()$$, '42501'),
-- control audit log
('audit', 'UPDATE of the audit log (even by a superuser)', $$UPDATE riskguard.audit_log SET actor = 'x'$$, 'RG004'),
('audit', 'DELETE from the audit log', $$DELETE FROM riskguard.audit_log$$, 'RG004'),
('audit', 'TRUNCATE of the audit log', $$TRUNCATE riskguard.audit_log$$, 'RG004'),
('audit', 'an entry without an action', $$SELECT riskguard._audit('', 'x', NULL)$$, '22023'),
('audit', 'reading the log or verifying it without riskguard_admin or riskguard_approver', $$SET SESSION AUTHORIZATION bi_plain; SELECT * FROM riskguard.verify_audit()$$, '42501'),
-- maker-checker
('maker-checker', 'proposal by a role without riskguard_admin', $$SET SESSION AUTHORIZATION bi_approver; SELECT riskguard.propose_change('pool_flow', 'delete', '{"from_pool": "client", "to_pool": "client", "kind": "*"}', NULL)$$, '42501'),
('maker-checker', 'approving one''s own proposal', $$SET SESSION AUTHORIZATION bi_both; SELECT riskguard.approve_change((SELECT max(id) FROM riskguard.change_request WHERE reason = 'bi self'))$$, 'RG006'),
('maker-checker', 'approval by a role without riskguard_approver', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.approve_change((SELECT max(id) FROM riskguard.change_request WHERE reason = 'bi open'))$$, 'RG006'),
('maker-checker', 'approving a change already rejected', $$SET SESSION AUTHORIZATION bi_approver; SELECT riskguard.approve_change((SELECT max(id) FROM riskguard.change_request WHERE reason = 'bi decided'))$$, '55000'),
('maker-checker', 'rejecting a change already rejected', $$SET SESSION AUTHORIZATION bi_approver; SELECT riskguard.reject_change((SELECT max(id) FROM riskguard.change_request WHERE reason = 'bi decided'), 'again')$$, '55000'),
('maker-checker', 'unknown change id', $$SET SESSION AUTHORIZATION bi_approver; SELECT riskguard.approve_change(987654321)$$, 'P0002'),
('maker-checker', 'unknown target', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('no_such_table', 'insert', '{}', NULL)$$, '22023'),
('maker-checker', 'unknown action', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('pool_flow', 'upsert', '{}', NULL)$$, '22023'),
('maker-checker', 'unknown column', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "client", "to_pool": "client", "kind": "x", "colour": "red"}', NULL)$$, '22023'),
('maker-checker', 'payload that is not a JSON object', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('pool_flow', 'insert', '[1, 2]', NULL)$$, '22023'),
('maker-checker', 'update without the primary key', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('reserve_rule', 'update', '{"basis_points": 5}', NULL)$$, '22023'),
('maker-checker', 'delete of a row that does not exist', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('reserve_rule', 'delete', '{"kind": "no_such_kind"}', NULL)$$, 'P0002'),
('maker-checker', 'a change its table refuses (check constraint)', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "client", "to_pool": "client", "kind": ""}', NULL)$$, '23514'),
('maker-checker', 'a change its table refuses (duplicate key)', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('pool_flow', 'insert', '{"from_pool": "client", "to_pool": "client", "kind": "*"}', NULL)$$, '23505'),
('maker-checker', 'writing a control table directly, even as riskguard_admin', $$SET SESSION AUTHORIZATION bi_admin; INSERT INTO riskguard.pool_flow VALUES ('reserve', 'platform', '*')$$, '42501'),
-- ledger
('ledger', 'NULL amount', $$INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) SELECT a.id, b.id, NULL, 'p2p' FROM riskguard.account a, riskguard.account b WHERE a.code = 'bi:li' AND b.code = 'bi:wang'$$, '23502'),
('ledger', 'NULL kind', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 100, NULL)$$, '23502'),
('ledger', 'NULL account code', $$SELECT riskguard.post_transfer(NULL, 'bi:wang', 100, 'p2p')$$, '23502'),
('ledger', 'amount 0', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 0, 'p2p')$$, '22023'),
('ledger', 'negative amount', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', -100, 'p2p')$$, '22023'),
('ledger', 'empty kind', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 100, '')$$, '22023'),
('ledger', 'the same account on both sides', $$SELECT riskguard.post_transfer('bi:li', 'bi:li', 100, 'p2p')$$, '22023'),
('ledger', 'accounts in different currencies', $$SELECT riskguard.post_transfer('bi:li', 'bi:usd', 100, 'p2p')$$, '22023'),
('ledger', 'empty idempotency key', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 100, 'p2p', NULL, '')$$, '22023'),
('ledger', 'amount that overflows a balance', $$SELECT riskguard.post_transfer('bi:custody', 'bi:li', 9223372036854775807, 'deposit')$$, '22003'),
('ledger', 'unknown account code', $$SELECT riskguard.post_transfer('bi:nobody', 'bi:wang', 100, 'p2p')$$, '23503'),
('ledger', 'unknown account id', $$INSERT INTO riskguard.transfer (debit_account, credit_account, amount, kind) VALUES (987654321, 987654322, 100, 'p2p')$$, '23503'),
('ledger', 'unknown pending transfer', $$SELECT riskguard.post_pending(987654321)$$, '23503'),
('ledger', 'a flow between pools that pool_flow does not list', $$SELECT riskguard.post_transfer('bi:li', 'bi:fees', 100, 'invest')$$, 'RG002'),
('ledger', 'insufficient funds', $$SELECT riskguard.post_transfer('bi:wang', 'bi:li', 99999999, 'p2p')$$, 'RG003'),
('ledger', 'spending funds held by a pending transfer', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 1000000 - 1000 - 5000 - 5000 + 1, 'p2p')$$, 'RG003'),
('ledger', 'UPDATE of a transfer', $$UPDATE riskguard.transfer SET amount = amount + 1$$, 'RG004'),
('ledger', 'DELETE of a transfer', $$DELETE FROM riskguard.transfer$$, 'RG004'),
('ledger', 'TRUNCATE of the transfers', $$TRUNCATE riskguard.transfer CASCADE$$, 'RG004'),
('ledger', 'changing a balance by hand', $$UPDATE riskguard.account SET credits_posted = credits_posted + 1 WHERE code = 'bi:li'$$, 'RG004'),
('ledger', 'deleting an account', $$DELETE FROM riskguard.account WHERE code = 'bi:usd'$$, 'RG004'),
('ledger', 'idempotency key reused with other fields', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 2000, 'p2p', 'ref 1', 'bi-idem-1')$$, 'RG005'),
('ledger', 'posting more than held', $$SELECT riskguard.post_pending(held, 5001) FROM bi_ids$$, '22023'),
('ledger', 'posting a voided transfer', $$SELECT riskguard.post_pending(voided) FROM bi_ids$$, '55000'),
('ledger', 'voiding a posted transfer', $$SELECT riskguard.void_pending(posted) FROM bi_ids$$, '55000'),
('ledger', 'reconciling an account that is not a custody account', $$SELECT * FROM riskguard.reconcile('bi:li', 100, now())$$, '22023'),
('ledger', 'writing pool_flow without riskguard_admin', $$SET SESSION AUTHORIZATION bi_plain; DELETE FROM riskguard.pool_flow$$, '42501'),
('ledger', 'opening an account without riskguard_admin', $$SET SESSION AUTHORIZATION bi_plain; SELECT riskguard.open_account('bi:x', 'client', NULL, NULL, 'CNY')$$, '42501'),
-- limits
('limits', 'a transfer past a reject limit', $$SELECT riskguard.post_transfer('bi:li', 'bi:wang', 501, 'cap')$$, 'RG001'),
('limits', 'unknown metric', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["p2p"], "direction": "outflow", "metric": "weekly_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'unknown subject', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "branch", "kinds": ["p2p"], "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'unknown action', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["p2p"], "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "warn"}', NULL)$$, '22023'),
('limits', 'unknown direction', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["p2p"], "direction": "sideways", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'negative threshold', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["p2p"], "direction": "outflow", "metric": "daily_sum", "threshold": -1, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'NULL threshold', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["p2p"], "direction": "outflow", "metric": "daily_sum", "threshold": null, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'empty kinds', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": [], "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'outstanding limit without release kinds', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["disburse"], "direction": "inflow", "metric": "outstanding", "threshold": 1, "currency": "CNY", "action": "reject"}', NULL)$$, '22023'),
('limits', 'rule without an action', $$SET SESSION AUTHORIZATION bi_admin; SELECT riskguard.propose_change('limit_rule', 'insert', '{"name": "x", "subject": "owner", "kinds": ["p2p"], "direction": "outflow", "metric": "daily_sum", "threshold": 1, "currency": "CNY"}', NULL)$$, '23502'),
('limits', 'writing limit_rule directly', $$SET SESSION AUTHORIZATION bi_admin; UPDATE riskguard.limit_rule SET threshold = 0$$, '42501'),
('limits', 'unknown time zone in riskguard.timezone', $$SET riskguard.timezone = 'Mars/Olympus_Mons'$$, '22023'),
('limits', 'headroom of an unknown rule', $$SELECT riskguard.headroom('no_such_rule', 'li')$$, '22023'),
('limits', 'unknown preset', $$SET SESSION AUTHORIZATION bi_admin; SELECT * FROM riskguard.apply_preset('eu_2030')$$, '22023'),
-- credit scoring
('credit scoring', 'spec without scaling', $$SELECT riskguard.create_model('bi_bad', s - 'scaling') FROM bi_spec$$, 'RG020'),
('credit scoring', 'pdo of 0', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{scaling,pdo}', '0')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'base_odds below 0', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{scaling,base_odds}', '-1')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'no features', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features}', '[]')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'a feature without bins', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,0,bins}', '[]')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'numeric bins out of order', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,0,bins,1,upper}', '10000')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'a category in two bins', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,1,bins,1,values}', '["own"]')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'an open bin that is not last', $$SELECT riskguard.create_model('bi_bad', s #- '{features,0,bins,0,upper}') FROM bi_spec$$, 'RG020'),
('credit scoring', 'duplicate feature names', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,1,name}', '"income"')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'non-numeric points', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,0,bins,0,points}', '"20"')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'woe and points mixed', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,0,bins,0}', '{"upper": 30000, "woe": 0.5}')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'unrecognized key', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{features,0,bins,0}', '{"uper": 30000, "points": 20}')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'unrecognized kind', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{kind}', '"tree"')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'grade bands out of order', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{grades,bands}', '[{"grade": "A", "min_score": 80}, {"grade": "B", "min_score": 90}, {"grade": "C"}]')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'a PD bound outside [0, 1]', $$SELECT riskguard.create_model('bi_bad', jsonb_set(s, '{decisions,0,max_pd}', '1.5')) FROM bi_spec$$, 'RG020'),
('credit scoring', 'a spec written to the model table by other means', $$INSERT INTO riskguard.credit_model (name, version, kind, spec) VALUES ('bi_raw', 1, 'scorecard', '{"kind": "scorecard"}')$$, 'RG020'),
('credit scoring', 'unknown model in score', $$SELECT riskguard.score('no_such_model', '{}')$$, 'RG021'),
('credit scoring', 'unknown version in activate_model', $$SELECT riskguard.activate_model('bi_card', 99)$$, 'RG021'),
('credit scoring', 'unknown model in attach_scoring', $$SELECT riskguard.attach_scoring('bi_nocol', 'no_such_model')$$, 'RG021'),
('credit scoring', 'features that are not a JSON object', $$SELECT riskguard.score('bi_card', '[1, 2]')$$, '22023'),
('credit scoring', 'a logistic feature missing, with no missing value', $$SELECT riskguard.score('bi_logit', '{}')$$, '22004'),
('credit scoring', 'a score that does not fit an integer', $$SELECT riskguard.score('bi_huge', '{"dti": 1e6}')$$, '22003'),
('credit scoring', 'empty model name', $$SELECT riskguard.create_model('', s) FROM bi_spec$$, '22023'),
('credit scoring', 'model name longer than 63 bytes', $$SELECT riskguard.create_model(repeat('m', 64), s) FROM bi_spec$$, '22023'),
('credit scoring', 'feature_columns not an object', $$SELECT riskguard.attach_scoring('bi_wrongtype', 'bi_logit', '["dti"]')$$, '22023'),
('credit scoring', 'attaching to a table without the feature column', $$SELECT riskguard.attach_scoring('bi_nocol', 'bi_logit')$$, '42703'),
('credit scoring', 'attaching with a column of the wrong type', $$SELECT riskguard.attach_scoring('bi_wrongtype', 'bi_logit')$$, '42804'),
('credit scoring', 'detaching from a table without scoring', $$SELECT riskguard.detach_scoring('bi_nocol')$$, '42704'),
('credit scoring', 'creating a model without riskguard_admin', $$SET SESSION AUTHORIZATION bi_plain; SELECT riskguard.create_model('bi_x', s) FROM bi_spec$$, '42501'),
-- credit statistics
('credit statistics', 'rows with different numbers of features', $$SELECT riskguard.fit_logistic(x % 2 = 0, CASE WHEN x = 3 THEN ARRAY[x] ELSE ARRAY[x, 1] END::float8[]) FROM generate_series(1, 5) x$$, '22023'),
('credit statistics', 'NaN feature', $$SELECT riskguard.fit_logistic(true, ARRAY['NaN']::float8[])$$, '22023'),
('credit statistics', 'infinite feature', $$SELECT riskguard.fit_logistic(true, ARRAY['-Infinity']::float8[])$$, '22023'),
('credit statistics', 'two-dimensional features', $$SELECT riskguard.fit_logistic(true, ARRAY[[1, 2]]::float8[])$$, '22023'),
('credit statistics', 'singular design', $$SELECT riskguard.fit_logistic(x % 3 = 0, ARRAY[x, 2 * x]::float8[]) FROM generate_series(1, 10) x$$, '22023'),
('credit statistics', 'fewer rows than coefficients', $$SELECT riskguard.fit_logistic(true, ARRAY[x]::float8[]) FROM generate_series(1, 1) x$$, '22023'),
('credit statistics', 'pd above 1', $$SELECT riskguard.brier(1.01, true)$$, '22023'),
('credit statistics', 'NaN pd', $$SELECT riskguard.hosmer_lemeshow('NaN', true)$$, '22023'),
('credit statistics', 'NaN score', $$SELECT riskguard.auc('NaN', true)$$, '22023'),
('credit statistics', 'NaN score in ks', $$SELECT riskguard.ks('NaN', false)$$, '22023'),
('credit statistics', 'infinite value in woe_bins', $$SELECT riskguard.woe_bins('Infinity', true)$$, '22023'),
('credit statistics', 'only bads in woe_bins', $$SELECT riskguard.woe_bins(1, true)$$, '22023'),
('credit statistics', 'only goods in woe_categories', $$SELECT riskguard.woe_categories('a', false)$$, '22023'),
('credit statistics', 'max_bins above 100', $$SELECT riskguard.woe_bins(1, true, 101)$$, '22023'),
('credit statistics', 'negative min_bin_share', $$SELECT riskguard.woe_bins(1, true, 10, -0.1)$$, '22023'),
('credit statistics', 'fewer than 3 groups', $$SELECT riskguard.hosmer_lemeshow(0.1, true, 2)$$, '22023'),
('credit statistics', 'fewer rows than groups', $$SELECT riskguard.hosmer_lemeshow(0.1, s > 1) FROM generate_series(1, 4) s$$, '22023'),
('credit statistics', 'psi of vectors of different lengths', $$SELECT riskguard.psi(ARRAY[1, 2], ARRAY[1])$$, '22023'),
('credit statistics', 'psi of a negative count', $$SELECT riskguard.psi(ARRAY[1, -1], ARRAY[1, 2])$$, '22023'),
('credit statistics', 'psi of an all-zero vector', $$SELECT riskguard.psi(ARRAY[0, 0], ARRAY[1, 2])$$, '22023'),
('credit statistics', 'unrecognized asset class', $$SELECT riskguard.irb_capital(0.01, 0.45, 'sovereign')$$, '22023'),
('credit statistics', 'lgd above 1', $$SELECT riskguard.expected_loss(0.01, 1.2, 100)$$, '22023'),
('credit statistics', 'negative ead', $$SELECT riskguard.expected_loss(0.01, 0.45, -100)$$, '22023'),
('credit statistics', 'infinite maturity', $$SELECT riskguard.irb_capital(0.01, 0.45, 'corporate', '-Infinity')$$, '22023'),
('credit statistics', 'maturity of 0', $$SELECT riskguard.irb_capital(0.01, 0.45, 'corporate', 0)$$, '22023'),
('credit statistics', 'a rate for pd 1', $$SELECT riskguard.risk_based_rate(1, 0.45, 0.03, 0.02, 0.08, 0.15)$$, '22023'),
('credit statistics', 'NaN funding rate', $$SELECT riskguard.risk_based_rate(0.01, 0.45, 'NaN', 0.02, 0.08, 0.15)$$, '22023'),
('credit statistics', 'quantile of a negative probability', $$SELECT riskguard.normal_quantile(-0.5)$$, '22023'),
-- encryption
('encryption', 'a value opened for another row', $$SELECT riskguard.decrypt(a.nid, 'bi_cust', 'nid', b.id) FROM bi_cust a, bi_cust b WHERE a.id = 1 AND b.id = 2$$, 'RG010'),
('encryption', 'a tampered value', $$SELECT riskguard.decrypt(overlay(nid placing (CASE WHEN substr(nid, 40, 1) = 'A' THEN 'B' ELSE 'A' END) from 40 for 1), 'bi_cust', 'nid', id) FROM bi_cust WHERE id = 1$$, 'RG010'),
('encryption', 'a truncated value', $$SELECT riskguard.decrypt_bytea(substr(card, 1, 40), 'bi_cust', 'card', id) FROM bi_cust WHERE id = 1$$, 'RG010'),
('encryption', 'a value copied into another row', $$UPDATE bi_cust SET nid = (SELECT nid FROM bi_cust WHERE id = 1) WHERE id = 2$$, 'RG010'),
('encryption', 'reading plaintext without riskguard_reader', $$SET SESSION AUTHORIZATION bi_plain; SELECT riskguard.decrypt(c.*, 'nid') FROM bi_cust c$$, '42501'),
('encryption', 'a blind index without riskguard_reader', $$SET SESSION AUTHORIZATION bi_plain; SELECT riskguard.blind_index('bi_cust', 'nid', 'x')$$, '42501'),
('encryption', 'table without primary key', $$SELECT riskguard.protect_column('bi_nopk', 'v')$$, '22023'),
('encryption', 'primary key of an unsupported type', $$SELECT riskguard.protect_column('bi_datepk', 'v')$$, '22023'),
('encryption', 'protecting a primary key column', $$SELECT riskguard.protect_column('bi_textpk', 'k')$$, '22023'),
('encryption', 'blind_index_bits of 0', $$SELECT riskguard.protect_column('bi_cust', 'other', 'other_bidx', 0)$$, '22023'),
('encryption', 'blind_index_bits of 257', $$SELECT riskguard.protect_column('bi_cust', 'other', 'other_bidx', 257)$$, '22023'),
('encryption', 'blind index column already in use', $$SELECT riskguard.protect_column('bi_cust', 'other', 'nid')$$, '22023'),
('encryption', 'rotating a column that is not protected', $$SELECT riskguard.rotate_column_key('bi_cust', 'other')$$, '22023'),
('encryption', 'decrypting a column that is not protected', $$SELECT riskguard.decrypt(c.*, 'other') FROM bi_cust c$$, '22023'),
('encryption', 'batch_size below 1', $$SELECT riskguard.reencrypt('bi_cust', 'nid', 0)$$, '22023'),
('encryption', 'negative visible_suffix', $$SELECT riskguard.mask('13800138000', -1)$$, '22023'),
('encryption', 'column already protected', $$SELECT riskguard.protect_column('bi_cust', 'nid')$$, '42710'),
('encryption', 'column neither text nor bytea', $$SELECT riskguard.protect_column('bi_cust', 'n')$$, '42804'),
('encryption', 'blind index column not bytea', $$SELECT riskguard.protect_column('bi_cust', 'other', 'bidx')$$, '42804'),
('encryption', 'decrypt (text) on a bytea column', $$SELECT riskguard.decrypt(c.*, 'card') FROM bi_cust c$$, '42804'),
('encryption', 'column missing', $$SELECT riskguard.protect_column('bi_cust', 'no_such_column')$$, '42703'),
('encryption', 'table missing', $$SELECT riskguard.protect_column('bi_no_such_table', 'v')$$, '42P01'),
('encryption', 'a view', $$SELECT riskguard.protect_column('bi_view', 'v')$$, '42809'),
('encryption', 'a partitioned table', $$SELECT riskguard.protect_column('bi_parted', 'v')$$, '42809'),
('encryption', 'renaming a protected column', $$ALTER TABLE bi_cust RENAME nid TO nid2$$, '55000'),
('encryption', 'renaming a protected column''s table', $$ALTER TABLE bi_cust RENAME TO bi_cust2$$, '55000'),
-- market risk
('market risk', 'NaN return', $$SELECT riskguard.var_historical(x, 0.99) FROM (VALUES (0.01::float8), ('NaN')) v(x)$$, '22023'),
('market risk', 'infinite return', $$SELECT riskguard.var_gaussian(x, 0.99) FROM (VALUES ('-Infinity'::float8)) v(x)$$, '22023'),
('market risk', 'confidence of 1', $$SELECT riskguard.var_historical(r, 1) FROM bi_r$$, '22023'),
('market risk', 'confidence of 0', $$SELECT riskguard.es_historical(r, 0) FROM bi_r$$, '22023'),
('market risk', 'confidence that changes between rows', $$SELECT riskguard.var_cornish_fisher(r, CASE WHEN t < 50 THEN 0.99 ELSE 0.95 END) FROM bi_r$$, '22023'),
('market risk', 'NULL confidence', $$SELECT riskguard.var_historical(r, NULL) FROM bi_r$$, '22004'),
('market risk', 'lambda of 1', $$SELECT riskguard.ewma_volatility(r, 1 ORDER BY t) FROM bi_r$$, '22023'),
('market risk', 'NULL lambda', $$SELECT riskguard.ewma_volatility(r, NULL ORDER BY t) FROM bi_r$$, '22004'),
('market risk', 'covariance not square', $$SELECT riskguard.portfolio_var('{1,1}', '{{1,0,0},{0,1,0}}', 0.99)$$, '22023'),
('market risk', 'covariance as a flat array', $$SELECT riskguard.portfolio_var('{1,1}', '{1,0,0,1}', 0.99)$$, '22023'),
('market risk', 'covariance not symmetric', $$SELECT riskguard.portfolio_var('{1,1}', '{{1,0.5},{0.2,1}}', 0.99)$$, '22023'),
('market risk', 'covariance not positive semi-definite', $$SELECT riskguard.portfolio_var('{1,1}', '{{1,2},{2,1}}', 0.99)$$, '22023'),
('market risk', 'weights and covariance of different sizes', $$SELECT riskguard.component_var('{1,1,1}', '{{1,0},{0,1}}', 0.99)$$, '22023'),
('market risk', 'no weights', $$SELECT riskguard.portfolio_var('{}', '{}', 0.99)$$, '22023'),
('market risk', 'NULL element in the weights', $$SELECT riskguard.portfolio_var('{1,NULL}', '{{1,0},{0,1}}', 0.99)$$, '22004'),
('market risk', 'horizon below 1 day', $$SELECT riskguard.portfolio_var('{1}', '{{1}}', 0.99, 0)$$, '22023'),
('market risk', 'negative exceptions', $$SELECT riskguard.kupiec_pof(-1, 250, 0.99)$$, '22023'),
('market risk', 'more exceptions than observations', $$SELECT riskguard.traffic_light(251, 250)$$, '22023'),
('market risk', 'no observations', $$SELECT riskguard.kupiec_pof(0, 0, 0.99)$$, '22023'),
('market risk', 'negative exposure in hhi', $$SELECT riskguard.hhi(x) FROM (VALUES (1::float8), (-1)) v(x)$$, '22023'),
('market risk', 'price not above 0 in max_drawdown', $$SELECT riskguard.max_drawdown(x ORDER BY x) FROM (VALUES (100::float8), (0)) v(x)$$, '22023'),
('market risk', 'exposures and shocks of different sizes', $$SELECT riskguard.stress_loss('{1,2}', '{0.1}')$$, '22023'),
('market risk', 'a result that overflows double precision', $$SELECT riskguard.var_gaussian(x, 0.99) FROM (VALUES (1e200::float8), (-1e200)) v(x)$$, '22003');

SELECT plan((SELECT count(*)::int FROM bad_input) + 2);

SELECT throws_ok(b.sql, b.sqlstate, NULL, b.capability || ': ' || b.input || ' -> ' || b.sqlstate)
  FROM bad_input b ORDER BY b.n;

-- every capability has its share, and the session is the superuser again
SELECT set_eq($$SELECT DISTINCT capability FROM bad_input$$,
              ARRAY['core', 'audit', 'maker-checker', 'ledger', 'limits', 'credit scoring',
                    'credit statistics', 'encryption', 'market risk'],
              'the catalogue covers every capability');
SELECT is(session_user::text, current_user::text, 'no catalogue entry left its session authorization behind');

SELECT diag(format('%s bad inputs tried', (SELECT count(*) FROM bad_input)));

SELECT * FROM finish();
ROLLBACK;
