SELECT
  e."account_id" AS "entity_id",
  FALSE AS "holdout"
FROM "MAIN"."ACCOUNTS" AS e
LEFT JOIN (
  SELECT
    c."parent" AS "segsql_k",
    COUNT(CASE WHEN c."ok" THEN 1 END) AS "n"
  FROM (
    SELECT
      e."user_id" AS "entity_id",
      COALESCE((
        COALESCE(s1."f1", 0) >= 1
      ), FALSE) AS "ok",
      e."account_id" AS "parent"
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
        AND ev."segsql_event" IN ('report_created')
        AND ev."segsql_ts" >= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '30 DAY'
      GROUP BY
        ev."segsql_k"
    ) AS s1
      ON s1."segsql_k" = e."user_id"
    WHERE
      NOT e."user_id" IS NULL
      AND (
        e."signup_at" IS NULL
        OR e."signup_at" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
      )
  ) AS c
  WHERE
    NOT c."parent" IS NULL
  GROUP BY
    c."parent"
) AS m1
  ON m1."segsql_k" = e."account_id"
WHERE
  NOT e."account_id" IS NULL AND (
    COALESCE(m1."n", 0) >= 2
  )
