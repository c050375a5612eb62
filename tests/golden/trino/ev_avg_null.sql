SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
LEFT JOIN (
  SELECT
    ev."user_id" AS "segsql_k",
    AVG(TRY_CAST(JSON_EXTRACT_SCALAR(ev."properties", '$.amount') AS DOUBLE)) AS "f1"
  FROM "main"."events" AS ev
  WHERE
    ev."ts" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    AND ev."event_name" IN ('order_completed')
  GROUP BY
    ev."user_id"
) AS s1
  ON s1."segsql_k" = e."user_id"
WHERE
  (
    NOT e."user_id" IS NULL
    AND (
      e."signup_at" IS NULL
      OR e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND (
    s1."f1" IS NULL
  )
