-- The benchmark's scorecard written by hand in PL/pgSQL: the same 12 features, bins,
-- points, scaling, grades, decisions and reason codes as model.sql, for comparison.
CREATE OR REPLACE FUNCTION bench_points(v numeric, uppers numeric[], points int[], missing int)
RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF v IS NULL THEN RETURN missing; END IF;
  FOR i IN 1 .. array_length(uppers, 1) LOOP
    IF v < uppers[i] THEN RETURN points[i]; END IF;
  END LOOP;
  RETURN points[array_length(points, 1)];
END $$;

CREATE OR REPLACE FUNCTION bench_num(f jsonb, k text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF jsonb_typeof(f -> k) = 'number' THEN RETURN (f ->> k)::numeric; END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION bench_score_plpgsql(f jsonb) RETURNS riskguard.credit_score
LANGUAGE plpgsql STABLE AS $$
DECLARE
  p int[] := ARRAY[]::int[];
  best int[] := ARRAY[66, 64, 60, 66, 58, 55, 55, 62, 54, 56, 58, 56];
  codes text[] := ARRAY['INCOME_LOW', 'DEBT_HIGH', 'SHORT_EMPLOYMENT', 'DELINQUENT', 'MANY_INQUIRIES',
                        'AGE', 'LOAN_LARGE', 'UTILIZATION_HIGH', 'ACCOUNTS', 'ADDRESS_NEW', 'HOUSING', 'PURPOSE'];
  total int;
  factor float8 := 20 / ln(2);
  offs float8 := 600 - 20 / ln(2) * ln(50);
  r riskguard.credit_score;
BEGIN
  p := p || bench_points(bench_num(f, 'income'), '{2500,5000,9000,15000}', '{28,41,52,60,66}', 30);
  p := p || bench_points(bench_num(f, 'dti'), '{0.2,0.35,0.5}', '{64,55,43,25}', 40);
  p := p || bench_points(bench_num(f, 'months_employed'), '{6,24,60}', '{30,44,53,60}', 35);
  p := p || bench_points(bench_num(f, 'delinquencies'), '{1,3}', '{66,38,12}', 45);
  p := p || bench_points(bench_num(f, 'inquiries'), '{1,3,6}', '{58,50,41,30}', 45);
  p := p || bench_points(bench_num(f, 'age'), '{25,35,50}', '{38,46,52,55}', 45);
  p := p || bench_points(bench_num(f, 'loan_amount'), '{5000,20000,35000}', '{55,50,44,38}', 45);
  p := p || bench_points(bench_num(f, 'utilization'), '{0.3,0.6,0.9}', '{62,52,40,27}', 42);
  p := p || bench_points(bench_num(f, 'open_accounts'), '{2,8,14}', '{42,54,49,40}', 45);
  p := p || bench_points(bench_num(f, 'months_at_address'), '{12,36}', '{44,50,56}', 45);
  p := p || CASE WHEN jsonb_typeof(f -> 'housing') <> 'string' THEN 41
                 WHEN f ->> 'housing' IN ('own', 'mortgage') THEN 58
                 WHEN f ->> 'housing' = 'rent' THEN 46 ELSE 41 END;
  p := p || CASE WHEN jsonb_typeof(f -> 'purpose') <> 'string' THEN 40
                 WHEN f ->> 'purpose' IN ('education', 'home_improvement') THEN 56
                 WHEN f ->> 'purpose' IN ('car', 'medical') THEN 50
                 WHEN f ->> 'purpose' = 'debt_consolidation' THEN 45
                 WHEN f ->> 'purpose' IN ('wedding', 'other') THEN 39 ELSE 40 END;
  SELECT sum(x) INTO total FROM unnest(p) x;
  r.model := 'm';
  r.version := 1;
  r.score := total;
  r.pd := 1 / (1 + exp((total - offs) / factor));
  r.grade := CASE WHEN total >= 640 THEN 'A' WHEN total >= 610 THEN 'B' WHEN total >= 580 THEN 'C'
                  WHEN total >= 550 THEN 'D' ELSE 'E' END;
  r.decision := CASE WHEN r.pd <= 0.03 THEN 'approve' WHEN r.pd <= 0.08 THEN 'review' ELSE 'decline' END;
  SELECT coalesce(array_agg(code ORDER BY loss DESC, i), '{}') INTO r.reasons
    FROM (SELECT i, codes[i] AS code, best[i] - p[i] AS loss FROM generate_subscripts(p, 1) i
           WHERE best[i] - p[i] > 0 ORDER BY best[i] - p[i] DESC, i LIMIT 4) l;
  RETURN r;
END $$;

-- The same scorecard taking the row itself (as riskguard.score_row does): the same bins,
-- points and results, the features read from the columns instead of from JSON.
CREATE OR REPLACE FUNCTION bench_score_plpgsql_row(a applications) RETURNS riskguard.credit_score
LANGUAGE plpgsql STABLE AS $$
DECLARE
  p int[] := ARRAY[]::int[];
  best int[] := ARRAY[66, 64, 60, 66, 58, 55, 55, 62, 54, 56, 58, 56];
  codes text[] := ARRAY['INCOME_LOW', 'DEBT_HIGH', 'SHORT_EMPLOYMENT', 'DELINQUENT', 'MANY_INQUIRIES',
                        'AGE', 'LOAN_LARGE', 'UTILIZATION_HIGH', 'ACCOUNTS', 'ADDRESS_NEW', 'HOUSING', 'PURPOSE'];
  total int;
  factor float8 := 20 / ln(2);
  offs float8 := 600 - 20 / ln(2) * ln(50);
  r riskguard.credit_score;
BEGIN
  p := p || bench_points(a.income, '{2500,5000,9000,15000}', '{28,41,52,60,66}', 30);
  p := p || bench_points(a.dti::numeric, '{0.2,0.35,0.5}', '{64,55,43,25}', 40);
  p := p || bench_points(a.months_employed, '{6,24,60}', '{30,44,53,60}', 35);
  p := p || bench_points(a.delinquencies, '{1,3}', '{66,38,12}', 45);
  p := p || bench_points(a.inquiries, '{1,3,6}', '{58,50,41,30}', 45);
  p := p || bench_points(a.age, '{25,35,50}', '{38,46,52,55}', 45);
  p := p || bench_points(a.loan_amount, '{5000,20000,35000}', '{55,50,44,38}', 45);
  p := p || bench_points(a.utilization::numeric, '{0.3,0.6,0.9}', '{62,52,40,27}', 42);
  p := p || bench_points(a.open_accounts, '{2,8,14}', '{42,54,49,40}', 45);
  p := p || bench_points(a.months_at_address, '{12,36}', '{44,50,56}', 45);
  p := p || CASE WHEN a.housing IN ('own', 'mortgage') THEN 58
                 WHEN a.housing = 'rent' THEN 46 ELSE 41 END;
  p := p || CASE WHEN a.purpose IN ('education', 'home_improvement') THEN 56
                 WHEN a.purpose IN ('car', 'medical') THEN 50
                 WHEN a.purpose = 'debt_consolidation' THEN 45
                 WHEN a.purpose IN ('wedding', 'other') THEN 39 ELSE 40 END;
  SELECT sum(x) INTO total FROM unnest(p) x;
  r.model := 'm';
  r.version := 1;
  r.score := total;
  r.pd := 1 / (1 + exp((total - offs) / factor));
  r.grade := CASE WHEN total >= 640 THEN 'A' WHEN total >= 610 THEN 'B' WHEN total >= 580 THEN 'C'
                  WHEN total >= 550 THEN 'D' ELSE 'E' END;
  r.decision := CASE WHEN r.pd <= 0.03 THEN 'approve' WHEN r.pd <= 0.08 THEN 'review' ELSE 'decline' END;
  SELECT coalesce(array_agg(code ORDER BY loss DESC, i), '{}') INTO r.reasons
    FROM (SELECT i, codes[i] AS code, best[i] - p[i] AS loss FROM generate_subscripts(p, 1) i
           WHERE best[i] - p[i] > 0 ORDER BY best[i] - p[i] DESC, i LIMIT 4) l;
  RETURN r;
END $$;
