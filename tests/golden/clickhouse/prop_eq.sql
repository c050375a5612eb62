SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT (
      e."user_id" IS NULL
    )
    AND (
      e."signup_at" IS NULL OR e."signup_at" <= now64(6, 'UTC')
    )
  )
  AND e."plan" = 'trial'
