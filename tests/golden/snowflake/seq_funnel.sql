SELECT
  _e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS _e
LEFT JOIN (
  SELECT DISTINCT
    c."SEGSQL_K"
  FROM (
    SELECT
      w."SEGSQL_K",
      MAX(w."T1") AS "T1",
      w."NXT" AS "T"
    FROM (
      SELECT
        u."SEGSQL_K",
        u."T1",
        u."SRC",
        MIN(CASE WHEN u."SRC" = 1 THEN u."TS" END) OVER (
          PARTITION BY u."SEGSQL_K"
          ORDER BY u."TS", u."SRC" DESC NULLS LAST
          ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS "NXT"
      FROM (
        SELECT
          c."SEGSQL_K",
          c."T1",
          c."T" AS "TS",
          0 AS "SRC"
        FROM (
          SELECT
            w."SEGSQL_K",
            MAX(w."T1") AS "T1",
            w."NXT" AS "T"
          FROM (
            SELECT
              u."SEGSQL_K",
              u."T1",
              u."SRC",
              MIN(CASE WHEN u."SRC" = 1 THEN u."TS" END) OVER (
                PARTITION BY u."SEGSQL_K"
                ORDER BY u."TS", u."SRC" DESC NULLS LAST
                ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
              ) AS "NXT"
            FROM (
              SELECT
                c."SEGSQL_K",
                c."T1",
                c."T" AS "TS",
                0 AS "SRC"
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
                    AND ev."SEGSQL_EVENT" IN ('product_viewed')
                ) AS x
              ) AS c
              UNION ALL
              SELECT
                x."SEGSQL_K",
                x."TS" AS "T1",
                x."TS",
                1 AS "SRC"
              FROM (
                SELECT
                  ev."SEGSQL_K" AS "SEGSQL_K",
                  ev."SEGSQL_TS" AS "TS"
                FROM (
                  SELECT
                    "USER_ID" AS "SEGSQL_K",
                    "EVENT_NAME" AS "SEGSQL_EVENT",
                    "TS" AS "SEGSQL_TS",
                    "PLATFORM"
                  FROM "MAIN"."EVENTS"
                  UNION ALL
                  SELECT
                    "USER_ID" AS "SEGSQL_K",
                    "EVENT_NAME" AS "SEGSQL_EVENT",
                    "TS" AS "SEGSQL_TS",
                    "PLATFORM"
                  FROM "MAIN"."EMAIL_EVENTS"
                ) AS ev
                WHERE
                  ev."SEGSQL_TS" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
                  AND ev."SEGSQL_EVENT" IN ('add_to_cart')
                  AND ev."PLATFORM" = 'web'
              ) AS x
            ) AS u
          ) AS w
          WHERE
            w."SRC" = 0 AND w."NXT" <= w."T1" + INTERVAL '1 HOUR'
          GROUP BY
            w."SEGSQL_K",
            w."NXT"
        ) AS c
        UNION ALL
        SELECT
          x."SEGSQL_K",
          x."TS" AS "T1",
          x."TS",
          1 AS "SRC"
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
            AND ev."SEGSQL_EVENT" IN ('checkout_completed')
        ) AS x
      ) AS u
    ) AS w
    WHERE
      w."SRC" = 0 AND w."NXT" <= w."T1" + INTERVAL '1 HOUR'
    GROUP BY
      w."SEGSQL_K",
      w."NXT"
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
