SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
LEFT JOIN (
  SELECT
    ev.`user_id` AS `segsql_k`,
    MIN(ev.`segsql_v1`) AS `f1`,
    MAX(ev.`segsql_v1`) AS `f2`
  FROM (
    SELECT
      ev.*,
      SAFE_CAST(JSON_EXTRACT_SCALAR(ev.`properties`, '$.amount') AS FLOAT64) AS `segsql_v1`
    FROM `main`.`events` AS ev
    WHERE
      ev.`ts` <= CURRENT_DATETIME('UTC') AND ev.`event_name` IN ('order_completed')
  ) AS ev
  GROUP BY
    ev.`user_id`
) AS _s1
  ON _s1.`segsql_k` = _e.`user_id`
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_DATETIME('UTC')
    )
  )
  AND (
    (
      _s1.`f1` >= 10
    ) AND (
      _s1.`f2` <= 100
    )
  )
