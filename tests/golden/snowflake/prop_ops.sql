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
      _e."SCORE" > 10 AND _e."SCORE" <= 20
    )
    OR _e."SCORE" BETWEEN 100 AND 101
    OR _e."PLAN" IN ('gold', 'x\'); DROP TABLE users; --')
  )
