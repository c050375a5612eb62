SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
LEFT JOIN (
  SELECT
    ev.`user_id` AS `segsql_k`,
    COUNT(*) AS `f1`
  FROM `main`.`email_events` AS ev
  WHERE
    ev.`ts` <= CURRENT_TIMESTAMP() AND ev.`event_name` IN ('email_opened')
  GROUP BY
    ev.`user_id`
) AS _s1
  ON _s1.`segsql_k` = _e.`user_id`
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_TIMESTAMP()
    )
  )
  AND (
    COALESCE(_s1.`f1`, 0) >= 1
  )
