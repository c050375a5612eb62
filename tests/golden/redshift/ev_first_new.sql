SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
LEFT JOIN (
  SELECT
    ev."segsql_k" AS "segsql_k",
    MIN(ev."segsql_ts") AS "f1"
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
    ev."segsql_ts" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
  GROUP BY
    ev."segsql_k"
) AS s1
  ON s1."segsql_k" = e."user_id"
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND (
    s1."f1" >= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP) - INTERVAL '7 DAY'
    AND s1."f1" <= CAST(GETDATE() AT TIME ZONE 'UTC' AS TIMESTAMP)
  )
