SELECT
  _e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS _e
LEFT JOIN (
  SELECT DISTINCT
    c."SEGSQL_K"
  FROM (
    SELECT
      c."SEGSQL_K",
      c."T1",
      MAX(x."TS") AS "T"
    FROM (
      SELECT
        x."SEGSQL_K" AS "SEGSQL_K",
        x."TS" AS "T1",
        x."TS" AS "T"
      FROM (
        SELECT
          ev."SEGSQL_K" AS "SEGSQL_K",
          ev."SEGSQL_TS" AS "TS"
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
          AND ev."SEGSQL_EVENT" IN ('signup')
      ) AS x
    ) AS c
    JOIN (
      SELECT
        ev."SEGSQL_K" AS "SEGSQL_K",
        ev."SEGSQL_TS" AS "TS"
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
        AND ev."SEGSQL_EVENT" IN ('setup_started')
    ) AS x
      ON x."SEGSQL_K" = c."SEGSQL_K"
      AND x."TS" > c."T"
      AND x."TS" <= c."T1" + INTERVAL '1 HOUR'
    GROUP BY
      c."SEGSQL_K",
      c."T1"
  ) AS c
  LEFT JOIN (
    SELECT
      x."SEGSQL_K",
      MAX(x."TS") AS "T"
    FROM (
      SELECT
        ev."SEGSQL_K" AS "SEGSQL_K",
        ev."SEGSQL_TS" AS "TS"
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
        AND ev."SEGSQL_EVENT" IN ('setup_completed')
    ) AS x
    GROUP BY
      x."SEGSQL_K"
  ) AS z
    ON z."SEGSQL_K" = c."SEGSQL_K"
  WHERE
    z."T" IS NULL OR z."T" <= c."T"
) AS _q1
  ON _q1."SEGSQL_K" = _e."USER_ID"
WHERE
  (
    NOT _e."USER_ID" IS NULL
    AND (
      _e."SIGNUP_AT" IS NULL
      OR _e."SIGNUP_AT" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND NOT _q1."SEGSQL_K" IS NULL
