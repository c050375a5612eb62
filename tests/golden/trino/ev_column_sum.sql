SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
LEFT JOIN (
  SELECT
    ev."user_id" AS "segsql_k",
    SUM(ev."revenue") AS "f1"
  FROM "main"."events" AS ev
  WHERE
    ev."ts" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    AND ev."event_name" IN ('order_completed')
  GROUP BY
    ev."user_id"
) AS _s1
  ON _s1."segsql_k" = _e."user_id"
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND (
    COALESCE(_s1."f1", 0) >= 100
  )
