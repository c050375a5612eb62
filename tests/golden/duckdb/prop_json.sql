SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM (
  SELECT
    *,
    JSON_EXTRACT_STRING("traits", ['/address/city', '/size', '/newsletter']) AS "segsql_json_traits"
  FROM "main"."users" AS e
) AS e
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    e."segsql_json_traits"[1] = 'Berlin'
    AND TRY_CAST(e."segsql_json_traits"[2] AS DOUBLE) >= 50
    AND CASE
      WHEN e."segsql_json_traits"[3] = 'true'
      THEN TRUE
      WHEN e."segsql_json_traits"[3] = 'false'
      THEN FALSE
    END = TRUE
  )
