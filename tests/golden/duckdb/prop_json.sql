SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    e."signup_at" IS NULL
    OR e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
  )
  AND (
    JSON_EXTRACT_STRING(e."traits", '/address/city') = 'Berlin'
    AND TRY_CAST(JSON_EXTRACT_STRING(e."traits", '/size') AS DOUBLE) >= 50
    AND CASE
      WHEN JSON_EXTRACT_STRING(e."traits", '/newsletter') = 'true'
      THEN TRUE
      WHEN JSON_EXTRACT_STRING(e."traits", '/newsletter') = 'false'
      THEN FALSE
    END = TRUE
  )
