SELECT
  _e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS _e
LEFT JOIN (
  SELECT
    a."SEGSQL_K" AS "SEGSQL_K",
    COUNT(ev."SEGSQL_TS") AS "F1"
  FROM (
    SELECT
      r."SEGSQL_K",
      r."TS" AS "ANCHOR"
    FROM (
      SELECT
        ev."SEGSQL_K" AS "SEGSQL_K",
        ev."SEGSQL_TS" AS "TS",
        ROW_NUMBER() OVER (PARTITION BY ev."SEGSQL_K" ORDER BY ev."SEGSQL_TS") AS "RN"
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
        NOT ev."SEGSQL_TS" IS NULL AND ev."SEGSQL_EVENT" IN ('email_delivered')
    ) AS r
    JOIN (
      SELECT
        ev."SEGSQL_K" AS "SEGSQL_K",
        COUNT(*) AS "N"
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
        AND ev."SEGSQL_EVENT" IN ('email_delivered')
      GROUP BY
        ev."SEGSQL_K"
    ) AS c
      ON r."SEGSQL_K" = c."SEGSQL_K" AND r."RN" = c."N" - 2
  ) AS a
  LEFT JOIN (
    SELECT
      ev."SEGSQL_K",
      ev."SEGSQL_EVENT",
      ev."SEGSQL_TS"
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
      AND ev."SEGSQL_EVENT" IN ('email_opened')
  ) AS ev
    ON ev."SEGSQL_K" = a."SEGSQL_K" AND ev."SEGSQL_TS" >= a."ANCHOR"
  GROUP BY
    a."SEGSQL_K"
) AS _s1
  ON _s1."SEGSQL_K" = _e."USER_ID"
WHERE
  (
    NOT _e."USER_ID" IS NULL
    AND (
      _e."SIGNUP_AT" IS NULL
      OR _e."SIGNUP_AT" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND NOT COALESCE((
    NOT _s1."SEGSQL_K" IS NULL AND COALESCE(_s1."F1", 0) = 0
  ), FALSE)
