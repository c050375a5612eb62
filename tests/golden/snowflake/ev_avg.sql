SELECT
  _e."USER_ID" AS "ENTITY_ID",
  FALSE AS "HOLDOUT"
FROM "MAIN"."USERS" AS _e
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
  AND (
    _s1."F1" > 50
  )
