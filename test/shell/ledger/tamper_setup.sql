-- A small ledger for test/shell/ledger_tamper.sh: deposits, an investment with a reserve
-- provision, a fee, a partly posted hold and a voided one.
CREATE EXTENSION riskguard;
SELECT riskguard.open_account('custody:cmb', 'client', 'China Merchants Bank custody', 'entity', 'CNY', 'debit');
SELECT riskguard.open_account('wallet:zhang', 'client', 'Zhang Min', 'individual', 'CNY');
SELECT riskguard.open_account('wallet:chen', 'client', 'Chen Jie', 'individual', 'CNY');
SELECT riskguard.open_account('platform:fees', 'platform', NULL, NULL, 'CNY');
SELECT riskguard.open_account('reserve:risk', 'reserve', NULL, NULL, 'CNY');
SELECT riskguard.open_account('platform:provision_expense', 'platform', NULL, NULL, 'CNY', 'debit');
INSERT INTO riskguard.reserve_rule VALUES ('invest', 80, 6, 5);
SELECT riskguard.post_transfer('custody:cmb', 'wallet:zhang', 5000000, 'deposit', 'CMB 20261125-0001');
SELECT riskguard.post_transfer('custody:cmb', 'wallet:chen', 800000, 'deposit', 'CMB 20261125-0002', 'dep-0002');
SELECT riskguard.post_transfer('wallet:zhang', 'platform:fees', 1500, 'fee', 'service fee');
SELECT riskguard.post_transfer('wallet:zhang', 'wallet:chen', 1200000, 'invest', 'loan 5531');
SELECT riskguard.post_pending(riskguard.hold_transfer('wallet:chen', 'wallet:zhang', 300000, 'repay_principal'), 250000);
SELECT riskguard.void_pending(riskguard.hold_transfer('wallet:zhang', 'custody:cmb', 100000, 'withdrawal'));
