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
    (
      e."traits" ->> '$.address.city'
    ) = 'Berlin'
    AND TRY_CAST(e."traits" ->> '$.size' AS DOUBLE) >= 50
    AND CASE
      WHEN (
        e."traits" ->> '$.newsletter'
      ) = 'true'
      THEN TRUE
      WHEN (
        e."traits" ->> '$.newsletter'
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
