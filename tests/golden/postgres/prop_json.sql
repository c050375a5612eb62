SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    _e."traits" #>> '{"address","city"}' = 'Berlin'
    AND CASE
      WHEN _e."traits" #>> '{"size"}' ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      THEN CAST(_e."traits" #>> '{"size"}' AS DOUBLE PRECISION)
    END >= 50
    AND CASE
      WHEN (
        _e."traits" #>> '{"newsletter"}'
      ) = 'true'
      THEN TRUE
      WHEN (
        _e."traits" #>> '{"newsletter"}'
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
