SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    NOT (
      e."user_id" IS NULL
    )
    AND (
      e."signup_at" IS NULL OR e."signup_at" <= now64(6, 'UTC')
    )
  )
  AND (
    JSONExtract(e."traits", 'address', 'city', 'Nullable(String)') = 'Berlin'
    AND CASE
      WHEN match(
        JSONExtract(e."traits", 'size', 'Nullable(String)'),
        '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      )
      THEN toFloat64OrNull(JSONExtract(e."traits", 'size', 'Nullable(String)'))
    END >= 50
    AND CASE
      WHEN JSONExtract(e."traits", 'newsletter', 'Nullable(String)') = 'true'
      THEN TRUE
      WHEN JSONExtract(e."traits", 'newsletter', 'Nullable(String)') = 'false'
      THEN FALSE
    END = TRUE
  )
