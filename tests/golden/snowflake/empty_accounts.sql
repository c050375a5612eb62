SELECT
  e."account_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."ACCOUNTS" AS e
LEFT JOIN (
  SELECT
    c."parent" AS "segsql_k",
    COUNT(1) AS "n"
  FROM (
    SELECT
      e."user_id" AS "entity_id",
      e."account_id" AS "parent"
    FROM "MAIN"."USERS" AS e
    WHERE
      NOT e."user_id" IS NULL
      AND (
        e."signup_at" IS NULL
        OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
      )
  ) AS c
  WHERE
    NOT c."parent" IS NULL
  GROUP BY
    c."parent"
) AS m1
  ON m1."segsql_k" = e."account_id"
WHERE
  NOT e."account_id" IS NULL AND (
    COALESCE(m1."n", 0) = 0
  )
