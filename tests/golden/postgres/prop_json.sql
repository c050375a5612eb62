SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    e."traits" #>> '{"address","city"}' = 'Berlin'
    AND CASE
      WHEN e."traits" #>> '{"size"}' ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      THEN CAST(e."traits" #>> '{"size"}' AS DOUBLE PRECISION)
    END >= 50
    AND CASE
      WHEN (
        e."traits" #>> '{"newsletter"}'
      ) = 'true'
      THEN TRUE
      WHEN (
        e."traits" #>> '{"newsletter"}'
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
