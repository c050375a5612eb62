SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT
    ev."segsql_k" AS "segsql_k",
    COUNT(*) AS "f1"
  FROM (
    SELECT
      "user_id" AS "segsql_k",
      "event_name" AS "segsql_event",
      "ts" AS "segsql_ts"
    FROM "MAIN"."EVENTS"
    UNION ALL
    SELECT
      "user_id" AS "segsql_k",
      "event_name" AS "segsql_event",
      "ts" AS "segsql_ts"
    FROM "MAIN"."EMAIL_EVENTS"
  ) AS ev
  WHERE
    ev."segsql_ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    AND ev."segsql_event" IN ('add_to_cart')
    AND ev."segsql_ts" >= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '7 DAY'
  GROUP BY
    ev."segsql_k"
) AS s1
  ON s1."segsql_k" = e."user_id"
LEFT JOIN (
  SELECT
    ev."segsql_k" AS "segsql_k",
    COUNT(*) AS "f1"
  FROM (
    SELECT
      "user_id" AS "segsql_k",
      "event_name" AS "segsql_event",
      "ts" AS "segsql_ts"
    FROM "MAIN"."EVENTS"
    UNION ALL
    SELECT
      "user_id" AS "segsql_k",
      "event_name" AS "segsql_event",
      "ts" AS "segsql_ts"
    FROM "MAIN"."EMAIL_EVENTS"
  ) AS ev
  WHERE
    ev."segsql_ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    AND ev."segsql_event" IN ('login')
    AND ev."segsql_ts" >= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '14 DAY'
  GROUP BY
    ev."segsql_k"
) AS s2
  ON s2."segsql_k" = e."user_id"
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND (
    (
      COALESCE(s1."f1", 0) >= 2
    )
    AND NOT COALESCE(NOT COALESCE((
      COALESCE(s2."f1", 0) >= 1
    ), FALSE), FALSE)
  )
