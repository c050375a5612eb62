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
      MIN(x."TS") AS "T"
    FROM (
      SELECT
        x."SEGSQL_K" AS "SEGSQL_K",
        x."TS" AS "T1",
        x."TS" AS "T"
      FROM (
        SELECT
          x."SEGSQL_K" AS "SEGSQL_K",
          MIN(x."TS") AS "TS"
        FROM (
          SELECT
            ev."USER_ID" AS "SEGSQL_K",
            ev."TS" AS "TS"
          FROM "MAIN"."EMAIL_EVENTS" AS ev
          WHERE
            ev."TS" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
            AND ev."EVENT_NAME" IN ('email_clicked')
        ) AS x
        GROUP BY
          x."SEGSQL_K"
      ) AS x
    ) AS c
    JOIN (
      SELECT
        ev."USER_ID" AS "SEGSQL_K",
        ev."TS" AS "TS"
      FROM "MAIN"."EVENTS" AS ev
      WHERE
        ev."TS" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
        AND ev."EVENT_NAME" IN ('order_completed')
    ) AS x
      ON x."SEGSQL_K" = c."SEGSQL_K" AND x."TS" > c."T"
    GROUP BY
      c."SEGSQL_K",
      c."T1"
  ) AS c
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
