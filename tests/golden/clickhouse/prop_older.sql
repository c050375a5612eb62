SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    e."signup_at" IS NULL OR e."signup_at" <= CAST(now64(6, 'UTC') AS DateTime64(6))
  )
  AND e."last_seen_at" < (
    CAST(now64(6, 'UTC') AS DateTime64(6)) - INTERVAL '30' DAY
  )
