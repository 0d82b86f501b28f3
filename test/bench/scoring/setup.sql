-- The benchmark's loan applications: :rows rows, deterministic (fixed seed), 12 features.
DROP TABLE IF EXISTS applications;
SELECT setseed(0.2026);
CREATE TABLE applications AS
SELECT i AS id,
       round((800 + random() * 24000)::numeric, 2)      AS income,
       round((random() * 0.8)::numeric, 3)::float8      AS dti,
       (random() * 240)::int                            AS months_employed,
       (random() * random() * 6)::int                   AS delinquencies,
       (random() * 10)::int                             AS inquiries,
       (21 + random() * 50)::int                        AS age,
       (1000 + random() * 49000)::int                   AS loan_amount,
       round((random() * 1.2)::numeric, 2)::float8      AS utilization,
       (random() * 20)::int                             AS open_accounts,
       (random() * 30)::int                             AS months_at_address,
       (ARRAY['own', 'mortgage', 'rent', 'rent', 'family', 'other'])[1 + (random() * 5)::int] AS housing,
       (ARRAY['car', 'education', 'medical', 'debt_consolidation', 'home_improvement', 'wedding', 'other'])[1 + (random() * 6)::int] AS purpose
  FROM generate_series(1, :rows) i;
VACUUM ANALYZE applications;
