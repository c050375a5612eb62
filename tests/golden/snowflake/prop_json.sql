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
    JSON_EXTRACT_PATH_TEXT(_e."TRAITS", 'address.city') = 'Berlin'
    AND CASE
      WHEN REGEXP_INSTR(
        JSON_EXTRACT_PATH_TEXT(_e."TRAITS", 'size'),
        '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      ) > 0
      THEN CAST(JSON_EXTRACT_PATH_TEXT(_e."TRAITS", 'size') AS DOUBLE)
    END >= 50
    AND CASE
      WHEN (
        JSON_EXTRACT_PATH_TEXT(_e."TRAITS", 'newsletter')
      ) = 'true'
      THEN TRUE
      WHEN (
        JSON_EXTRACT_PATH_TEXT(_e."TRAITS", 'newsletter')
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
