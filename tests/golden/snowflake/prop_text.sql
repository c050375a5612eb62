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
    CHARINDEX('%_', _e."EMAIL") > 0
    OR STARTSWITH(_e."EMAIL", 'vip_')
    OR ENDSWITH(_e."EMAIL", '@corp.io')
    OR REGEXP_INSTR(_e."EMAIL", '^[0-9]+@') > 0
  )
