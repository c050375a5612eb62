SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    (
      _e."last_seen_at" >= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP) - INTERVAL '2 DAY'
      AND _e."last_seen_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
    OR _e."last_seen_at" < CAST('2020-01-01 00:00:00' AS TIMESTAMP)
  )
