SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
WHERE
  (
    e."signup_at" IS NULL OR e."signup_at" <= CAST(now64(6, 'UTC') AS DateTime64(6))
  )
  AND (
    JSONExtractString(e."traits", 'address', 'city') = 'Berlin'
    AND CASE
      WHEN match(
        JSONExtractString(e."traits", 'size'),
        '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      )
      THEN CAST(JSONExtractString(e."traits", 'size') AS Float64)
    END >= 50
    AND CASE
      WHEN (
        JSONExtractString(e."traits", 'newsletter')
      ) = 'true'
      THEN TRUE
      WHEN (
        JSONExtractString(e."traits", 'newsletter')
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
