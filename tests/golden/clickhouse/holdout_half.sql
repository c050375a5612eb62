SELECT
  _e."user_id" AS "entity_id",
  (
    reinterpretAsUInt64(
      REVERSE(
        UNHEX(
          CONCAT(
            '0',
            SUBSTRING(LOWER(HEX(MD5('holdout_half:' || CAST(_e."user_id" AS Nullable(String))))), 1, 7)
          )
        )
      )
    )
  ) % 100 < 50 AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT (
      _e."user_id" IS NULL
    )
    AND (
      _e."signup_at" IS NULL OR _e."signup_at" <= now64(6, 'UTC')
    )
  )
  AND TRUE
