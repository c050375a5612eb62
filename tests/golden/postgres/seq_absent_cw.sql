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
      MAX(x."ts") AS "t"
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
          ev."segsql_ts" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
          AND ev."segsql_event" IN ('signup')
      ) AS x
    ) AS c
    JOIN (
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
        ev."segsql_ts" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
        AND ev."segsql_event" IN ('setup_started')
    ) AS x
      ON x."segsql_k" = c."segsql_k"
      AND x."ts" > c."t"
      AND x."ts" <= c."t1" + INTERVAL '1 HOUR'
    GROUP BY
      c."segsql_k",
      c."t1"
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
        FROM "main"."events"
        UNION ALL
        SELECT
          "user_id" AS "segsql_k",
          "event_name" AS "segsql_event",
          "ts" AS "segsql_ts"
        FROM "main"."email_events"
      ) AS ev
      WHERE
        ev."segsql_ts" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
        AND ev."segsql_event" IN ('setup_completed')
    ) AS x
    GROUP BY
      x."segsql_k"
  ) AS z
    ON z."segsql_k" = c."segsql_k"
  WHERE
    z."t" IS NULL OR z."t" <= c."t"
) AS _q1
  ON _q1."segsql_k" = _e."user_id"
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)
    )
  )
  AND NOT _q1."segsql_k" IS NULL
