SELECT
  e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS e
LEFT JOIN (
  SELECT
    ev."user_id" AS "segsql_k",
    COUNT(
      CASE
        WHEN ev."event_name" IN ('order_completed')
        AND (
          JSONExtractString(ev."properties", 'category') = 'shoes'
          AND ev."platform" IN ('web', 'ios')
          AND NOT COALESCE(NOT (
            (
              JSONExtractString(ev."properties", 'coupon')
            ) IS NULL
          ), FALSE)
        )
        THEN 1
      END
    ) AS "f1"
  FROM "main"."events" AS ev
  WHERE
    ev."ts" <= CAST(now64(6, 'UTC') AS DateTime64(6))
    AND ev."event_name" IN ('order_completed')
  GROUP BY
    ev."user_id"
) AS s1
  ON s1."segsql_k" = e."user_id"
WHERE
  (
    e."signup_at" IS NULL OR e."signup_at" <= CAST(now64(6, 'UTC') AS DateTime64(6))
  )
  AND (
    COALESCE(s1."f1", 0) >= 1
  )
