SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    JSON_EXTRACT_PATH_TEXT(e."traits", 'address', 'city') = 'Berlin'
    AND CASE
      WHEN JSON_EXTRACT_PATH_TEXT(e."traits", 'size') ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      THEN CAST(JSON_EXTRACT_PATH_TEXT(e."traits", 'size') AS DOUBLE PRECISION)
    END >= 50
    AND CASE
      WHEN JSON_EXTRACT_PATH_TEXT(e."traits", 'newsletter') = 'true'
      THEN TRUE
      WHEN JSON_EXTRACT_PATH_TEXT(e."traits", 'newsletter') = 'false'
      THEN FALSE
    END = TRUE
  )
