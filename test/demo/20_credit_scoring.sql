-- Act 20: credit scoring on the write path.  The risk team publishes a scorecard; every
-- loan application inserted is scored in the same transaction, with grade, PD,
-- decision and the reasons an applicant lost points.
\pset footer off
\echo
\echo '== Act 20: scoring loan applications as they are inserted'

CREATE TABLE applications (
  id               int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  applicant        text NOT NULL,
  annual_income    numeric(12,2),
  dti              numeric(5,3),
  months_employed  int,
  delinquencies_2y int,
  inquiries_6m     int,
  housing          text,
  purpose          text,
  amount           bigint NOT NULL,          -- minor units (cents)
  credit_score     int,
  credit_pd        float8,
  credit_grade     text,
  credit_decision  text,
  credit_reasons   text[]
);

\echo 'The risk team publishes retail scorecard version 1 (7 features, woe bins with coefficients):'
SELECT riskguard.create_model('retail_scorecard', $${
  "kind": "scorecard",
  "description": "unsecured consumer loans up to 50,000",
  "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
  "intercept": -2.35,
  "features": [
    {"name": "annual_income", "type": "numeric", "coefficient": -0.78, "reason": "INCOME_LOW",
     "bins": [{"upper": 25000, "woe": -0.66}, {"upper": 45000, "woe": -0.14},
              {"upper": 80000, "woe": 0.29}, {"woe": 0.71}],
     "missing": {"woe": -0.5}},
    {"name": "dti", "type": "numeric", "coefficient": -0.91, "reason": "DEBT_TO_INCOME_HIGH",
     "bins": [{"upper": 0.2, "woe": 0.58}, {"upper": 0.36, "woe": 0.16},
              {"upper": 0.45, "woe": -0.39}, {"woe": -0.94}],
     "missing": {"woe": -0.3}},
    {"name": "months_employed", "type": "numeric", "coefficient": -0.64, "reason": "SHORT_EMPLOYMENT",
     "bins": [{"upper": 6, "woe": -0.72}, {"upper": 24, "woe": -0.21},
              {"upper": 60, "woe": 0.18}, {"woe": 0.47}],
     "missing": {"woe": -0.4}},
    {"name": "delinquencies_2y", "type": "numeric", "coefficient": -1.02, "reason": "RECENT_DELINQUENCY",
     "bins": [{"upper": 1, "woe": 0.36}, {"upper": 3, "woe": -0.74}, {"woe": -1.46}],
     "missing": {"woe": -0.2}},
    {"name": "inquiries_6m", "type": "numeric", "coefficient": -0.55, "reason": "MANY_CREDIT_INQUIRIES",
     "bins": [{"upper": 2, "woe": 0.24}, {"upper": 5, "woe": -0.19}, {"woe": -0.83}],
     "missing": {"woe": 0}},
    {"name": "housing", "type": "categorical", "coefficient": -0.6, "reason": "HOUSING_STATUS",
     "bins": [{"values": ["own", "mortgage"], "woe": 0.3}, {"values": ["rent"], "woe": -0.17},
              {"values": ["family", "other"], "woe": -0.35}],
     "missing": {"woe": -0.35}},
    {"name": "purpose", "type": "categorical", "coefficient": -0.5, "reason": "LOAN_PURPOSE",
     "bins": [{"values": ["education", "home_improvement"], "woe": 0.27},
              {"values": ["car", "medical"], "woe": 0.05},
              {"values": ["debt_consolidation"], "woe": -0.12},
              {"values": ["wedding", "vacation", "other"], "woe": -0.41}],
     "missing": {"woe": -0.41}}
  ],
  "grades": {"by": "score", "bands": [{"grade": "A", "min_score": 610}, {"grade": "B", "min_score": 580},
                                       {"grade": "C", "min_score": 555}, {"grade": "D", "min_score": 530},
                                       {"grade": "E"}]},
  "decisions": [{"decision": "approve", "max_pd": 0.05}, {"decision": "review", "max_pd": 0.12},
                {"decision": "decline"}]
}$$) AS version;

\echo 'Scoring is attached to the applications table (a C trigger, no application code):'
SELECT riskguard.attach_scoring('applications', 'retail_scorecard');

INSERT INTO applications (applicant, annual_income, dti, months_employed, delinquencies_2y,
                          inquiries_6m, housing, purpose, amount) VALUES
  ('Li Wei',          96000, 0.14, 84, 0, 1, 'mortgage', 'home_improvement', 1500000),
  ('Maria Gonzalez',  58000, 0.27, 40, 0, 2, 'rent',     'car',              1200000),
  ('Chen Jing',       41000, 0.38, 18, 1, 3, 'rent',     'debt_consolidation', 900000),
  ('James O''Brien',  23000, 0.52,  4, 3, 7, 'family',   'vacation',         500000),
  ('Aisha Khan',     132000, 0.22, 120, 0, 0, 'own',     'education',        3000000),
  ('Tomasz Nowak',    67000, 0.44, 30, 2, 4, 'rent',     'wedding',          1800000),
  ('Priya Raman',     NULL,  0.18, NULL, 0, 1, 'rent',   'medical',           400000),
  ('Kwame Mensah',    47000, 0.31,  9, 0, 5, 'other',    'car',               800000);

\echo 'Incoming applications, scored as they were inserted:'
SELECT id, applicant, annual_income AS income, dti, credit_score AS score,
       round(credit_pd::numeric, 4) AS pd, credit_grade AS grade, credit_decision AS decision,
       array_to_string(credit_reasons, ', ') AS reasons
  FROM applications ORDER BY id;

\echo 'Chen Jing pays off a card: the row is scored again on update.'
UPDATE applications SET dti = 0.19, delinquencies_2y = 0 WHERE applicant = 'Chen Jing';
SELECT applicant, credit_score AS score, round(credit_pd::numeric, 4) AS pd, credit_grade AS grade,
       credit_decision AS decision, array_to_string(credit_reasons, ', ') AS reasons
  FROM applications WHERE applicant = 'Chen Jing';

\echo 'Any application can be scored ad hoc from JSON (missing values fall in the missing bin):'
SELECT (s).model, (s).version, (s).score, round((s).pd::numeric, 4) AS pd, (s).grade, (s).decision,
       array_to_string((s).reasons, ', ') AS reasons
  FROM (SELECT riskguard.score('retail_scorecard',
                 '{"annual_income": 52000, "dti": 0.29, "housing": "rent", "purpose": "car"}') AS s) x;

\echo 'Rows already in a table are scored directly, no JSON (here: the stored scores, rescored):'
SELECT a.applicant, a.credit_score AS stored, s.score AS rescored, s.grade, s.decision
  FROM applications a, riskguard.score_row('retail_scorecard', a) s ORDER BY a.id;

\echo 'The portfolio by grade:'
SELECT credit_grade AS grade, count(*) AS applications, round(avg(credit_pd)::numeric, 4) AS avg_pd,
       to_char(sum(amount) / 100.0, 'FM999,999,990.00') AS requested
  FROM applications GROUP BY credit_grade ORDER BY credit_grade;
