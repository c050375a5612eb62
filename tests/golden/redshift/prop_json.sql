SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    JSON_EXTRACT_PATH_TEXT(_e."traits", 'address', 'city') = 'Berlin'
    AND CASE
      WHEN JSON_EXTRACT_PATH_TEXT(_e."traits", 'size') ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      THEN CAST(JSON_EXTRACT_PATH_TEXT(_e."traits", 'size') AS DOUBLE PRECISION)
    END >= 50
    AND CASE
      WHEN JSON_EXTRACT_PATH_TEXT(_e."traits", 'newsletter') = 'true'
      THEN TRUE
      WHEN JSON_EXTRACT_PATH_TEXT(_e."traits", 'newsletter') = 'false'
      THEN FALSE
    END = TRUE
  )
