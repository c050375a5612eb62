SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT
    e."account_id" AS "segsql_k"
  FROM "MAIN"."ACCOUNTS" AS e
  LEFT JOIN (
    SELECT
      ev."account_id" AS "segsql_k",
      COUNT(*) AS "f1"
    FROM "MAIN"."ACCOUNT_EVENTS" AS ev
    WHERE
      ev."ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
      AND ev."event_name" IN ('invoice_paid')
      AND ev."ts" >= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '30 DAY'
    GROUP BY
      ev."account_id"
  ) AS s1
    ON s1."segsql_k" = e."account_id"
  WHERE
    NOT e."account_id" IS NULL AND (
      COALESCE(s1."f1", 0) >= 1
    )
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
