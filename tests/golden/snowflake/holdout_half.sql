SELECT
  e."user_id" AS "entity_id",
  (
    TO_NUMBER(SUBSTRING(MD5('holdout_half:' || CAST(e."user_id" AS VARCHAR)), 1, 7), 'XXXXXXX')
  ) % 100 < 50 AS "holdout"
FROM "MAIN"."USERS" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND TRUE
