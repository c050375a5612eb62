SELECT
  e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS e
LEFT JOIN (
  SELECT
    ev."USER_ID" AS "SEGSQL_K",
    AVG(
      CASE
        WHEN REGEXP_INSTR(
          JSON_EXTRACT_PATH_TEXT(ev."PROPERTIES", 'amount'),
          '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
        ) > 0
        THEN CAST(JSON_EXTRACT_PATH_TEXT(ev."PROPERTIES", 'amount') AS DOUBLE)
      END
    ) AS "F1"
  FROM "MAIN"."EVENTS" AS ev
  WHERE
    ev."TS" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    AND ev."EVENT_NAME" IN ('order_completed')
  GROUP BY
    ev."USER_ID"
) AS s1
  ON s1."SEGSQL_K" = e."USER_ID"
WHERE
  (
    NOT e."USER_ID" IS NULL
    AND (
      e."SIGNUP_AT" IS NULL
      OR e."SIGNUP_AT" <= CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP)
    )
  )
  AND (
    s1."F1" IS NULL
  )
