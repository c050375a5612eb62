SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
LEFT JOIN (
  SELECT DISTINCT
    c."segsql_k"
  FROM (
    SELECT
      w."segsql_k",
      MAX(w."t1") AS "t1",
      w."nxt" AS "t"
    FROM (
      SELECT
        u."segsql_k",
        u."t1",
        u."src",
        MIN(CASE WHEN u."src" = 1 THEN u."ts" END) OVER (
          PARTITION BY u."segsql_k"
          ORDER BY u."ts", u."src" DESC
          ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS "nxt"
      FROM (
        SELECT
          c."segsql_k",
          c."t1",
          c."t" AS "ts",
          0 AS "src"
        FROM (
          SELECT
            w."segsql_k",
            MAX(w."t1") AS "t1",
            w."nxt" AS "t"
          FROM (
            SELECT
              u."segsql_k",
              u."t1",
              u."src",
              MIN(CASE WHEN u."src" = 1 THEN u."ts" END) OVER (
                PARTITION BY u."segsql_k"
                ORDER BY u."ts", u."src" DESC
                ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
              ) AS "nxt"
            FROM (
              SELECT
                c."segsql_k",
                c."t1",
                c."t" AS "ts",
                0 AS "src"
              FROM (
                SELECT
                  x."segsql_k" AS "segsql_k",
                  x."ts" AS "t1",
                  x."ts" AS "t"
                FROM (
                  SELECT
                    ev."segsql_k" AS "segsql_k",
                    ev."segsql_ts" AS "ts"
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
                    ev."segsql_ts" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
                    AND ev."segsql_event" IN ('product_viewed')
                ) AS x
              ) AS c
              UNION ALL
              SELECT
                x."segsql_k",
                x."ts" AS "t1",
                x."ts",
                1 AS "src"
              FROM (
                SELECT
                  ev."segsql_k" AS "segsql_k",
                  ev."segsql_ts" AS "ts"
                FROM (
                  SELECT
                    "user_id" AS "segsql_k",
                    "event_name" AS "segsql_event",
                    "ts" AS "segsql_ts",
                    "platform"
                  FROM "main"."events"
                  UNION ALL
                  SELECT
                    "user_id" AS "segsql_k",
                    "event_name" AS "segsql_event",
                    "ts" AS "segsql_ts",
                    "platform"
                  FROM "main"."email_events"
                ) AS ev
                WHERE
                  ev."segsql_ts" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
                  AND ev."segsql_event" IN ('add_to_cart')
                  AND ev."platform" = 'web'
              ) AS x
            ) AS u
          ) AS w
          WHERE
            w."src" = 0 AND w."nxt" <= w."t1" + INTERVAL '1' HOUR
          GROUP BY
            w."segsql_k",
            w."nxt"
        ) AS c
        UNION ALL
        SELECT
          x."segsql_k",
          x."ts" AS "t1",
          x."ts",
          1 AS "src"
        FROM (
          SELECT
            ev."segsql_k" AS "segsql_k",
            ev."segsql_ts" AS "ts"
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
            ev."segsql_ts" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
            AND ev."segsql_event" IN ('checkout_completed')
        ) AS x
      ) AS u
    ) AS w
    WHERE
      w."src" = 0 AND w."nxt" <= w."t1" + INTERVAL '1' HOUR
    GROUP BY
      w."segsql_k",
      w."nxt"
  ) AS c
) AS _q1
  ON _q1."segsql_k" = _e."user_id"
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND NOT _q1."segsql_k" IS NULL
