SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT (
      _e."user_id" IS NULL
    )
    AND (
      _e."signup_at" IS NULL OR _e."signup_at" <= now64(6, 'UTC')
    )
  )
  AND (
    JSONExtract(_e."traits", 'address', 'city', 'Nullable(String)') = 'Berlin'
    AND CASE
      WHEN match(
        JSONExtract(_e."traits", 'size', 'Nullable(String)'),
        '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      )
      THEN toFloat64OrNull(JSONExtract(_e."traits", 'size', 'Nullable(String)'))
    END >= 50
    AND CASE
      WHEN JSONExtract(_e."traits", 'newsletter', 'Nullable(String)') = 'true'
      THEN TRUE
      WHEN JSONExtract(_e."traits", 'newsletter', 'Nullable(String)') = 'false'
      THEN FALSE
    END = TRUE
  )
