SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT
    ev."user_id" AS "segsql_k",
    COUNT(*) AS "f1"
  FROM "MAIN"."EMAIL_EVENTS" AS ev
  WHERE
    ev."ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    AND ev."event_name" IN ('email_opened')
  GROUP BY
    ev."user_id"
) AS s1
  ON s1."segsql_k" = e."user_id"
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND (
    COALESCE(s1."f1", 0) >= 1
  )
