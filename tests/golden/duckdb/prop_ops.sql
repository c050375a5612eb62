SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    (
      _e."score" > 10 AND _e."score" <= 20
    )
    OR _e."score" BETWEEN 100 AND 101
    OR _e."plan" IN ('gold', 'x''); DROP TABLE users; --')
  )
