SELECT
  e."user_id" AS "entity_id",
  (
    reinterpretAsUInt64(
      REVERSE(
        UNHEX(
          CONCAT(
            '0',
            SUBSTRING(LOWER(HEX(MD5('holdout_half:' || CAST(e."user_id" AS Nullable(String))))), 1, 7)
          )
        )
      )
    )
  ) % 100 < 50 AS "holdout"
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
  AND TRUE
