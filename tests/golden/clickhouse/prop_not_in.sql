SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    e."signup_at" IS NULL OR e."signup_at" <= CAST(now64(6, 'UTC') AS DateTime64(6))
  )
  AND NOT (
    e."plan" IN ('trial', 'free')
  )
