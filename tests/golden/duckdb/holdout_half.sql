SELECT
  _e."user_id" AS "entity_id",
  (
    CAST('0x' || SUBSTRING(MD5('holdout_half:' || CAST(_e."user_id" AS TEXT)), 1, 7) AS BIGINT)
  ) % 100 < 50 AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND TRUE
