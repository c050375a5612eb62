SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND e."plan" = 'trial'
