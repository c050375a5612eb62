SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
LEFT JOIN (
  SELECT
    a."segsql_k" AS "segsql_k",
    COUNT(ev."segsql_ts") AS "f1"
  FROM (
    SELECT
      r."segsql_k",
      r."ts" AS "anchor"
    FROM (
      SELECT
        ev."segsql_k" AS "segsql_k",
        ev."segsql_ts" AS "ts",
        ROW_NUMBER() OVER (PARTITION BY ev."segsql_k" ORDER BY ev."segsql_ts") AS "rn"
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
        NOT ev."segsql_ts" IS NULL AND ev."segsql_event" IN ('email_delivered')
    ) AS r
    JOIN (
      SELECT
        ev."segsql_k" AS "segsql_k",
        COUNT(*) AS "n"
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
        AND ev."segsql_event" IN ('email_delivered')
      GROUP BY
        ev."segsql_k"
    ) AS c
      ON r."segsql_k" = c."segsql_k" AND r."rn" = c."n" - 2
  ) AS a
  LEFT JOIN (
    SELECT
      ev."segsql_k",
      ev."segsql_event",
      ev."segsql_ts"
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
      AND ev."segsql_event" IN ('email_opened')
  ) AS ev
    ON ev."segsql_k" = a."segsql_k" AND ev."segsql_ts" >= a."anchor"
  GROUP BY
    a."segsql_k"
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
  AND NOT COALESCE((
    NOT _s1."segsql_k" IS NULL AND COALESCE(_s1."f1", 0) = 0
  ), FALSE)
