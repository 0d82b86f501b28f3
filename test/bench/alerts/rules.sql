-- Five alert rules for test/bench/alerts.sh, one of each kind that runs on the transfer
-- path.  Written directly (as the superuser running the benchmark), not through
-- maker-checker, to keep the setup short.  On random transfers of 1-1000 fen between
-- 10,000 wallets they rarely fire: the cost measured is that of evaluating them.
INSERT INTO riskguard.alert_rule (name, kind, params, likelihood, impact) VALUES
  ('bench_velocity', 'velocity', '{"window": "1 hour", "max_count": 50, "max_sum": 100000}', 3, 3),
  ('bench_anomaly', 'amount_anomaly', '{"k": 4, "min_history": 10}', 3, 4),
  ('bench_structuring', 'structuring', '{"window": "1 day", "threshold": 1000, "margin": 0.01, "count": 5}', 4, 4),
  ('bench_limit_near', 'limit_near', '{"share": 0.9}', 2, 2),
  ('bench_dormant', 'dormant_reactivation', '{"days": 30}', 3, 2);
