-- :rows deterministic customer rows, the columns of crypto/schema.sql but the blind index
SELECT g AS id,
       (ARRAY['Li','Wang','Zhang','Liu','Chen','Yang','Zhao','Huang'])[1 + g % 8] || ' ' ||
       (ARRAY['Wei','Fang','Min','Jie','Lei','Yan','Jing','Tao','Hua'])[1 + g % 9] AS name,
       lpad(((g * 7919) % 1000000)::text, 6, '0') || to_char(date '1950-01-01' + (g * 37 % 20000)::integer, 'YYYYMMDD')
         || lpad((g % 10000)::text, 4, '0') AS national_id,
       '1' || (30 + g % 60)::text || lpad(((g * 104729) % 100000000)::text, 8, '0') AS phone,
       'customer' || g || '@example.com' AS email,
       date '1950-01-01' + (g * 37 % 20000)::integer AS birth_date,
       (ARRAY['Shanghai','Beijing','Shenzhen','Hangzhou','Chengdu'])[1 + g % 5] AS city,
       (1 + g % 999) || ' ' || (ARRAY['Nanjing Road','Huaihai Road','Renmin Road','Jiefang Avenue'])[1 + g % 4]
         || ', Apt ' || (1 + g % 40) AS address,
       (g % 200 + 1) * 100000 AS credit_limit,
       'CNY' AS currency,
       (ARRAY['active','active','active','dormant','closed'])[1 + g % 5] AS status,
       date '2015-01-01' + (g % 3000)::integer AS opened
  FROM generate_series(1::bigint, :rows) g
