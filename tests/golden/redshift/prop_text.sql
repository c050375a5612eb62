SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    POSITION('%_' IN e."email") > 0
    OR LEFT(e."email", 4) = 'vip_'
    OR RIGHT(e."email", 8) = '@corp.io'
    OR e."email" ~ '^[0-9]+@'
  )
