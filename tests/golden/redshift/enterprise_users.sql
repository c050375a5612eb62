SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
LEFT JOIN (
  SELECT
    _e."account_id" AS "segsql_k"
  FROM "main"."accounts" AS _e
  WHERE
    NOT _e."account_id" IS NULL AND _e."tier" = 'enterprise'
) AS _p1
  ON _p1."segsql_k" = _e."account_id"
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND NOT _p1."segsql_k" IS NULL
