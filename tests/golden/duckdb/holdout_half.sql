SELECT
  e."user_id" AS "entity_id",
  (
    CAST('0x' || SUBSTRING(MD5('holdout_half:' || CAST(e."user_id" AS TEXT)), 1, 7) AS BIGINT)
  ) % 100 < 50 AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND TRUE
