SELECT
  _e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS _e
WHERE
  (
    NOT _e."USER_ID" IS NULL
    AND (
      _e."SIGNUP_AT" IS NULL
      OR _e."SIGNUP_AT" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND (
    (
      _e."PLAN" = 'trial' OR _e."PLAN" = 'free'
    )
    AND NOT COALESCE((
      _e."SCORE" < 0 OR NOT COALESCE(NOT _e."EMAIL" IS NULL, FALSE)
    ), FALSE)
  )
