SELECT
  e."user_id" AS "entity_id",
  (
    reinterpretAsUInt64(
      REVERSE(
        UNHEX(SUBSTRING(LOWER(HEX(MD5('holdout_half:' || CAST(e."user_id" AS String)))), 1, 7))
      )
    )
  ) % 100 < 50 AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    e."signup_at" IS NULL OR e."signup_at" <= CAST(now64(6, 'UTC') AS DateTime64(6))
  )
  AND TRUE
