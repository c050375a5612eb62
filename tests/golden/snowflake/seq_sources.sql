SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT DISTINCT
    c."segsql_k"
  FROM (
    SELECT
      c."segsql_k",
      c."t1",
      MIN(x."ts") AS "t"
    FROM (
      SELECT
        x."segsql_k" AS "segsql_k",
        x."ts" AS "t1",
        x."ts" AS "t"
      FROM (
        SELECT
          x."segsql_k" AS "segsql_k",
          MIN(x."ts") AS "ts"
        FROM (
          SELECT
            ev."user_id" AS "segsql_k",
            ev."ts" AS "ts"
          FROM "MAIN"."EMAIL_EVENTS" AS ev
          WHERE
            ev."ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
            AND ev."event_name" IN ('email_clicked')
        ) AS x
        GROUP BY
          x."segsql_k"
      ) AS x
    ) AS c
    JOIN (
      SELECT
        ev."user_id" AS "segsql_k",
        ev."ts" AS "ts"
      FROM "MAIN"."EVENTS" AS ev
      WHERE
        ev."ts" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
        AND ev."event_name" IN ('order_completed')
    ) AS x
      ON x."segsql_k" = c."segsql_k" AND x."ts" > c."t"
    GROUP BY
      c."segsql_k",
      c."t1"
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
