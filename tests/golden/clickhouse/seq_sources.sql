SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
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
          FROM "main"."email_events" AS ev
          WHERE
            ev."ts" <= now64(6, 'UTC') AND ev."event_name" IN ('email_clicked')
        ) AS x
        GROUP BY
          x."segsql_k"
      ) AS x
    ) AS c
    JOIN (
      SELECT
        ev."user_id" AS "segsql_k",
        ev."ts" AS "ts"
      FROM "main"."events" AS ev
      WHERE
        ev."ts" <= now64(6, 'UTC') AND ev."event_name" IN ('order_completed')
    ) AS x
      ON x."segsql_k" = c."segsql_k" AND x."ts" > c."t"
    GROUP BY
      c."segsql_k",
      c."t1"
  ) AS c
) AS _q1
  ON _q1."segsql_k" = _e."user_id"
WHERE
  (
    NOT (
      _e."user_id" IS NULL
    )
    AND (
      _e."signup_at" IS NULL OR _e."signup_at" <= now64(6, 'UTC')
    )
  )
  AND NOT (
    _q1."segsql_k" IS NULL
  )
SETTINGS join_use_nulls = 1
