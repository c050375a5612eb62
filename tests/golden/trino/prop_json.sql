SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND (
    JSON_EXTRACT_SCALAR(e."traits", '$.address.city') = 'Berlin'
    AND TRY_CAST(JSON_EXTRACT_SCALAR(e."traits", '$.size') AS DOUBLE) >= 50
    AND CASE
      WHEN (
        JSON_EXTRACT_SCALAR(e."traits", '$.newsletter')
      ) = 'true'
      THEN TRUE
      WHEN (
        JSON_EXTRACT_SCALAR(e."traits", '$.newsletter')
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
