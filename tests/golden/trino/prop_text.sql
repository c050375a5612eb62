SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND (
    STRPOS(e."email", '%_') > 0
    OR STARTS_WITH(e."email", 'vip_')
    OR ENDS_WITH(e."email", '@corp.io')
    OR REGEXP_LIKE(e."email", '^[0-9]+@')
  )
