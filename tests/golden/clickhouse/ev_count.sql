SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
LEFT JOIN (
  SELECT
    ev."segsql_k" AS "segsql_k",
    COUNT(*) AS "f1"
  FROM (
    SELECT
      "user_id" AS "segsql_k",
      "event_name" AS "segsql_event",
      "ts" AS "segsql_ts"
    FROM "main"."events"
    UNION ALL
    SELECT
      "user_id" AS "segsql_k",
      "event_name" AS "segsql_event",
      "ts" AS "segsql_ts"
    FROM "main"."email_events"
  ) AS ev
  WHERE
    ev."segsql_ts" <= now64(6, 'UTC')
    AND ev."segsql_event" IN ('add_to_cart')
    AND ev."segsql_ts" >= now64(6, 'UTC') - INTERVAL '7' DAY
  GROUP BY
    ev."segsql_k"
) AS _s1
  ON _s1."segsql_k" = _e."user_id"
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
    COALESCE(_s1."f1", 0) >= 2
  )
SETTINGS join_use_nulls = 1
