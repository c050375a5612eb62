SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT
    e."account_id" AS "segsql_k"
  FROM "MAIN"."ACCOUNTS" AS e
  WHERE
    NOT e."account_id" IS NULL
) AS p1
  ON p1."segsql_k" = e."account_id"
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND NOT p1."segsql_k" IS NULL
