SELECT
  _e."account_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."accounts" AS _e
LEFT JOIN (
  SELECT
    c."parent" AS "segsql_k",
    COUNT(CASE WHEN c."ok" THEN 1 END) AS "n"
  FROM (
    SELECT
      _e."user_id" AS "entity_id",
      COALESCE((
        COALESCE(_s1."f1", 0) >= 1
      ), FALSE) AS "ok",
      _e."account_id" AS "parent"
    FROM "main"."users" AS _e
    LEFT JOIN (
      SELECT
        ev."segsql_k" AS "segsql_k",
        COUNT(*) AS "f1"
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
        AND ev."segsql_event" IN ('report_created')
        AND ev."segsql_ts" >= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP) - INTERVAL '30' DAY
      GROUP BY
        ev."segsql_k"
    ) AS _s1
      ON _s1."segsql_k" = _e."user_id"
    WHERE
      NOT _e."user_id" IS NULL
      AND (
        _e."signup_at" IS NULL
        OR _e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
      )
  ) AS c
  WHERE
    NOT c."parent" IS NULL
  GROUP BY
    c."parent"
) AS _m1
  ON _m1."segsql_k" = _e."account_id"
WHERE
  NOT _e."account_id" IS NULL AND (
    COALESCE(_m1."n", 0) >= 2
  )
