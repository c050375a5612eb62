SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
LEFT JOIN (
  SELECT
    ev."segsql_k" AS "segsql_k",
    COUNT(
      CASE
        WHEN ev."segsql_event" IN ('email_opened') AND ev."segsql_ts" >= a1."anchor"
        THEN 1
      END
    ) AS "f1"
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
  LEFT JOIN (
    SELECT
      r."segsql_k",
      r."ts" AS "anchor"
    FROM (
      SELECT
        ev."segsql_k" AS "segsql_k",
        ev."segsql_ts" AS "ts",
        ROW_NUMBER() OVER (PARTITION BY ev."segsql_k" ORDER BY ev."segsql_ts" DESC) AS "rn"
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
        ev."segsql_ts" <= now64(6, 'UTC') AND ev."segsql_event" IN ('email_delivered')
    ) AS r
    WHERE
      r."rn" = 3
  ) AS a1
    ON a1."segsql_k" = ev."segsql_k"
  WHERE
    ev."segsql_ts" <= now64(6, 'UTC') AND ev."segsql_event" IN ('email_opened')
  GROUP BY
    ev."segsql_k"
) AS s2
  ON s2."segsql_k" = e."user_id"
LEFT JOIN (
  SELECT
    r."segsql_k",
    r."ts" AS "anchor"
  FROM (
    SELECT
      ev."segsql_k" AS "segsql_k",
      ev."segsql_ts" AS "ts",
      ROW_NUMBER() OVER (PARTITION BY ev."segsql_k" ORDER BY ev."segsql_ts" DESC) AS "rn"
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
      ev."segsql_ts" <= now64(6, 'UTC') AND ev."segsql_event" IN ('email_delivered')
  ) AS r
  WHERE
    r."rn" = 3
) AS a1
  ON a1."segsql_k" = e."user_id"
WHERE
  (
    e."signup_at" IS NULL OR e."signup_at" <= now64(6, 'UTC')
  )
  AND (
    NOT (
      a1."segsql_k" IS NULL
    ) AND COALESCE(s2."f1", 0) = 0
  )
SETTINGS join_use_nulls = 1
