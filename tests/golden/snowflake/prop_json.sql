SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND (
    JSON_EXTRACT_PATH_TEXT(e."traits", 'address.city') = 'Berlin'
    AND CASE
      WHEN REGEXP_INSTR(
        JSON_EXTRACT_PATH_TEXT(e."traits", 'size'),
        '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      ) > 0
      THEN CAST(JSON_EXTRACT_PATH_TEXT(e."traits", 'size') AS DOUBLE)
    END >= 50
    AND CASE
      WHEN (
        JSON_EXTRACT_PATH_TEXT(e."traits", 'newsletter')
      ) = 'true'
      THEN TRUE
      WHEN (
        JSON_EXTRACT_PATH_TEXT(e."traits", 'newsletter')
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
