-- market_parallel: with forced parallel plans the order-free aggregates run as partial
-- aggregates in workers and are combined, and the results equal the serial ones within
-- 1e-12 relative.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS riskguard;
RESET client_min_messages;

-- 200,000 fat-tailed returns in 20 groups
SELECT setseed(0.3141);
CREATE TABLE market_par AS
  SELECT g AS t, g % 20 AS grp,
         0.01 * (random() - 0.5) / (0.05 + random()) AS r
    FROM generate_series(1, 200000) g;
ANALYZE market_par;

-- serial results
SET max_parallel_workers_per_gather = 0;
SELECT riskguard.var_historical(r, 0.99) AS s_var, riskguard.es_historical(r, 0.99) AS s_es,
       riskguard.var_gaussian(r, 0.99) AS s_vg, riskguard.es_gaussian(r, 0.99) AS s_eg,
       riskguard.var_cornish_fisher(r, 0.99) AS s_cf, riskguard.hhi(abs(r)) AS s_hhi
  FROM market_par \gset
CREATE TEMP TABLE market_par_serial AS
  SELECT grp, riskguard.var_historical(r, 0.975) AS var, riskguard.es_historical(r, 0.975) AS es,
         riskguard.var_cornish_fisher(r, 0.975) AS cf
    FROM market_par GROUP BY grp;

-- forced parallel plans, the workers doing all the scanning
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF)
SELECT riskguard.var_historical(r, 0.99), riskguard.es_historical(r, 0.99),
       riskguard.var_gaussian(r, 0.99), riskguard.es_gaussian(r, 0.99),
       riskguard.var_cornish_fisher(r, 0.99), riskguard.hhi(abs(r))
  FROM market_par;

-- workers were really launched
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
  RETURN (SELECT max((m[1])::int)
            FROM regexp_matches(plan::text, '"Workers Launched": ([0-9]+)', 'g') m);
END
$$;
SELECT pg_temp.workers_launched(
  'SELECT riskguard.var_historical(r, 0.99), riskguard.var_cornish_fisher(r, 0.99) FROM market_par') > 0
  AS parallel_workers_ran;

SELECT abs(riskguard.var_historical(r, 0.99) - :s_var) <= 1e-12 * abs(:s_var) AS var_historical_equal,
       abs(riskguard.es_historical(r, 0.99) - :s_es) <= 1e-12 * abs(:s_es) AS es_historical_equal,
       abs(riskguard.var_gaussian(r, 0.99) - :s_vg) <= 1e-12 * abs(:s_vg) AS var_gaussian_equal,
       abs(riskguard.es_gaussian(r, 0.99) - :s_eg) <= 1e-12 * abs(:s_eg) AS es_gaussian_equal,
       abs(riskguard.var_cornish_fisher(r, 0.99) - :s_cf) <= 1e-12 * abs(:s_cf) AS var_cornish_fisher_equal,
       abs(riskguard.hhi(abs(r)) - :s_hhi) <= 1e-12 * abs(:s_hhi) AS hhi_equal
  FROM market_par;

-- grouped: partial aggregates per group in the workers, combined after the Gather,
-- and compared with the serial results (the temporary table is read by the leader)
EXPLAIN (COSTS OFF)
SELECT count(*) AS groups,
       bool_and(abs(p.var - s.var) <= 1e-12 * abs(s.var)) AS var_equal,
       bool_and(abs(p.es - s.es) <= 1e-12 * abs(s.es)) AS es_equal,
       bool_and(abs(p.cf - s.cf) <= 1e-12 * abs(s.cf)) AS cf_equal
  FROM (SELECT grp, riskguard.var_historical(r, 0.975) AS var, riskguard.es_historical(r, 0.975) AS es,
               riskguard.var_cornish_fisher(r, 0.975) AS cf
          FROM market_par GROUP BY grp) p
  JOIN market_par_serial s USING (grp);
SELECT count(*) AS groups,
       bool_and(abs(p.var - s.var) <= 1e-12 * abs(s.var)) AS var_equal,
       bool_and(abs(p.es - s.es) <= 1e-12 * abs(s.es)) AS es_equal,
       bool_and(abs(p.cf - s.cf) <= 1e-12 * abs(s.cf)) AS cf_equal
  FROM (SELECT grp, riskguard.var_historical(r, 0.975) AS var, riskguard.es_historical(r, 0.975) AS es,
               riskguard.var_cornish_fisher(r, 0.975) AS cf
          FROM market_par GROUP BY grp) p
  JOIN market_par_serial s USING (grp);

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE market_par;
