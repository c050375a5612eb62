SELECT
  e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS e
WHERE
  (
    NOT e."USER_ID" IS NULL
    AND (
      e."SIGNUP_AT" IS NULL
      OR e."SIGNUP_AT" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND (
    (
      e."SCORE" > 10 AND e."SCORE" <= 20
    )
    OR e."SCORE" BETWEEN 100 AND 101
    OR e."PLAN" IN ('gold', 'x\'); DROP TABLE users; --')
  )
