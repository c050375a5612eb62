SELECT
  _e."ACCOUNT_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."ACCOUNTS" AS _e
LEFT JOIN (
  SELECT
    c."PARENT" AS "SEGSQL_K",
    COUNT(CASE WHEN c."OK" THEN 1 END) AS "N"
  FROM (
    SELECT
      _e."USER_ID" AS "ENTITY_ID",
      COALESCE((
        COALESCE(_s1."F1", 0) >= 1
      ), FALSE) AS "OK",
      _e."ACCOUNT_ID" AS "PARENT"
    FROM "MAIN"."USERS" AS _e
    LEFT JOIN (
      SELECT
        ev."SEGSQL_K" AS "SEGSQL_K",
        COUNT(*) AS "F1"
      FROM (
        SELECT
          "USER_ID" AS "SEGSQL_K",
          "EVENT_NAME" AS "SEGSQL_EVENT",
          "TS" AS "SEGSQL_TS"
        FROM "MAIN"."EVENTS"
        UNION ALL
        SELECT
          "USER_ID" AS "SEGSQL_K",
          "EVENT_NAME" AS "SEGSQL_EVENT",
          "TS" AS "SEGSQL_TS"
        FROM "MAIN"."EMAIL_EVENTS"
      ) AS ev
      WHERE
        ev."SEGSQL_TS" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
        AND ev."SEGSQL_EVENT" IN ('report_created')
        AND ev."SEGSQL_TS" >= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP) - INTERVAL '30 DAY'
      GROUP BY
        ev."SEGSQL_K"
    ) AS _s1
      ON _s1."SEGSQL_K" = _e."USER_ID"
    WHERE
      NOT _e."USER_ID" IS NULL
      AND (
        _e."SIGNUP_AT" IS NULL
        OR _e."SIGNUP_AT" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
      )
  ) AS c
  WHERE
    NOT c."PARENT" IS NULL
  GROUP BY
    c."PARENT"
) AS _m1
  ON _m1."SEGSQL_K" = _e."ACCOUNT_ID"
WHERE
  NOT _e."ACCOUNT_ID" IS NULL AND (
    COALESCE(_m1."N", 0) >= 2
  )
