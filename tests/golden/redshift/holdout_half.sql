SELECT
  _e."user_id" AS "entity_id",
  (
    STRTOL(
      SUBSTRING(MD5('holdout_half:' || CAST(_e."user_id" AS VARCHAR(65535))) FROM 1 FOR 7),
      16
    )
  ) % 100 < 50 AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND TRUE
