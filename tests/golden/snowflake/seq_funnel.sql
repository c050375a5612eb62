SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
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
          ORDER BY u."ts", u."src" DESC NULLS LAST
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
                ORDER BY u."ts", u."src" DESC NULLS LAST
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
                  FROM "MAIN"."EVENTS"
                  UNION ALL
                  SELECT
                    "user_id" AS "segsql_k",
                    "event_name" AS "segsql_event",
                    "ts" AS "segsql_ts",
                    "platform"
                  FROM "MAIN"."EMAIL_EVENTS"
                ) AS ev
                WHERE
                  ev."segsql_ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
                  AND ev."segsql_event" IN ('add_to_cart')
                  AND ev."platform" = 'web'
              ) AS x
            ) AS u
          ) AS w
          WHERE
            w."src" = 0 AND w."nxt" <= w."t1" + INTERVAL '1 HOUR'
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
        ) AS x
      ) AS u
    ) AS w
    WHERE
      w."src" = 0 AND w."nxt" <= w."t1" + INTERVAL '1 HOUR'
    GROUP BY
      w."segsql_k",
      w."nxt"
  ) AS c
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
