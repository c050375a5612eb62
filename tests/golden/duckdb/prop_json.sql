SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM (
  SELECT
    *,
    JSON_EXTRACT_STRING("traits", ['/address/city', '/size', '/newsletter']) AS "segsql_json_traits"
  FROM "main"."users" AS _e
) AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    _e."segsql_json_traits"[1] = 'Berlin'
    AND TRY_CAST(_e."segsql_json_traits"[2] AS DOUBLE) >= 50
    AND CASE
      WHEN _e."segsql_json_traits"[3] = 'true'
      THEN TRUE
      WHEN _e."segsql_json_traits"[3] = 'false'
      THEN FALSE
    END = TRUE
  )
