SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT DISTINCT
    c."segsql_k"
  FROM (
    SELECT
      x."segsql_k" AS "segsql_k",
      x."ts" AS "t1",
      x."ts" AS "t"
    FROM (
      SELECT
        x."segsql_k" AS "segsql_k",
        MAX(x."ts") AS "ts"
      FROM (
        SELECT
          ev."segsql_k" AS "segsql_k",
          ev."segsql_ts" AS "ts"
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
          AND ev."segsql_ts" >= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '24 HOUR'
      ) AS x
      GROUP BY
        x."segsql_k"
    ) AS x
  ) AS c
  LEFT JOIN (
    SELECT
      x."segsql_k",
      MAX(x."ts") AS "t"
    FROM (
      SELECT
        ev."segsql_k" AS "segsql_k",
        ev."segsql_ts" AS "ts"
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
        AND ev."segsql_event" IN ('checkout_completed')
        AND ev."segsql_ts" > CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '24 HOUR'
    ) AS x
    GROUP BY
      x."segsql_k"
  ) AS z
    ON z."segsql_k" = c."segsql_k"
  WHERE
    z."t" IS NULL OR z."t" <= c."t"
) AS q1
  ON q1."segsql_k" = e."user_id"
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND NOT q1."segsql_k" IS NULL
